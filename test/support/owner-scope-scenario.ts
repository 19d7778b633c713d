import type { LeadEvent } from '../../src/domain/events.js';
import { Engine } from '../../src/engine/engine.js';
import { takePeriodStartSnapshots } from '../../src/engine/forecast-scheduler.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { setQuota, type QuotaScope } from '../../src/store/quotas.js';

/**
 * Two teams working September to November 2026, seen on 2026-12-10: the data of the tests that a
 * report limited to some owners (a manager's reach, `--team`) computes its figures over those
 * owners only (test/reports/owner-scope, test/http/report-scope, test/cli/report-team).
 *
 * The people are those of test/support/http.ts (admin, mgr-a and mgr-b managing team-a and
 * team-b, two reps each), so the HTTP server's accounts match. Pipeline nb: qualify (p 0.1, its
 * goal the call task), propose (historical probability, the ask stage), negotiate (p 0.6).
 *
 *   lead  owner   product source    territory value  story
 *   A1    rep-a1  alpha   web       north      1000   created 09-05, call done, negotiate, won 10-20
 *   A2    rep-a1  beta    referral  north       500   created 10-02, call late, negotiate, won 10-28
 *   A3    rep-a2  alpha   web       north      2000   created 10-05, commit, close date pushed twice, won 11-28
 *   A4    rep-a2  beta    web       north       300   created 10-10, lost 10-25 in qualify
 *   A5    rep-a1  alpha   referral  north       700   created 11-02, open in qualify (stalled), exp 12-15
 *   A6    rep-a2  alpha   web       north      1000   created 11-10, open in propose, exp 12-05
 *   B1    rep-b1  alpha   web       south      4000   created 09-06, lost 10-22 in propose
 *   B2    rep-b1  alpha   web       south       800   created 10-03, won 10-24 in propose
 *   B3    rep-b2  beta    referral  south      1500   created 10-06, negotiate, close date pulled, won 11-15
 *   B4    rep-b2  alpha   web       south       250   created 10-12, lost 10-30 in qualify
 *   B5    rep-b1  beta    web       south       900   created 11-03, open in qualify, exp 12-20
 *
 * Period-start snapshots are taken on 10-01, 11-01 and 12-01 (the scheduler's tick); November
 * quotas: rep-a1 2000, rep-b1 1000, team-a 3000, team-b 5000.
 *
 * EXTRA_EVENTS (the HTTP test only) add a lead of mgr-a's own (M1, product gamma, won 10-29), a
 * lead of the admin's (X1, no team's) and R1, created by rep-b1, worked by rep-b1 (call done) and
 * then handed over to rep-a1: its earlier work stays rep-b1's.
 */

export const SCOPE_PROCESS = `name: Owner scope
organisation: { timezone: UTC }
users:
  - { id: admin, name: Ada Admin }
  - { id: mgr-a, name: Mia Manager }
  - { id: mgr-b, name: Max Manager }
  - { id: rep-a1, name: Anna A1 }
  - { id: rep-a2, name: Arno A2 }
  - { id: rep-b1, name: Bea B1 }
  - { id: rep-b2, name: Ben B2 }
teams:
  - { id: team-a, name: Team A, manager: mgr-a, members: [rep-a1, rep-a2] }
  - { id: team-b, name: Team B, manager: mgr-b, members: [rep-b1, rep-b2] }
assignment:
  default_owner: admin
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        probability: 0.1
        guidance: Call within a day.
        goal: { task_done: call }
        tasks:
          - { id: call, title: Discovery call, kind: call, due: { days: 1 } }
      - { id: propose, name: Propose, ask: true, guidance: Send the proposal. }
      - { id: negotiate, name: Negotiate, probability: 0.6 }
`;

export const TEAM_A = ['rep-a1', 'rep-a2'] as const;
export const TEAM_B = ['rep-b1', 'rep-b2'] as const;
export const NAMES: Record<string, string> = {
  admin: 'Ada Admin',
  'mgr-a': 'Mia Manager',
  'mgr-b': 'Max Manager',
  'rep-a1': 'Anna A1',
  'rep-a2': 'Arno A2',
  'rep-b1': 'Bea B1',
  'rep-b2': 'Ben B2',
};

