import { expect, it } from 'vitest';
import { decide, type Decision } from '../../src/domain/decide.js';
import type { EngineEvent } from '../../src/domain/events.js';
import type { LeadState, RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

// Katrin manages EMEA and carries her own book, as in the example process.
const parsed = parseProcess(`name: Coach
organisation: { timezone: UTC, overdue_after_hours: 1 }
users:
  - { id: katrin, name: Katrin, email: katrin@example.com }
  - { id: tom, name: Tom, email: tom@example.com }
teams:
  - { id: emea, name: EMEA, manager: katrin, members: [katrin, tom] }
assignment: { default_owner: katrin, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages: [{ id: s1, name: S1, tasks: [{ id: call, title: Call, due: { hours: 1 } }] }]
    on_won: [{ congratulate: owner }, { congratulate: manager }]
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const T0 = Date.UTC(2026, 2, 2, 9);

function run(owner: string): Decision[] {
  let lead: LeadState | null = null;
  let routing: RoutingState = { users: {}, cursors: {} };
  const events: [EngineEvent, number][] = [
    [{ type: 'lead.created', lead: 'L', fields: { name: 'Acme' }, owner }, T0],
    [{ type: 'task.overdue', lead: 'L', task: 'L#1:call' }, T0 + 3 * 3_600_000],
    [{ type: 'lead.won', lead: 'L' }, T0 + 4 * 3_600_000],
  ];
  return events.map(([event, now]) => {
    const d = decide({ process, processVersion: 1, lead, event, now, routing });
    if (!d.ok) throw new Error(d.error.message);
    lead = d.lead;
    routing = d.routing;
    return d;
  });
}

const payloads = (d: Decision | undefined, kind: string): Record<string, unknown>[] =>
  d?.ok ? d.effects.filter((e) => e.kind === kind).map((e) => e.payload) : [];

it("alerts and congratulates a rep's manager", () => {
  const [, overdue, won] = run('tom');
  expect(payloads(overdue, 'task.overdue')).toMatchObject([{ user: 'tom', manager: 'katrin' }]);
  expect(payloads(won, 'congratulate').map((p) => p['user'])).toEqual(['tom', 'katrin']);
});

it('treats a player-coach as nobody’s report in her own team: one alert, one congratulation', () => {
  const [, overdue, won] = run('katrin');
  expect(payloads(overdue, 'task.overdue')).toMatchObject([{ user: 'katrin', manager: null }]);
  expect(payloads(won, 'congratulate').map((p) => p['user'])).toEqual(['katrin']);
  expect(won?.log.map((e) => e.message)).toContain('congratulate manager skipped: nobody to congratulate');
});
