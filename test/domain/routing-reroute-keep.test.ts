import { expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/**
 * A change to a `reroute_on_change` field re-runs the rules, but a lead whose owner still belongs
 * to the target the rules now choose stays with them: a rep who corrects a deal's value does not
 * lose it to the next in the rotation. It moves when the outcome changes.
 */

const parsed = parseProcess(`name: Reroute keeps the owner
organisation: { timezone: UTC }
users:
  - { id: boss, name: Boss }
  - { id: a, name: A, capacity: { per_day: 1 } }
  - { id: b, name: B }
  - { id: c, name: C }
  - { id: k, name: K }
teams:
  - { id: mid, name: Mid, members: [a, b, c] }
  - { id: closers, name: Closers, members: [k] }
assignment:
  default_owner: boss
  reroute_on_change: [territory, value]
  rules:
    - { id: ent, when: { field: value, gte: 40000 }, to: { team: closers, strategy: least_open } }
    - { id: emea, when: { field: territory, eq: EMEA }, to: { team: mid, strategy: round_robin } }
pipelines:
  - { id: p, name: P, default: true, stages: [{ id: s1, name: S1 }] }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;

it('keeps the owner while the same rule and target apply, and moves the lead when they change', () => {
  let lead: LeadState | null = null;
  let routing: RoutingState = { users: {}, cursors: {} };
  const owners: (string | null)[] = [];
  const messages: string[] = [];
  const events: LeadEvent[] = [
    { type: 'lead.created', lead: 'R1', fields: { territory: 'EMEA', value: 20000 } },
    // Corrections that leave rule emea and team mid in charge: a keeps it (her daily cap of 1 is
    // reached, but she holds the lead already).
    { type: 'lead.updated', lead: 'R1', fields: { value: 21000 } },
    { type: 'lead.updated', lead: 'R1', fields: { value: 22000 } },
    // Now an enterprise deal: rule ent, the closers.
    { type: 'lead.updated', lead: 'R1', fields: { value: 50000 } },
    { type: 'lead.updated', lead: 'R1', fields: { value: 60000 } },
    // Back to mid: k is not a member, so the rotation picks the next after a.
    { type: 'lead.updated', lead: 'R1', fields: { value: 20000 } },
  ];
  events.forEach((event, i) => {
    const d = decide({
      process,
      processVersion: 1,
      lead,
      event,
      now: Date.UTC(2026, 2, 2, 9) + i * 3_600_000,
      routing,
    });
    if (!d.ok) throw new Error(d.error.message);
    lead = d.lead;
    routing = d.routing;
    owners.push(d.lead.owner);
    messages.push(...d.log.filter((l) => l.kind === 'assignment').map((l) => l.message));
  });
  expect(owners).toEqual(['a', 'a', 'a', 'k', 'k', 'b']);
  expect(messages).toEqual([
    'created: rule emea routed to a via team:mid/round_robin',
    'reroute on value: rule emea still routes via team:mid/round_robin: kept by owner a',
    'reroute on value: rule emea still routes via team:mid/round_robin: kept by owner a',
    'reroute on value: rule ent routed to k via team:closers/least_open; open leads: k 0',
    'reroute on value: rule ent still routes via team:closers/least_open: kept by owner k',
    'reroute on value: rule emea routed to b via team:mid/round_robin',
  ]);
  // Keeping the owner counts nothing against her caps.
  expect(routing.users['a']?.routedToday).toBe(1);
});
