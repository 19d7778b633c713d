import { describe, expect, it } from 'vitest';
import { decide, type DecideInput, type LogEntry } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/**
 * Strict stages hold every route forward, not only a move within the pipeline: a reopen into a
 * later stage, and a move into another pipeline past its strict stages (the bypasses a reviewer
 * found: lose and reopen further on, or go through another pipeline and come back).
 */

const parsed = parseProcess(`name: Gates
organisation: { timezone: Europe/Berlin }
users:
  - { id: anna, name: Anna }
teams:
  - { id: t, name: T, manager: anna, members: [anna] }
assignment:
  default_owner: anna
  rules: []
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: s1, name: S1 }
      - { id: s2, name: S2, strict: true, required_fields: [value] }
      - { id: s3, name: S3 }
  - id: rn
    name: Renewals
    stages:
      - { id: r1, name: R1 }
      - { id: r2, name: R2 }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const admin = { kind: 'admin', id: 'root' } as const;

interface Run {
  lead: LeadState | null;
  refused: { code: string; message: string }[];
  log: LogEntry[];
}

function run(events: LeadEvent[]): Run {
  let lead: LeadState | null = null;
  let routing: RoutingState = { users: {}, cursors: {} };
  const refused: Run['refused'] = [];
  let log: LogEntry[] = [];
  events.forEach((event, i) => {
    const input: DecideInput = {
      process,
      processVersion: 1,
      lead,
      event,
      now: Date.UTC(2026, 2, 2) + i * 3_600_000,
      routing,
    };
    const d = decide(input);
    if (!d.ok) return void refused.push({ code: d.error.code, message: d.error.message });
    lead = d.lead;
    routing = d.routing;
    log = d.log;
  });
  return { lead, refused, log };
}

const created: LeadEvent = { type: 'lead.created', lead: 'L', fields: {} };
const lost: LeadEvent = { type: 'lead.lost', lead: 'L', reason: 'no budget' };
const moveTo = (stage: string, pipeline?: string): Extract<LeadEvent, { type: 'lead.moved' }> => ({
  type: 'lead.moved',
  lead: 'L',
  stage,
  override: false,
  ...(pipeline ? { pipeline } : {}),
});

describe('strict stages on reopen', () => {
  it('refuses a reopen past a strict stage the lead never finished, unless an admin overrides', () => {
    const reopen: LeadEvent = { type: 'lead.reopened', lead: 'L', stage: 's3' };
    const byRep = run([created, lost, reopen]);
    expect(byRep.refused).toEqual([
      {
        code: 'gate_refused',
        message: 'stage "s2" is strict: cannot move to "s3" because it would skip strict stage "s2"',
      },
    ]);
    expect(byRep.lead?.status).toBe('lost');
    expect(run([created, lost, { ...reopen, override: true }]).refused.map((r) => r.code)).toEqual([
      'override_forbidden',
    ]);
    const byAdmin = run([created, lost, { ...reopen, override: true, actor: admin }]);
    expect(byAdmin.refused).toEqual([]);
    expect(byAdmin.lead?.stay.stage).toBe('s3');
    expect(byAdmin.log.filter((e) => e.kind === 'gate').map((e) => e.message)).toEqual([
      'admin root overrode gate of s2: it would skip strict stage "s2"',
    ]);
  });

  it('refuses to reopen a lead lost in a strict stage into a later one while the stage holds it', () => {
    const inS2 = [created, moveTo('s2'), lost];
    expect(run([...inS2, { type: 'lead.reopened', lead: 'L', stage: 's3' }]).refused[0]?.message).toBe(
      'stage "s2" is strict: cannot move to "s3" because required field value not set',
    );
    // Back into the stage it closed in, or an earlier one, is never held.
    expect(run([...inS2, { type: 'lead.reopened', lead: 'L' }]).lead?.stay.stage).toBe('s2');
    expect(run([...inS2, { type: 'lead.reopened', lead: 'L', stage: 's1' }]).lead?.stay.stage).toBe('s1');
  });

  it('lets a lead that passed the strict stage reopen where it closed', () => {
    const passed = run([
      created,
      moveTo('s2'),
      { type: 'lead.updated', lead: 'L', fields: { value: 900 } },
      moveTo('s3'),
      lost,
      { type: 'lead.reopened', lead: 'L' },
    ]);
    expect(passed.refused).toEqual([]);
    expect(passed.lead?.stay.stage).toBe('s3');
  });

  it('holds a reopen into another pipeline past its strict stages', () => {
    const inRenewals = [created, moveTo('r2', 'rn'), lost];
    expect(
      run([...inRenewals, { type: 'lead.reopened', lead: 'L', pipeline: 'nb', stage: 's3' }]).refused[0]?.code,
    ).toBe('gate_refused');
    expect(
      run([...inRenewals, { type: 'lead.reopened', lead: 'L', pipeline: 'nb', stage: 's2' }]).lead?.stay.stage,
    ).toBe('s2');
  });
});

describe('strict stages on a move between pipelines', () => {
  it('refuses a move into another pipeline past its strict stage, so a detour cannot skip it', () => {
    const detour = run([created, moveTo('r2', 'rn'), moveTo('s3', 'nb')]);
    expect(detour.refused).toEqual([
      {
        code: 'gate_refused',
        message: 'stage "s2" is strict: cannot move to "s3" because it would skip strict stage "s2"',
      },
    ]);
    expect(detour.lead?.pipeline).toBe('rn');
    // Into the strict stage itself, or before it, is no skip.
    expect(run([created, moveTo('r2', 'rn'), moveTo('s2', 'nb')]).lead?.stay.stage).toBe('s2');
    const byAdmin = run([created, moveTo('r2', 'rn'), { ...moveTo('s3', 'nb'), override: true, actor: admin }]);
    expect(byAdmin.lead?.stay.stage).toBe('s3');
  });

  it('refuses to leave a strict stage that holds the lead for another pipeline, even at its first stage', () => {
    const held = [created, moveTo('s2')];
    for (const stage of ['r1', 'r2']) {
      const r = run([...held, moveTo(stage, 'rn')]);
      expect(r.refused).toEqual([
        {
          code: 'gate_refused',
          message: `stage "s2" is strict: cannot move to "${stage}" because required field value not set`,
        },
      ]);
      expect(r.lead?.stay.stage).toBe('s2');
    }
    // Its exit met, or by an admin's override, the lead may go.
    const withValue = run([...held, { type: 'lead.updated', lead: 'L', fields: { value: 900 } }, moveTo('r2', 'rn')]);
    expect(withValue.lead?.stay.stage).toBe('r2');
    expect(run([...held, { ...moveTo('r2', 'rn'), override: true, actor: admin }]).lead?.stay.stage).toBe('r2');
    // From a stage that is not strict, nothing holds it.
    expect(run([created, moveTo('r2', 'rn')]).lead?.stay.stage).toBe('r2');
  });

  it('names an automation, not the event actor, when a gate holds its move', () => {
    const p = parseProcess(`name: Auto
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - { id: s1, name: S1, goal: { field: go, set: true } }
      - { id: s2, name: S2, on_enter: [{ move: s4 }] }
      - { id: s3, name: S3, strict: true, required_fields: [value] }
      - { id: s4, name: S4 }
`);
    if (!p.ok) throw new Error(JSON.stringify(p.problems));
    let lead: LeadState | null = null;
    let log: LogEntry[] = [];
    const routing: RoutingState = { users: {}, cursors: {} };
    for (const event of [created, { type: 'lead.updated', lead: 'L', fields: { go: true } }] as LeadEvent[]) {
      const d = decide({ process: p.process, processVersion: 1, lead, event, now: Date.UTC(2026, 2, 2), routing });
      if (!d.ok) throw new Error(d.error.message);
      lead = d.lead;
      log = d.log;
    }
    expect(log.filter((e) => e.kind === 'gate').map((e) => e.message)).toEqual([
      'refused automation s2.on_enter[0] move: it would skip strict stage "s3"',
    ]);
  });
});
