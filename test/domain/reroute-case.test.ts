import { expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

const parsed = parseProcess(`name: Reroute
organisation: { timezone: UTC }
users:
  - { id: katrin, name: Katrin }
  - { id: tom, name: Tom }
  - { id: ines, name: Ines }
teams:
  - { id: emea, name: EMEA, members: [katrin, tom] }
assignment:
  default_owner: ines
  reroute_on_change: [territory]
  rules: [{ id: emea, when: { field: territory, eq: EMEA }, to: { team: emea, strategy: round_robin } }]
pipelines:
  - { id: nb, name: NB, default: true, stages: [{ id: s1, name: S1 }] }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;

it('re-routes on a change the rules can see, not on a change of letter case alone', () => {
  let lead: LeadState | null = null;
  let routing: RoutingState = { users: {}, cursors: {} };
  const owners: (string | null)[] = [];
  const fieldChanges: number[] = [];
  const events: LeadEvent[] = [
    { type: 'lead.created', lead: 'L', fields: { territory: 'EMEA' } },
    ...['Emea', 'emea', 'EMEA', 'APAC', 'EMEA'].map<LeadEvent>((territory) => ({
      type: 'lead.updated',
      lead: 'L',
      fields: { territory },
    })),
  ];
  events.forEach((event, i) => {
    const d = decide({ process, processVersion: 1, lead, event, now: Date.UTC(2026, 2, 2) + i * 60_000, routing });
    if (!d.ok) throw new Error(d.error.message);
    lead = d.lead;
    routing = d.routing;
    owners.push(d.lead.owner);
    fieldChanges.push(d.changes.filter((c) => c.kind === 'field.changed').length);
  });
  // The spelling is recorded each time; the owner changes only when the territory really does.
  expect(fieldChanges).toEqual([1, 1, 1, 1, 1, 1]);
  expect(owners).toEqual(['katrin', 'katrin', 'katrin', 'katrin', 'ines', 'tom']);
});
