import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTS } from '../../src/reports/registry.js';
import { runReport, type ReportOutput, type ReportRequest } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { NAMES, playScenario, SCOPE_NOW, TEAM_A, TEAM_B } from '../support/owner-scope-scenario.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A report limited to some owners (ReportRequest.owners, the scope's owners) computes its figures
 * over those owners only: for every report and every grouping it allows, a team's view of the
 * whole organisation equals the same report, unlimited, over a database that holds only that
 * team's leads (and quotas). Coaching is the exception by design: its benchmarks stay
 * organisation-wide, so its team view is the organisation's rows of that team's reps. The scenario
 * is test/support/owner-scope-scenario.ts; win rate, deal size and funnel are also checked by hand.
 */

const PERIOD = { from: '2026-09-01', to: '2026-12-01' };

/** Each report's period: keyed reports take --period, the others September to November. */
function requestFor(name: string): Omit<ReportRequest, 'now'> {
  if (name === 'forecast') return { name, options: { period: '2026-12' } };
  if (name === 'quota') return { name, options: { period: '2026-11' } };
  return { name, ...PERIOD };
}

/** Notes only a limited report has: the limitation itself, and how its benchmarks are made. */
const LIMITED_ONLY =
  /^limited to |^historical stage probabilities are learnt|^the total row \(owner null\)|^team_rate, top_rate/;

function withoutLimitNotes(out: ReportOutput): ReportOutput {
  const notes = (out.notes ?? []).filter((n) => !LIMITED_ONLY.test(n));
  const { notes: _drop, ...rest } = out;
  return notes.length > 0 ? { ...rest, notes } : rest;
}

/** The output with only the rows (and by_rep entries) of the organisation total or of `owners`. */
function onlyOwners(out: ReportOutput, owners: readonly string[]): ReportOutput {
  const keep = (r: unknown): boolean => {
    const id = (r as Record<string, unknown>)['owner_id'];
    return typeof id !== 'string' || owners.includes(id);
  };
  const summary = out.summary
    ? Object.fromEntries(Object.entries(out.summary).map(([k, v]) => [k, Array.isArray(v) ? v.filter(keep) : v]))
    : undefined;
  return { ...out, rows: out.rows.filter(keep), ...(summary ? { summary } : {}) };
}

/** Every id and name of the people outside `owners`, as they could appear in a report. */
function strangers(owners: readonly string[]): string[] {
  return Object.keys(NAMES)
    .filter((id) => !owners.includes(id))
    .flatMap((id) => [id, NAMES[id] as string]);
}

const TEAMS: { id: string; members: readonly string[] }[] = [
  { id: 'team-a', members: TEAM_A },
  { id: 'team-b', members: TEAM_B },
];

