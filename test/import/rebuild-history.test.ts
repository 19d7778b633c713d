import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../src/domain/process-schema.js';
import { rebuildStays, type RebuildInput, type Stamp } from '../../src/import/rebuild-history.js';
import { utc } from './support.js';

/** A time and the text a file would have written for it. */
const st = (iso: string): Stamp => ({ at: utc(iso), text: iso });

const pipeline = {
  id: 'hs',
  name: 'Sales Pipeline',
  stages: ['appointment', 'qualified', 'presentation', 'decision', 'contract'].map((id) => ({ id, name: id })),
} as unknown as Pipeline; // only ids and names are read

function rebuild(input: Partial<RebuildInput>): ReturnType<typeof rebuildStays> {
  return rebuildStays({
    leadId: 'hubspot:1',
    pipeline,
    current: 0,
    createdAt: st('2026-01-01T08:00'),
    currentEnteredAt: null,
    dated: [],
    closedAt: null,
    status: 'open',
    processVersion: 1,
    stallDays: () => 14,
    ...input,
  });
}

type Row = [stage: string, entered: string, exited: string | null, kind: string | null];
function stays(r: ReturnType<typeof rebuildStays>): Row[] {
  if (!r.ok) throw new Error(r.problems.join('; '));
  return r.stays.map((s) => [
    s.stage,
    new Date(s.enteredAt).toISOString().slice(0, 16),
    s.exitedAt === null ? null : new Date(s.exitedAt).toISOString().slice(0, 16),
    s.exitKind,
  ]);
}

describe('rebuildStays', () => {
  it('HubSpot per-stage dates: one stay per dated stage, back to back, the last one open', () => {
    const r = rebuild({
      current: 2,
      dated: [
        { index: 0, ...st('2026-01-01T08:00') },
        { index: 1, ...st('2026-01-12T10:00') },
        { index: 2, ...st('2026-02-01T11:30') },
      ],
    });
    expect(stays(r)).toEqual([
      ['appointment', '2026-01-01T08:00', '2026-01-12T10:00', 'moved'],
      ['qualified', '2026-01-12T10:00', '2026-02-01T11:30', 'moved'],
      ['presentation', '2026-02-01T11:30', null, null],
    ]);
    expect(r.ok && r.stays.map((s) => [s.id, s.seq])).toEqual([
      ['hubspot:1#1', 1],
      ['hubspot:1#2', 2],
      ['hubspot:1#3', 3],
    ]);
  });

  it('a won deal ends its last stay at the close date, as won; a lost one as lost', () => {
    const dated = [
      { index: 0, ...st('2025-12-01T08:00') },
      { index: 4, ...st('2026-01-30T09:00') },
    ];
    const won = rebuild({
      current: 4,
      dated,
      closedAt: st('2026-02-20T17:00'),
      status: 'won',
      createdAt: dated[0]!,
    });
    expect(stays(won)).toEqual([
      ['appointment', '2025-12-01T08:00', '2026-01-30T09:00', 'moved'],
      ['contract', '2026-01-30T09:00', '2026-02-20T17:00', 'won'],
    ]);
    const lost = rebuild({
      current: 4,
      dated,
      closedAt: st('2026-02-20T17:00'),
      status: 'lost',
      createdAt: dated[0]!,
    });
    expect(stays(lost).at(-1)?.[3]).toBe('lost');
  });

  it("Pipedrive's last stage change: the first stage from creation, the current one from the change", () => {
    const r = rebuild({ current: 2, createdAt: st('2026-01-05T08:15'), currentEnteredAt: st('2026-01-20T13:00') });
    expect(stays(r)).toEqual([
      ['appointment', '2026-01-05T08:15', '2026-01-20T13:00', 'moved'],
      ['presentation', '2026-01-20T13:00', null, null],
    ]);
    // Created in its stage (no change since): one stay from creation.
    expect(stays(rebuild({ current: 2, createdAt: st('2026-01-05T08:15') }))).toEqual([
      ['presentation', '2026-01-05T08:15', null, null],
    ]);
  });

  it('Maven engage and close dates: Engaging from the engage date to the close', () => {
    const engage = st('2016-10-20T00:00');
    const r = rebuild({
      current: 1,
      createdAt: engage,
      dated: [{ index: 1, ...engage }],
      closedAt: st('2017-03-01T00:00'),
      status: 'won',
    });
    expect(stays(r)).toEqual([['qualified', '2016-10-20T00:00', '2017-03-01T00:00', 'won']]);
  });

  it('a deal moved back: an earlier entry of a later stage is a stay; a later one is dropped with a warning', () => {
    const r = rebuild({
      current: 1,
      createdAt: st('2026-01-02T07:30'),
      dated: [
        { index: 0, ...st('2026-01-02T07:30') },
        { index: 1, ...st('2026-01-20T15:00') },
        { index: 2, ...st('2026-01-10T10:00') },
        { index: 3, ...st('2026-01-25T08:00') },
      ],
    });
    expect(stays(r)).toEqual([
      ['appointment', '2026-01-02T07:30', '2026-01-10T10:00', 'moved'],
      ['presentation', '2026-01-10T10:00', '2026-01-20T15:00', 'moved'],
      ['qualified', '2026-01-20T15:00', null, null],
    ]);
    expect(r.ok && r.warnings).toEqual(["the date entering decision is after the current stage's entry; ignored"]);
  });

  it('closing before entering the current stage is an error', () => {
    const r = rebuild({
      current: 2,
      dated: [{ index: 2, ...st('2026-02-01T00:00') }],
      closedAt: st('2026-01-15T00:00'),
      status: 'won',
    });
    // The message quotes the dates as the file wrote them, not as a UTC day.
    expect(r).toEqual({
      ok: false,
      problems: ['closes on "2026-01-15T00:00", before it entered presentation on "2026-02-01T00:00"'],
    });
  });

  it('stays are ordered by date, ties by stage, and the stall days come from each stage', () => {
    const r = rebuild({
      current: 1,
      createdAt: st('2026-01-01T08:00'),
      dated: [{ index: 1, ...st('2026-01-01T08:00') }],
      stallDays: (i) => (i === 1 ? 3 : 14),
    });
    expect(stays(r)).toEqual([['qualified', '2026-01-01T08:00', null, null]]);
    expect(r.ok && r.stays[0]?.stallDays).toBe(3);
  });
});
