import { expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/**
 * Work goes only to someone who takes it: a lead created with an inactive owner is refused, as a
 * reassignment to one is; a team task whose members are all away or inactive goes to the lead's
 * owner instead of to nobody, or when the owner is inactive too to the team's manager, and the run
 * log says so.
 */

const parsed = parseProcess(`name: Away and inactive
organisation: { timezone: Europe/Berlin }
users:
  - { id: olga, name: Olga }
  - id: c
    name: C
    out_of_office: [{ from: 2026-03-09, to: 2026-03-13 }]
  - { id: d, name: D, active: false }
  - { id: m, name: M }
  - { id: gone, name: Gone, active: false }
teams:
  - { id: t2, name: T2, members: [c, d] }
  - { id: t3, name: T3, manager: m, members: [c, d] }
  - { id: t4, name: T4, manager: gone, members: [c, d] }
assignment:
  default_owner: olga
  rules: []
pipelines:
  - id: p
    name: P
    default: true
    stages:
      - id: s1
        name: S1
        tasks:
          - { id: tt, title: TT, kind: todo, due: { days: 1 }, assignee: { team: t2 } }
      - id: s2
        name: S2
        tasks:
          - { id: tt, title: TT, kind: todo, due: { days: 1 }, assignee: { team: t2 } }
          - { id: t3task, title: T3, kind: todo, due: { days: 1 }, assignee: { team: t3 } }
          - { id: t4task, title: T4, kind: todo, due: { days: 1 }, assignee: { team: t4 } }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const empty = (): RoutingState => ({ users: {}, cursors: {} });

function create(event: LeadEvent, at: string): ReturnType<typeof decide> {
  return decide({ process, processVersion: 1, lead: null, event, now: Date.parse(at), routing: empty() });
}

it('refuses a new lead with an inactive owner, as lead reassign does', () => {
  const d = create({ type: 'lead.created', lead: 'X1', fields: {}, owner: 'd' }, '2026-03-16T09:00:00Z');
  expect(d.ok).toBe(false);
  if (!d.ok) expect(d.error.code).toBe('inactive_user');
  expect(create({ type: 'lead.created', lead: 'X1', fields: {}, owner: 'c' }, '2026-03-16T09:00:00Z').ok).toBe(true);
});

it("gives a team task to the lead's owner when every member is away or inactive, and logs it", () => {
  const d = create({ type: 'lead.created', lead: 'A1', fields: {} }, '2026-03-10T09:00:00Z');
  if (!d.ok) throw new Error(d.error.message);
  expect(d.lead.tasks.map((t) => [t.template, t.assignee])).toEqual([['tt', 'olga']]);
  expect(d.log.map((l) => l.message)).toContain(
    "task tt: nobody in team t2 is available (all away or inactive); assigned to the lead's owner olga",
  );
  // Once c is back, the team's own member takes it.
  const back = create({ type: 'lead.created', lead: 'A2', fields: {} }, '2026-03-16T09:00:00Z');
  if (!back.ok) throw new Error(back.error.message);
  expect(back.lead.tasks.map((t) => t.assignee)).toEqual(['c']);
});

it("passes over an inactive owner (a leaver's lead kept until reassigned) to the team's manager, or leaves the task unassigned", () => {
  // An imported lead keeps whatever owner it had, active or not; moving it on creates the tasks.
  const lead = create({ type: 'lead.created', lead: 'A3', fields: {} }, '2026-03-02T09:00:00Z');
  if (!lead.ok) throw new Error(lead.error.message);
  const state = { ...lead.lead, owner: 'd' };
  const d = decide({
    process,
    processVersion: 1,
    lead: state,
    event: { type: 'lead.moved', lead: 'A3', stage: 's2', override: false },
    now: Date.parse('2026-03-10T09:00:00Z'),
    routing: empty(),
  });
  if (!d.ok) throw new Error(d.error.message);
  const fresh = d.lead.tasks.filter((t) => t.stayId === d.lead.stay.id);
  expect(fresh.map((t) => [t.template, t.assignee])).toEqual([
    ['tt', null],
    ['t3task', 'm'],
    ['t4task', null],
  ]);
  expect(d.log.map((l) => l.message)).toEqual(
    expect.arrayContaining([
      "task tt: nobody in team t2 is available (all away or inactive); left unassigned: the lead's owner d is inactive and the team has no manager",
      "task t3task: nobody in team t3 is available (all away or inactive); the lead's owner d is inactive; assigned to the team's manager m",
      "task t4task: nobody in team t4 is available (all away or inactive); left unassigned: the lead's owner d is inactive and its manager gone is inactive",
    ]),
  );
});
