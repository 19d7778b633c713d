import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, type Change, type DecideInput } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';
import type { Process } from '../../src/domain/process-schema.js';

const text = `name: Decide
organisation: { timezone: Europe/Berlin }
users:
  - { id: anna, name: Anna, email: anna@example.com }
  - { id: ben, name: Ben }
teams:
  - { id: t, name: T, manager: anna, members: [anna, ben] }
assignment:
  default_owner: anna
  rules: [{ id: all, to: { team: t } }]
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: s1
        name: S1
        goal: { task_done: call }
        tasks: [{ id: call, title: Call, due: { business_days: 1 } }]
      - id: s2
        name: S2
        goal: { all: [{ activity: meeting, min: 2 }, { field: budget, set: true }] }
        tasks: [{ id: prep, title: Prep, due: { days: 2 } }]
      - id: s3
        name: S3
        strict: true
        required_fields: [value]
        goal: { signal: signed }
      - id: s4
        name: S4
        on_enter: [{ congratulate: owner }]
    on_won: [{ congratulate: manager }]
`;
const parsed = parseProcess(text);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process: Process = parsed.process;

const T0 = Date.parse('2026-03-02T09:00:00Z');

function run(events: LeadEvent[]): { lead: LeadState | null; changes: Change[][]; refused: string[] } {
  let lead: LeadState | null = null;
  let routing: RoutingState = { users: {}, cursors: {} };
  const changes: Change[][] = [];
  const refused: string[] = [];
  events.forEach((event, i) => {
    const input: DecideInput = { process, processVersion: 1, lead, event, now: T0 + i * 3_600_000, routing };
    const frozen = structuredClone(input);
    const d = decide(input);
    expect(input).toEqual(frozen); // decide() never mutates its input
    expect(decide(structuredClone(frozen))).toEqual(d); // and is deterministic
    if (!d.ok) return void refused.push(d.error.code);
    lead = d.lead;
    routing = d.routing;
    changes.push(d.changes);
  });
  return { lead, changes, refused };
}

const created: LeadEvent = { type: 'lead.created', lead: 'L1', fields: { name: 'Acme' } };

describe('decide', () => {
  it('keeps an expected close typed as a date as that day in the organisation zone (Berlin), whoever types it', () => {
    const closeChanges = (cs: Change[] | undefined) =>
      (cs ?? []).flatMap((c) => (c.kind === 'field.changed' && c.field === 'expected_close' ? [[c.from, c.to]] : []));
    const { lead, changes } = run([
      { type: 'lead.created', lead: 'L1', fields: { expected_close: '2026-03-27' } },
      // Berlin moves to summer time on 29 March 2026: the 31st starts at +02:00.
      { type: 'lead.updated', lead: 'L1', fields: { expected_close: '2026-03-31' } },
      // The same day typed again is no change.
      { type: 'lead.updated', lead: 'L1', fields: { expected_close: '2026-03-31' } },
      { type: 'lead.updated', lead: 'L1', fields: { expected_close: '2026-04-02T10:00:00Z' } },
    ]);
    expect(changes.map(closeChanges)).toEqual([
      [[null, '2026-03-27T00:00:00+01:00']],
      [['2026-03-27T00:00:00+01:00', '2026-03-31T00:00:00+02:00']],
      [],
      [['2026-03-31T00:00:00+02:00', '2026-04-02T12:00:00+02:00']],
    ]);
    expect(lead?.fields['expected_close']).toBe('2026-04-02T12:00:00+02:00');
  });

  it('advances on a met goal, skipping nothing that was done', () => {
    const { lead, changes } = run([created, { type: 'task.completed', lead: 'L1', task: 'call' }]);
    expect(lead?.stay.stage).toBe('s2');
    const kinds = changes[1]?.map((c) => c.kind);
    expect(kinds).toEqual(['task.saved', 'stay.exited', 'stay.entered', 'task.saved']);
  });

  it('holds a strict stage until its required field is set, then advances on the signal', () => {
    const events: LeadEvent[] = [
      created,
      { type: 'task.completed', lead: 'L1', task: 'call' },
      { type: 'activity.logged', lead: 'L1', kind: 'meeting' },
      { type: 'lead.updated', lead: 'L1', fields: { budget: 'yes' } },
      { type: 'activity.logged', lead: 'L1', kind: 'meeting' },
      { type: 'signal.received', lead: 'L1', name: 'signed' },
    ];
    expect(run(events).lead?.stay.stage).toBe('s3');
    const withValue = run([...events, { type: 'lead.updated', lead: 'L1', fields: { value: 5000 } }]);
    expect(withValue.lead?.stay.stage).toBe('s4');
  });

  it('refuses to skip a strict stage unless an admin overrides, and records the override', () => {
    const skip: LeadEvent = { type: 'lead.moved', lead: 'L1', stage: 's4', override: false };
    expect(run([created, skip]).refused).toEqual(['gate_refused']);
    expect(run([created, { ...skip, override: true }]).refused).toEqual(['override_forbidden']);
    const admin = run([created, { ...skip, override: true, actor: { kind: 'admin', id: 'root' } }]);
    expect(admin.lead?.stay.stage).toBe('s4');
  });

  it('keeps invariants over random event sequences', () => {
    const event = fc.oneof(
      fc.constant<LeadEvent>({ type: 'task.completed', lead: 'L1', task: 'call' }),
      fc.constant<LeadEvent>({ type: 'task.completed', lead: 'L1', task: 'prep' }),
      fc.constant<LeadEvent>({ type: 'task.reopened', lead: 'L1', task: 'call' }),
      fc.constant<LeadEvent>({ type: 'activity.logged', lead: 'L1', kind: 'meeting' }),
      fc.constant<LeadEvent>({ type: 'signal.received', lead: 'L1', name: 'signed' }),
      fc
        .constantFrom('s1', 's2', 's3', 's4')
        .map<LeadEvent>((stage) => ({ type: 'lead.moved', lead: 'L1', stage, override: false })),
      fc.constant<LeadEvent>({ type: 'lead.updated', lead: 'L1', fields: { budget: 1, value: 10 } }),
      fc.constant<LeadEvent>({ type: 'lead.won', lead: 'L1' }),
      fc.constant<LeadEvent>({ type: 'lead.lost', lead: 'L1', reason: 'price' }),
      fc.constant<LeadEvent>({ type: 'lead.reopened', lead: 'L1' }),
      fc.constant<LeadEvent>({ type: 'lead.reassigned', lead: 'L1', owner: 'ben' }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 25 }), (events) => {
        const { lead, changes } = run([created, ...events]);
        const all = changes.flat();
        const entered = all.filter((c) => c.kind === 'stay.entered');
        const exited = all.filter((c) => c.kind === 'stay.exited');
        // Every stay but the last one was exited exactly once; the last is open unless closed.
        const open = lead?.status === 'open' ? 1 : 0;
        expect(exited).toHaveLength(entered.length - open);
        expect(new Set(exited.map((c) => (c.kind === 'stay.exited' ? c.stay.id : ''))).size).toBe(exited.length);
        // Open tasks belong to the current stay, unless someone reopened them.
        for (const t of lead?.tasks ?? [])
          if (t.status === 'open' && t.stayId !== lead?.stay.id) expect(t.completedAt).toBeNull();
        if (lead?.status !== 'open')
          expect(lead?.tasks.filter((t) => t.stayId === lead?.stay.id && t.status === 'open')).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
