import { expect, it } from 'vitest';
import { decide, type Change } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

const parsed = parseProcess(`name: Order
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - { id: s1, name: S1, goal: { field: go, set: true } }
      - { id: s2, name: S2 }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const routing: RoutingState = { users: {}, cursors: {} };
const MAR_3 = Date.parse('2026-03-03T10:00:00Z');

it('handles an event dated before the lead entered its stage as of that entry, and says so', () => {
  const created = decide({
    process,
    processVersion: 1,
    lead: null,
    event: { type: 'lead.created', lead: 'L', fields: {} },
    now: MAR_3,
    routing,
  });
  if (!created.ok) throw new Error(created.error.message);
  const early: LeadEvent = { type: 'lead.updated', lead: 'L', fields: { go: true } };
  const d = decide({
    process,
    processVersion: 1,
    lead: created.lead,
    event: early,
    now: Date.parse('2026-01-01T00:00:00Z'),
    routing,
  });
  if (!d.ok) throw new Error(d.error.message);
  const exited = d.changes.find((c): c is Extract<Change, { kind: 'stay.exited' }> => c.kind === 'stay.exited');
  // The stay in s1 ends when it began, never before; the next one starts then too.
  expect(exited?.exitedAt).toBe(MAR_3);
  expect((d.lead as LeadState).stay).toMatchObject({ stage: 's2', enteredAt: MAR_3 });
  expect(d.log[0]?.message).toBe(
    "dated 2026-01-01T00:00:00.000Z, before the lead's last change at 2026-03-03T10:00:00.000Z: handled as of then",
  );
  // In order, nothing is said.
  const onTime = decide({ process, processVersion: 1, lead: created.lead, event: early, now: MAR_3 + 1000, routing });
  expect(onTime.ok && onTime.log.some((e) => e.message.startsWith('dated'))).toBe(false);
});