export const SCOPE_NOW = Date.parse('2026-12-10T12:00:00Z');
const START = Date.parse('2026-09-01T00:00:00Z');
const SNAPSHOTS = ['2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'];

type Timed = readonly [string, LeadEvent];

const create = (lead: string, owner: string, fields: Record<string, string | number>): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields,
});
const call = (lead: string): LeadEvent => ({ type: 'task.completed', lead, task: 'call' });
const move = (lead: string, stage: string): LeadEvent => ({ type: 'lead.moved', lead, stage, override: false });
const won = (lead: string): LeadEvent => ({ type: 'lead.won', lead });
const lost = (lead: string): LeadEvent => ({ type: 'lead.lost', lead, reason: 'no budget' });
const closeDate = (lead: string, date: string): LeadEvent => ({
  type: 'lead.updated',
  lead,
  fields: { expected_close: date },
});
const activity = (lead: string, by: string): LeadEvent => ({
  type: 'activity.logged',
  lead,
  kind: 'call',
  actor: { kind: 'user', id: by },
});
const north = (product: string, source: string, value: number, extra: Record<string, string | number> = {}) => ({
  product,
  source,
  territory: 'north',
  value,
  ...extra,
});
const south = (product: string, source: string, value: number, extra: Record<string, string | number> = {}) => ({
  product,
  source,
  territory: 'south',
  value,
  ...extra,
});

export const SCOPE_EVENTS: readonly Timed[] = [
  ['2026-09-05T10:00:00Z', create('A1', 'rep-a1', north('alpha', 'web', 1000, { expected_close: '2026-10-20' }))],
  ['2026-09-05T11:00:00Z', call('A1')],
  ['2026-09-06T10:00:00Z', create('B1', 'rep-b1', south('alpha', 'web', 4000, { expected_close: '2026-10-15' }))],
  ['2026-09-06T11:00:00Z', call('B1')],
  ['2026-09-11T10:00:00Z', move('A1', 'negotiate')],
  ['2026-10-02T10:00:00Z', create('A2', 'rep-a1', north('beta', 'referral', 500, { expected_close: '2026-10-30' }))],
  ['2026-10-03T10:00:00Z', create('B2', 'rep-b1', south('alpha', 'web', 800, { expected_close: '2026-10-25' }))],
  ['2026-10-03T11:00:00Z', call('B2')],
  ['2026-10-04T12:00:00Z', call('A2')],
  [
    '2026-10-05T10:00:00Z',
    create('A3', 'rep-a2', north('alpha', 'web', 2000, { expected_close: '2026-11-10', forecast_category: 'commit' })),
  ],
  ['2026-10-05T11:00:00Z', call('A3')],
  ['2026-10-06T10:00:00Z', create('B3', 'rep-b2', south('beta', 'referral', 1500, { expected_close: '2026-11-20' }))],
  ['2026-10-06T11:00:00Z', call('B3')],
  ['2026-10-07T10:00:00Z', move('B3', 'negotiate')],
  ['2026-10-10T10:00:00Z', create('A4', 'rep-a2', north('beta', 'web', 300))],
  ['2026-10-12T10:00:00Z', create('B4', 'rep-b2', south('alpha', 'web', 250))],
  ['2026-10-20T10:00:00Z', won('A1')],
  ['2026-10-22T10:00:00Z', lost('B1')],
  ['2026-10-24T10:00:00Z', won('B2')],
  ['2026-10-25T10:00:00Z', lost('A4')],
  ['2026-10-26T10:00:00Z', move('A3', 'negotiate')],
  ['2026-10-27T10:00:00Z', move('A2', 'negotiate')],
  ['2026-10-28T10:00:00Z', won('A2')],
  ['2026-10-30T10:00:00Z', lost('B4')],
  ['2026-11-02T10:00:00Z', create('A5', 'rep-a1', north('alpha', 'referral', 700, { expected_close: '2026-12-15' }))],
  ['2026-11-03T10:00:00Z', create('B5', 'rep-b1', south('beta', 'web', 900, { expected_close: '2026-12-20' }))],
  ['2026-11-05T10:00:00Z', closeDate('A3', '2026-12-10')],
  ['2026-11-06T10:00:00Z', closeDate('A3', '2026-12-15')],
  ['2026-11-07T10:00:00Z', closeDate('B3', '2026-11-14')],
  ['2026-11-10T10:00:00Z', create('A6', 'rep-a2', north('alpha', 'web', 1000, { expected_close: '2026-12-05' }))],
  ['2026-11-10T11:00:00Z', call('A6')],
  ['2026-11-15T10:00:00Z', won('B3')],
  ['2026-11-20T10:00:00Z', activity('A5', 'rep-a1')],
  ['2026-11-25T10:00:00Z', activity('B5', 'rep-b1')],
  ['2026-11-28T10:00:00Z', won('A3')],
];

