import { expect, it } from 'vitest';
import { routeLead } from '../../src/domain/assignment.js';
import { evaluate, sameToConditions } from '../../src/domain/conditions.js';
import { decide } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/**
 * A web form's or spreadsheet's "EMEA " (a stray space) is the territory EMEA to a person, so
 * conditions, pools and re-routing compare text without regard to surrounding spaces as they do
 * to letter case: such a lead is routed by the EMEA rule, not dropped with the default owner.
 */

const parsed = parseProcess(`name: Spaces
organisation: { timezone: UTC }
users:
  - { id: katrin, name: Katrin, territories: [EMEA] }
  - { id: tom, name: Tom, territories: [EMEA], products: [Core] }
  - { id: ines, name: Ines }
teams:
  - { id: emea, name: EMEA, members: [katrin, tom] }
assignment:
  default_owner: ines
  reroute_on_change: [territory]
  rules:
    - { id: core, when: { field: segment, eq: core }, to: { pool: { territory: true, product: true }, strategy: round_robin } }
    - { id: emea, when: { field: territory, in: [EMEA] }, to: { team: emea, strategy: round_robin } }
pipelines:
  - { id: nb, name: NB, default: true, stages: [{ id: s1, name: S1 }] }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const empty = (): RoutingState => ({ users: {}, cursors: {} });
const now = Date.UTC(2026, 2, 2, 10);

it('routes a territory typed with stray spaces by the rule and pool it names', () => {
  expect(routeLead(process, { territory: 'EMEA ' }, empty(), now)).toMatchObject({ rule: 'emea', owner: 'katrin' });
  expect(routeLead(process, { territory: ' emea' }, empty(), now)).toMatchObject({ rule: 'emea' });
  // The pool matches the reps' territories and products through the spaces too, and keeps one rotation.
  const routing = empty();
  const a = routeLead(process, { segment: ' Core ', territory: 'EMEA ', product: ' Core' }, routing, now);
  const b = routeLead(process, { segment: 'core', territory: 'emea', product: 'CORE' }, routing, now);
  expect([a.rule, a.owner, b.rule, b.owner]).toEqual(['core', 'tom', 'core', 'tom']);
  expect(Object.keys(routing.cursors)).toHaveLength(1);
});

it('compares text in conditions without regard to surrounding spaces, and spaces alone are not set', () => {
  const fields = { territory: ' EMEA  ', blank: '   ' };
  expect(evaluate({ field: 'territory', eq: 'emea' }, { fields })).toBe(true);
  expect(evaluate({ field: 'territory', ne: 'EMEA' }, { fields })).toBe(false);
  expect(evaluate({ field: 'blank', set: false }, { fields })).toBe(true);
  expect(sameToConditions('EMEA', 'EMEA ')).toBe(true);
  expect(sameToConditions('EMEA', 'APAC')).toBe(false);
});

it('does not re-route when a territory only gains or loses surrounding spaces', () => {
  let lead: LeadState | null = null;
  let routing = empty();
  const owners: (string | null)[] = [];
  const events: LeadEvent[] = [
    { type: 'lead.created', lead: 'L', fields: { territory: 'EMEA ' } },
    ...['EMEA', ' emea ', 'APAC'].map<LeadEvent>((territory) => ({
      type: 'lead.updated',
      lead: 'L',
      fields: { territory },
    })),
  ];
  events.forEach((event, i) => {
    const d = decide({ process, processVersion: 1, lead, event, now: now + i * 60_000, routing });
    if (!d.ok) throw new Error(d.error.message);
    lead = d.lead;
    routing = d.routing;
    owners.push(d.lead.owner);
  });
  expect(owners).toEqual(['katrin', 'katrin', 'katrin', 'ines']);
});
