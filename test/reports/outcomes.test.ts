import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport, type ReportOutput } from '../../src/reports/run-report.js';
import type { ReportRow } from '../../src/reports/report.js';
import type { Store } from '../../src/store/db.js';
import { simulate } from '../../src/simulate.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Win rate, deal size, cycle and coaching on a small scenario (scenarios/outcomes), every figure
 * worked out by hand from the event file. Leads (all created in January 2026, Europe/Berlin):
 *   L1 anna  nb   100  created 01-05, demo 01-07, close 01-20, won 01-20
 *   L2 anna  nb   300  created 01-10, lost 01-25 in qualify
 *   L3 ben   nb   200  created 01-12, moved straight to close and won 02-03 (skips demo)
 *   L4 ben   nb    60  created 01-15, demo 01-16, back to qualify 01-17, close 01-18, won 01-28
 *   L5 carl  nb   500  created 01-03, lost 01-30, reopened 02-02, lost again 02-10
 *   L6 carl  ren   80  created 01-06 in nb, moved to renewals 01-09, won 01-29
 * Teams: north = anna, ben; south = carl. A reopened lead counts where it closed last (L5: February).
 */

const DIR = join(import.meta.dirname, 'scenarios', 'outcomes');
const JAN = { from: '2026-01-01', to: '2026-02-01' };
const NOW = Date.parse('2026-03-01T12:00:00Z');