describe.each(dialects)('reports limited to owners on %s', (dialect) => {
  let org: Store;
  const alone = new Map<string, Store>();
  const run = (store: Store, req: Omit<ReportRequest, 'now'>): Promise<ReportOutput> =>
    runReport(store, { ...req, now: SCOPE_NOW });

  beforeAll(async () => {
    org = await freshStore(dialect);
    await playScenario(org);
    for (const team of TEAMS) {
      const store = await freshStore(dialect);
      await playScenario(store, { only: team.members });
      alone.set(team.id, store);
    }
  });
  afterAll(async () => {
    await org.close();
    for (const s of alone.values()) await s.close();
  });

  it('covers the 14 reports', () => {
    expect(REPORTS.map((r) => r.name)).toEqual([
      'adoption',
      'funnel',
      'flow',
      'win-rate',
      'deal-size',
      'forecast',
      'forecast-accuracy',
      'quota',
      'cycle',
      'time-in-stage',
      'ask-to-decision',
      'calibration',
      'slippage',
      'coaching',
    ]);
  });

  for (const def of REPORTS.filter((r) => r.name !== 'coaching'))
    it(`${def.name}: a team's view equals the report over a database of that team's leads, for every grouping`, async () => {
      for (const team of TEAMS)
        for (const by of [undefined, ...def.dimensions]) {
          const req = { ...requestFor(def.name), by };
          const scoped = await run(org, { ...req, owners: team.members });
          const reference = await run(alone.get(team.id) as Store, req);
          const what = `${def.name} by ${by ?? 'nothing'} for ${team.id}`;
          // forecast-accuracy lists every rep a snapshot names (zeros included): only the team's are compared.
          expect(withoutLimitNotes(scoped), what).toEqual(onlyOwners(reference, team.members));
          expect(scoped.notes?.[0], what).toMatch(
            /^limited to the people given: figures count only the leads owned by/,
          );
          const text = JSON.stringify(scoped);
          for (const s of strangers(team.members)) expect(text, `${what} names ${s}`).not.toContain(s);
        }
    });

  it("every report's figures differ from the organisation's where the other team worked too", async () => {
    for (const def of REPORTS) {
      const req = requestFor(def.name);
      const scoped = await run(org, { ...req, owners: TEAM_A });
      const whole = await run(org, req);
      expect(scoped.rows, def.name).not.toEqual(whole.rows);
    }
  });

  it('win-rate by hand: team A closed A1, A2, A3 won and A4 lost; its cohort is A1..A6', async () => {
    const none = await run(org, { ...PERIOD, name: 'win-rate', owners: TEAM_A });
    expect(none.rows).toEqual([
      { won: 3, lost: 1, closed: 4, win_rate: 0.75, cohort: 6, cohort_won: 3, cohort_win_rate: 0.5 },
    ]);
    const byProduct = await run(org, { ...PERIOD, name: 'win-rate', by: 'product', owners: TEAM_A });
    expect(byProduct.rows).toEqual([
      // alpha: A1, A3 won; cohort A1, A3, A5, A6
      { product: 'alpha', won: 2, lost: 0, closed: 2, win_rate: 1, cohort: 4, cohort_won: 2, cohort_win_rate: 0.5 },
      // beta: A2 won, A4 lost; cohort A2, A4
      { product: 'beta', won: 1, lost: 1, closed: 2, win_rate: 0.5, cohort: 2, cohort_won: 1, cohort_win_rate: 0.5 },
    ]);
    // The organisation adds B2, B3 won, B1, B4 lost and five more in the cohort.
    const whole = await run(org, { ...PERIOD, name: 'win-rate' });
    expect(whole.rows).toEqual([
      { won: 5, lost: 3, closed: 8, win_rate: 0.625, cohort: 11, cohort_won: 5, cohort_win_rate: 0.4545 },
    ]);
  });

  it('deal-size by hand: team A won 1000, 500 and 2000', async () => {
    const none = await run(org, { ...PERIOD, name: 'deal-size', owners: TEAM_A });
    expect(none.rows).toEqual([{ count: 3, sum: 3500, mean: 1166.67, median: 1000, p90: 2000 }]);
    const byProduct = await run(org, { ...PERIOD, name: 'deal-size', by: 'product', owners: TEAM_A });
    expect(byProduct.rows).toEqual([
      { product: 'alpha', count: 2, sum: 3000, mean: 1500, median: 1500, p90: 2000 },
      { product: 'beta', count: 1, sum: 500, mean: 500, median: 500, p90: 500 },
    ]);
    // means 1500 and 500: mean 1000, population sd 500
    // The total is team A's alone, like the ungrouped row: 3 won, 3500, mean 3500 / 3, and over
    // 500, 1000 and 2000 the median 1000 and p90 2000.
    expect(byProduct.summary).toEqual({
      spread: 0.5,
      total: { count: 3, sum: 3500, mean: 1166.67, median: 1000, p90: 2000 },
    });
  });

  it('funnel by hand: team A cohort A1..A6, stalled A5 in qualify and A6 in propose', async () => {
    const fields = (out: ReportOutput) =>
      out.rows.map((r) => [r['product'], r['stage_id'], r['reached'], r['conversion'], r['lost_at'], r['stalled']]);
    const none = await run(org, { ...PERIOD, name: 'funnel', owners: TEAM_A });
    expect(fields(none)).toEqual([
      [undefined, 'qualify', 6, 0.6667, 1, 1],
      [undefined, 'propose', 4, 0.75, 0, 1],
      [undefined, 'negotiate', 3, 1, 0, 0],
    ]);
    expect(none.summary).toMatchObject({ cohort: 6, won: 3 });
    const byProduct = await run(org, { ...PERIOD, name: 'funnel', by: 'product', owners: TEAM_A });
    expect(fields(byProduct)).toEqual([
      ['alpha', 'qualify', 4, 0.75, 0, 1],
      ['alpha', 'propose', 3, 0.6667, 0, 1],
      ['alpha', 'negotiate', 2, 1, 0, 0],
      ['beta', 'qualify', 2, 0.5, 1, 0],
      ['beta', 'propose', 1, 1, 0, 0],
      ['beta', 'negotiate', 1, 1, 0, 0],
    ]);
  });

  it("forecast-accuracy: the total row is the team's wins against its reps' snapshot rows", async () => {
    const out = await run(org, { ...PERIOD, name: 'forecast-accuracy', owners: TEAM_A });
    expect(out.rows.map((r) => [r['month'], r['owner_id'], r['actual'], r['forecast'], r['null_reason']])).toEqual([
      // 10-01: A1 in negotiate, 1000 x 0.6 (B1's propose had no history yet: 0)
      ['2026-10', null, 1500, 600, null],
      ['2026-10', 'rep-a1', 1500, 600, null],
      ['2026-10', 'rep-a2', 0, 0, 'no_actual'],
      // 11-01: A3 in negotiate, 2000 x 0.6; the organisation's total also had B3's 900
      ['2026-11', null, 2000, 1200, null],
      ['2026-11', 'rep-a1', 0, 0, 'no_actual'],
      ['2026-11', 'rep-a2', 2000, 1200, null],
    ]);
    const whole = await run(org, { ...PERIOD, name: 'forecast-accuracy' });
    expect(whole.rows.find((r) => r['month'] === '2026-11' && r['owner_id'] === null)).toMatchObject({
      actual: 3500,
      forecast: 2100,
    });
  });

  it("quota: the team's reps and the team quota of a team made of them; the summary adds up only those", async () => {
    const byRep = await run(org, { name: 'quota', options: { period: '2026-11' }, owners: TEAM_A });
    expect(byRep.rows).toEqual([
      { owner: 'Anna A1', owner_id: 'rep-a1', won_count: 0, won: 0, quota: 2000, attainment: 0 },
      { owner: 'Arno A2', owner_id: 'rep-a2', won_count: 1, won: 2000, quota: null, attainment: null },
    ]);
    expect(byRep.summary).toEqual({ period: '2026-11', won: 2000, quota: 2000, attainment: 1 });
    const byTeam = await run(org, { name: 'quota', by: 'team', options: { period: '2026-11' }, owners: TEAM_A });
    expect(byTeam.rows).toEqual([
      { team: 'Team A', team_id: 'team-a', won_count: 1, won: 2000, quota: 3000, attainment: 0.6667 },
    ]);
  });

  it("calibration and forecast learn a historical probability from the team's leads only", async () => {
    const propose = (out: ReportOutput) => out.rows.find((r) => r['stage_id'] === 'propose');
    // Closed leads that reached propose in the year before now: A1, A2, A3 won; the organisation adds B1 lost, B2, B3 won.
    const team = await run(org, { ...PERIOD, name: 'calibration', owners: TEAM_A });
    expect(propose(team)).toMatchObject({ probability: 1, probability_basis: 3 });
    const whole = await run(org, { ...PERIOD, name: 'calibration' });
    expect(propose(whole)).toMatchObject({ probability: 0.8333, probability_basis: 6 });
    const forecast = await run(org, { name: 'forecast', options: { period: '2026-12' }, owners: TEAM_A });
    // A5 qualify 700 x 0.1 + A6 propose 1000 x 1
    expect(forecast.summary).toMatchObject({ won: 0, weighted: 1070, forecast: 1070, open_leads: 2 });
    expect(forecast.notes).toContain(
      'historical stage probabilities are learnt from the closed leads of the people this report is limited to',
    );
  });

  it("coaching: only the team's reps, the organisation's benchmarks, and no other team's rep named", async () => {
    const req = { name: 'coaching', ...PERIOD };
    const whole = await run(org, req);
    // The top quarter of four reps by win rate is rep-a1 alone (2 of 2 won).
    expect(whole.notes?.[0]).toMatch(/top reps: Anna A1 \(2 of 2 won\)$/);
    for (const team of TEAMS) {
      const scoped = await run(org, { ...req, owners: team.members });
      expect(scoped.rows).toEqual(whole.rows.filter((r) => team.members.includes(r['owner_id'] as string)));
      expect(scoped.rows.length).toBe(2);
      const text = JSON.stringify(scoped);
      for (const s of strangers(team.members)) expect(text, `coaching for ${team.id} names ${s}`).not.toContain(s);
      for (const rep of team.members) {
        const plan = await run(org, { ...req, options: { owner: rep }, owners: team.members });
        const orgPlan = await run(org, { ...req, options: { owner: rep } });
        expect(plan.rows).toEqual(orgPlan.rows);
        expect(plan.summary).toEqual(orgPlan.summary);
        const planText = JSON.stringify(plan);
        for (const s of strangers(team.members)) expect(planText, `${rep}'s plan names ${s}`).not.toContain(s);
      }
    }
    const b = await run(org, { ...req, owners: TEAM_B });
    expect(b.notes?.[1]).toBe(
      'window 2026-09-01 to 2026-12-01; top reps: reps outside the people this report is limited to',
    );
    await expect(run(org, { ...req, options: { owner: 'rep-a1' }, owners: TEAM_B })).rejects.toThrow(
      /rep "rep-a1" is outside the people this report is limited to/,
    );
  });

  it('an empty owners list matches nothing, and teams resolve to their members (unknown ones refused)', async () => {
    const nobody = await run(org, { ...PERIOD, name: 'win-rate', owners: [] });
    expect(nobody.rows).toEqual([
      { won: 0, lost: 0, closed: 0, win_rate: null, cohort: 0, cohort_won: 0, cohort_win_rate: null },
    ]);
    expect(nobody.notes).toEqual([
      'limited to the people given: figures count only the leads owned by (and the work of) nobody',
    ]);
    const byTeam = await run(org, { ...PERIOD, name: 'win-rate', teams: ['Team A'] });
    const byOwners = await run(org, { ...PERIOD, name: 'win-rate', owners: TEAM_A });
    expect(byTeam.rows).toEqual(byOwners.rows);
    expect(byTeam.notes).toEqual([
      'limited to team Team A: figures count only the leads owned by (and the work of) Anna A1, Arno A2',
    ]);
    await expect(run(org, { ...PERIOD, name: 'win-rate', teams: ['team-c'] })).rejects.toThrow(
      'unknown team "team-c" (teams: team-a, team-b)',
    );
  });
});