export const EXTRA_EVENTS: readonly Timed[] = [
  ['2026-10-14T10:00:00Z', create('R1', 'rep-b1', south('alpha', 'web', 600, { expected_close: '2026-12-18' }))],
  ['2026-10-14T11:00:00Z', call('R1')],
  [
    '2026-10-15T10:00:00Z',
    create('M1', 'mgr-a', { product: 'gamma', source: 'partner', territory: 'west', value: 100 }),
  ],
  ['2026-10-16T10:00:00Z', create('X1', 'admin', { product: 'delta', source: 'event', territory: 'east', value: 50 })],
  ['2026-10-18T10:00:00Z', { type: 'lead.reassigned', lead: 'R1', owner: 'rep-a1' }],
  ['2026-10-19T10:00:00Z', move('R1', 'negotiate')],
  ['2026-10-29T10:00:00Z', won('M1')],
  ['2026-10-29T11:00:00Z', lost('X1')],
];

const QUOTAS: readonly { scope: QuotaScope; subject: string; amountMinor: number }[] = [
  { scope: 'user', subject: 'rep-a1', amountMinor: 200_000 },
  { scope: 'user', subject: 'rep-b1', amountMinor: 100_000 },
  { scope: 'team', subject: 'team-a', amountMinor: 300_000 },
  { scope: 'team', subject: 'team-b', amountMinor: 500_000 },
];

export interface ScenarioOptions {
  /** Only the leads (and quotas) of these people: the "database holding only that team's leads". */
  only?: readonly string[];
  /** Add EXTRA_EVENTS. */
  extras?: boolean;
  /** Apply the process (false when the caller, e.g. the HTTP test server, already did). */
  applyProcess?: boolean;
}

/** Plays the scenario through the real engine, taking the period-start snapshots on the way. */
export async function playScenario(store: Store, opts: ScenarioOptions = {}): Promise<void> {
  if (opts.applyProcess !== false) await applyProcess(store, SCOPE_PROCESS, START, 'test');
  const owners = new Map<string, string>();
  for (const [, e] of [...SCOPE_EVENTS, ...EXTRA_EVENTS])
    if (e.type === 'lead.created' && e.owner !== undefined) owners.set(e.lead, e.owner);
  const events = [...SCOPE_EVENTS, ...(opts.extras ? EXTRA_EVENTS : [])]
    .filter(([, e]) => opts.only === undefined || opts.only.includes(owners.get(e.lead) ?? ''))
    .sort(([a], [b]) => Date.parse(a) - Date.parse(b));
  const engine = new Engine(store);
  const pending = [...SNAPSHOTS];
  for (const [time, event] of events) {
    const at = Date.parse(time);
    while (pending.length > 0 && Date.parse(pending[0] as string) <= at)
      await takePeriodStartSnapshots(store, Date.parse(pending.shift() as string));
    const out = await engine.handle(event, at);
    if (!out.ok) throw new Error(`${time} ${event.type} ${event.lead}: ${out.error.message}`);
  }
  for (const s of pending) await takePeriodStartSnapshots(store, Date.parse(s));
  for (const q of QUOTAS)
    if (
      opts.only === undefined ||
      (q.scope === 'user' ? opts.only.includes(q.subject) : q.subject === teamOf(opts.only))
    )
      await setQuota(store.db, { ...q, period: '2026-11', setBy: 'test' }, SCOPE_NOW);
}

function teamOf(only: readonly string[]): string | null {
  if (TEAM_A.every((m) => only.includes(m))) return 'team-a';
  if (TEAM_B.every((m) => only.includes(m))) return 'team-b';
  return null;
}