describe.each(dialects)('outcome reports on %s', (dialect) => {
  let store: Store;
  const report = (name: string, opts: Partial<Parameters<typeof runReport>[1]> = {}): Promise<ReportOutput> =>
    runReport(store, { name, now: NOW, ...opts });

  beforeAll(async () => {
    store = await freshStore(dialect);
    const sim = await simulate({
      processText: readFileSync(join(DIR, 'process.yaml'), 'utf8'),
      eventsText: readFileSync(join(DIR, 'events.jsonl'), 'utf8'),
      store,
    });
    expect(sim.rejected).toEqual([]);
  });
  afterAll(() => store.close());

  it('win rate: closed in January are L1, L4, L6 won and L2 lost; the cohort is all six, four won by now', async () => {
    const out = await report('win-rate', JAN);
    expect(out).toMatchObject({ report: 'win-rate', from: '2026-01-01', to: '2026-02-01', by: null });
    expect(out.rows).toEqual([
      { won: 3, lost: 1, closed: 4, win_rate: 0.75, cohort: 6, cohort_won: 4, cohort_win_rate: 0.6667 },
    ]);
  });

  it('win rate by owner, team and pipeline; the reopened L5 is not a January loss', async () => {
    const byOwner = await report('win-rate', { ...JAN, by: 'owner' });
    expect(byOwner.rows.map((r) => [r['owner'], r['won'], r['lost'], r['win_rate'], r['cohort_win_rate']])).toEqual([
      ['Anna Berg', 1, 1, 0.5, 0.5],
      ['Ben Okafor', 1, 0, 1, 1],
      ['Carl Diaz', 1, 0, 1, 0.5],
    ]);
    expect(byOwner.rows[0]).toMatchObject({ owner_id: 'anna' });
    const byTeam = await report('win-rate', { ...JAN, by: 'team' });
    expect(byTeam.rows.map((r) => [r['team'], r['won'], r['lost'], r['win_rate']])).toEqual([
      ['North', 2, 1, 0.6667],
      ['South', 1, 0, 1],
    ]);
    const byPipeline = await report('win-rate', { ...JAN, by: 'pipeline' });
    expect(byPipeline.rows.map((r) => [r['pipeline'], r['won'], r['lost']])).toEqual([
      ['nb', 2, 1],
      ['ren', 1, 0],
    ]);
  });

  it('win rate by month: February has L3 won and L5 lost, and an empty cohort (a null rate, not 0)', async () => {
    const out = await report('win-rate', { from: '2026-01-01', to: '2026-03-01', by: 'month' });
    expect(out.rows).toEqual([
      {
        month: '2026-01',
        won: 3,
        lost: 1,
        closed: 4,
        win_rate: 0.75,
        cohort: 6,
        cohort_won: 4,
        cohort_win_rate: 0.6667,
      },
      { month: '2026-02', won: 1, lost: 1, closed: 2, win_rate: 0.5, cohort: 0, cohort_won: 0, cohort_win_rate: null },
    ]);
  });

  it('an empty period has its one total row ungrouped (counts 0, ratios and days null), as the grouped total', async () => {
    const empty = { from: '2025-12-01', to: '2026-01-01' };
    const nothing: Record<string, ReportRow> = {
      'win-rate': { won: 0, lost: 0, closed: 0, win_rate: null, cohort: 0, cohort_won: 0, cohort_win_rate: null },
      'deal-size': { count: 0, sum: 0, mean: null, median: null, p90: null },
      cycle: {
        count: 0,
        mean: null,
        median: null,
        p90: null,
        lost_count: 0,
        lost_mean: null,
        lost_median: null,
      },
    };
    for (const [name, zero] of Object.entries(nothing)) {
      expect((await report(name, empty)).rows, name).toEqual([zero]);
      const byOwner = await report(name, { ...empty, by: 'owner' });
      expect([byOwner.rows, byOwner.summary?.['total']], name).toEqual([[], zero]);
    }
  });

  it('deal size: won in January 100, 60 and 80; spread is the CV of the owners means', async () => {
    const out = await report('deal-size', JAN);
    expect(out.rows).toEqual([{ count: 3, sum: 240, mean: 80, median: 80, p90: 100 }]);
    const byOwner = await report('deal-size', { ...JAN, by: 'owner' });
    expect(byOwner.rows.map((r) => [r['owner_id'], r['count'], r['mean']])).toEqual([
      ['anna', 1, 100],
      ['ben', 1, 60],
      ['carl', 1, 80],
    ]);
    // means 100, 60, 80: mean 80, population sd sqrt((400 + 400 + 0) / 3) = 16.33, CV 0.2041
    // The groups' total: 3 won, 240, mean 80, and over the values 60, 80, 100 the median 80 and
    // p90 (rank ceil(2.7) = 3) 100: the ungrouped row's figures.
    expect(byOwner.summary).toEqual({
      spread: 0.2041,
      total: { count: 3, sum: 240, mean: 80, median: 80, p90: 100 },
    });
  });

  it('cycle by team: the total median is over every lead, not the median of the teams medians', async () => {
    // north: L1 15, L4 13 (median 14), lost L2 15; south: L6 23 (median 23). Over all three won
    // leads: 13, 15, 23 -> mean 17, median 15 (the teams' medians would give 18.5), p90 23.
    const out = await report('cycle', { ...JAN, by: 'team' });
    expect(out.rows.map((r) => [r['team_id'], r['count'], r['median'], r['lost_count']])).toEqual([
      ['north', 2, 14, 1],
      ['south', 1, 23, 0],
    ]);
    expect(out.summary).toEqual({
      total: { count: 3, mean: 17, median: 15, p90: 23, lost_count: 1, lost_mean: 15, lost_median: 15 },
    });
  });

  it("flow counts L5's January loss, which it lost again in February: a note says why win-rate does not", async () => {
    // Lost exits in January: L2 (final) and L5 01-30, reopened 02-02 and lost again 02-10 (its
    // lead is lost, but at another time). Win-rate's January lost is L2 alone.
    const flow = await report('flow', JAN);
    expect(flow.rows.reduce((a, r) => a + Number(r['exit_lost']), 0)).toBe(2);
    expect((await report('win-rate', JAN)).rows[0]).toMatchObject({ lost: 1 });
    expect(flow.notes).toEqual([
      '1 lost exit(s) in the period are of leads reopened since: flow counts every exit, win-rate each lead once, by its outcome now and the time of its last close (docs/reports.md, flow)',
    ]);
    // February's exit of L5 is its last close: no note.
    expect((await report('flow', { from: '2026-02-01', to: '2026-03-01' })).notes).toBeUndefined();
  });

  it('an ungrouped outcome report has no total (its one row is the total)', async () => {
    expect((await report('cycle', JAN)).summary).toBeUndefined();
    expect((await report('deal-size', JAN)).summary).toEqual({ spread: null });
  });

  it('cycle: won L1 15 days, L4 13, L6 23; lost L2 15; February: L3 22 days, L5 38 from its creation', async () => {
    const out = await report('cycle', JAN);
    expect(out.rows).toEqual([
      { count: 3, mean: 17, median: 15, p90: 23, lost_count: 1, lost_mean: 15, lost_median: 15 },
    ]);
    const feb = await report('cycle', { from: '2026-02-01', to: '2026-03-01' });
    expect(feb.rows).toEqual([
      { count: 1, mean: 22, median: 22, p90: 22, lost_count: 1, lost_mean: 38, lost_median: 38 },
    ]);
  });

  it('coaching, manager view: every rep at Qualify against ben, ben (the top rep) against anna', async () => {
    // Window Jan-Feb. Win rates: ben 2/2, anna 1/2, carl 1/2 (L6 won, L5 lost in February). Top
    // quarter (floor(3 / 4), at least one): ben. Qualify: team 3 of 6 got past it (0.5). L6 left
    // Qualify for the renewals pipeline on 01-09 without getting past it: a failure at Qualify
    // (METRICS §7: it left s), so carl has n=2 there. Both sides shrunk by 10 leads at 0.5:
    //   ben  n=2 x=2: shrunk (2 + 5) / 12 = 0.5833, the top_rate of anna and carl
    //   anna n=2 x=1: shrunk (1 + 5) / 12 = 0.5, gap 0.0833, impact 2 * 0.0833 * 1 * 100 = 16.67
    //   carl n=2 x=0: shrunk 5 / 12 = 0.4167, gap 0.1667, impact 2 * 0.1667 * 1 * 80 = 26.67
    //   ben, a top rep, against the best rep but himself, anna (ahead of carl by id): 0.5 at
    //   Qualify (gap -0.0833), 1 at Demo and Close as his own: behind nowhere (against his own
    //   leads he was 41.7 pp behind at Qualify and ranked first).
    // (w_t = 1: every lead that got past Qualify was won; v_r = the rep's mean won value.)
    const out = await report('coaching', { from: '2026-01-01', to: '2026-03-01' });
    expect(
      out.rows.map((r) => [r['owner_id'], r['weakest_stage'], r['n'], r['shrunk_rate'], r['gap'], r['impact']]),
    ).toEqual([
      ['carl', 'Qualify', 2, 0.4167, 0.1667, 26.67],
      ['anna', 'Qualify', 2, 0.5, 0.0833, 16.67],
      ['ben', null, null, null, null, 0],
    ]);
    // The note says what the top rep's rank rests on.
    expect(out.notes?.[0]).toBe('window 2026-01-01 to 2026-03-01; top reps: Ben Okafor (2 of 2 won)');
    const ben = await report('coaching', { from: '2026-01-01', to: '2026-03-01', options: { owner: 'ben' } });
    expect(ben.rows.find((r) => r['stage_id'] === 'qualify')).toMatchObject({ top_rate: 0.5, gap: -0.0833 });
    expect(ben.summary).toMatchObject({ weakest_stage: null, largest_gap: null });
    expect(ben.notes).toContain(
      'Ben Okafor is a top rep: top_rate is over the best reps other than Ben Okafor (Anna Berg), never over their own leads',
    );
  });

  it("coaching for one rep: per-stage rates, the weakest stage's guidance and impact", async () => {
    const out = await report('coaching', { from: '2026-01-01', to: '2026-03-01', options: { owner: 'Anna Berg' } });
    // Against ben, shrunk: Qualify (2 + 5) / 12; Demo (L1, L3, L4 all got past it: team 1) and
    // Close (all won) (2 + 10) / 12 = 1.
    expect(out.rows.map((r) => [r['stage_id'], r['n'], r['x'], r['rate'], r['team_rate'], r['top_rate']])).toEqual([
      ['qualify', 2, 1, 0.5, 0.5, 0.5833],
      ['demo', 1, 1, 1, 1, 1],
      ['close', 1, 1, 1, 1, 1],
    ]);
    expect(out.summary).toMatchObject({
      owner: 'Anna Berg',
      weakest_stage: 'Qualify',
      guidance: 'Find the need.',
      gap: 0.0833,
      impact: 16.67,
      tasks: [],
      largest_gap_stage_id: 'qualify',
      largest_gap: 0.0833,
    });
    await expect(report('coaching', { ...JAN, options: { owner: 'nobody' } })).rejects.toThrow(/unknown rep "nobody"/);
  });

  it('coaching for someone with no leads says there is nothing to compare, not that they are not behind', async () => {
    const out = await report('coaching', { from: '2026-01-01', to: '2026-03-01', options: { owner: 'mia' } });
    expect(out.rows).toEqual([]);
    // No stage, no cost to state: impact is null like gap, not a 0 that sorts with reps on par.
    expect(out.summary).toMatchObject({ owner_id: 'mia', weakest_stage: null, gap: null, impact: null, tasks: [] });
    expect(out.notes?.at(-1)).toBe(
      'Mia Manager has no leads that reached or left a stage in this window, so there is nothing to compare',
    );
  });

  it('coaching without --from/--to: the --window days up to now, now taken to the whole minute', async () => {
    // 2026-03-01T12:00:41.250Z in Berlin (UTC+1) is 13:00:41.250; the window ends at 13:00.
    const out = await report('coaching', { now: NOW + 41_250, options: { owner: 'anna', window: '59' } });
    expect([out.from, out.to]).toEqual(['2026-01-01T13:00+01:00', '2026-03-01T13:00+01:00']);
    // The window starts 59 days back, at noon UTC on 1 January: L1 entered demo on 01-07, so its
    // qualify stay ended inside, as in the whole-period run above.
    expect(out.rows.map((r) => r['stage_id'])).toContain('qualify');
  });

  it('refuses a grouping the report does not allow, an unknown pipeline and a bad period', async () => {
    await expect(report('coaching', { by: 'owner' })).rejects.toThrow(/cannot be grouped by "owner"/);
    await expect(report('coaching', { from: '2026-01-01', options: { window: '30' } })).rejects.toThrow(
      /either --window or --from/,
    );
    await expect(report('win-rate', { pipeline: 'nope' })).rejects.toThrow(/unknown pipeline "nope"/);
    await expect(report('win-rate', { from: '2026-02-01', to: '2026-01-01' })).rejects.toThrow(/must be after/);
    await expect(report('nope')).rejects.toThrow(/unknown report "nope"/);
  });
});
