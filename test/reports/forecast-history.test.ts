import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadEvent } from '../../src/domain/events.js';
import { takePeriodStartSnapshots } from '../../src/engine/forecast-scheduler.js';
import { takeForecastSnapshot } from '../../src/reports/forecast-snapshot.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { listSnapshots } from '../../src/store/forecast-snapshots.js';
import { setQuota } from '../../src/store/quotas.js';
import { applyForecastProcess, at, play } from '../support/forecast-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Three months of one small organisation, seen on 2026-12-10: snapshots taken by the scheduler,
 * forecast accuracy, quota attainment, close-date slippage and calibration, figures by hand.
 * Probabilities: qualify 0.1, negotiate 0.6, propose historical.
 *
 * September (no snapshot: the scheduler did not run): B0 ben won 700.
 * 2026-10-01 snapshot (month 2026-10 and quarter 2026-Q4), open leads closing in October:
 *   A1 anna negotiate 1000 -> 600; B1 ben qualify 2000 -> 200.   F: anna 600, ben 200, cleo 0, total 800
 * October: A1 won 1000, B1 lost, A2 anna won 500.               A: anna 1500, ben 0, cleo 0, total 1500
 * 2026-11-01 snapshot, open leads closing in November:
 *   A3 anna negotiate 2000 (commit) -> 1200; C1 cleo qualify 400 -> 40.  F: anna 1200, cleo 40, total 1240
 * November: A3 won 2000 (after two pushes), C1 won 400 (after a pull). A: anna 2000, cleo 400, total 2400
 */

const create = (lead: string, owner: string, fields: Record<string, string | number> = {}): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields,
});
const move = (lead: string, stage: string): LeadEvent => ({ type: 'lead.moved', lead, stage, override: false });
const update = (lead: string, fields: Record<string, string | number>): LeadEvent => ({
  type: 'lead.updated',
  lead,
  fields,
});
const won = (lead: string): LeadEvent => ({ type: 'lead.won', lead });
const lost = (lead: string): LeadEvent => ({ type: 'lead.lost', lead, reason: 'no budget' });

const UNTIL_OCTOBER: [string, LeadEvent][] = [
  ['2026-09-05T10:00:00Z', create('B0', 'ben', { value: 700, expected_close: '2026-09-25' })],
  ['2026-09-06T10:00:00Z', move('B0', 'negotiate')],
  ['2026-09-10T10:00:00Z', create('A1', 'anna', { value: 1000, expected_close: '2026-10-20' })],
  ['2026-09-11T10:00:00Z', move('A1', 'negotiate')],
  ['2026-09-12T10:00:00Z', create('B1', 'ben', { value: 2000, expected_close: '2026-10-15' })],
  ['2026-09-20T10:00:00Z', won('B0')],
];
const UNTIL_NOVEMBER: [string, LeadEvent][] = [
  ['2026-10-20T10:00:00Z', won('A1')],
  ['2026-10-22T10:00:00Z', lost('B1')],
  ['2026-10-25T10:00:00Z', create('A2', 'anna', { value: 500, expected_close: '2026-10-30' })],
  [
    '2026-10-26T10:00:00Z',
    create('A3', 'anna', { value: 2000, expected_close: '2026-11-10', forecast_category: 'commit' }),
  ],
  ['2026-10-26T11:00:00Z', move('A3', 'negotiate')],
  ['2026-10-26T12:00:00Z', create('C1', 'cleo', { value: 400, expected_close: '2026-11-20' })],
  ['2026-10-28T10:00:00Z', won('A2')],
];
const NOVEMBER: [string, LeadEvent][] = [
  ['2026-11-02T10:00:00Z', create('B2', 'ben', { value: 300 })],
  ['2026-11-03T10:00:00Z', update('B2', { expected_close: '2026-11-30' })], // a first date: not a change
  ['2026-11-04T10:00:00Z', update('B2', { expected_close: '2026-12-03' })], // pushed 3 days
  ['2026-11-05T10:00:00Z', update('A3', { expected_close: '2026-12-10' })], // pushed 30 days
  ['2026-11-06T10:00:00Z', update('A3', { expected_close: '2026-12-15' })], // pushed 5 days
  ['2026-11-07T10:00:00Z', update('C1', { expected_close: '2026-11-14' })], // pulled 6 days
  ['2026-11-15T10:00:00Z', won('C1')],
  ['2026-11-28T10:00:00Z', won('A3')],
];

const NOW = at('2026-12-10T12:00:00Z');

describe.each(dialects)('snapshots, accuracy, quota, slippage, calibration (%s)', (dialect) => {
  let store: Store;
  const taken: string[][] = [];
  beforeAll(async () => {
    store = await freshStore(dialect);
    await applyForecastProcess(store, at('2026-09-01T00:00:00Z'));
    await play(store, UNTIL_OCTOBER);
    taken.push(await takePeriodStartSnapshots(store, at('2026-10-01T00:00:00Z')));
    taken.push(await takePeriodStartSnapshots(store, at('2026-10-01T01:00:00Z'))); // idempotent
    await play(store, UNTIL_NOVEMBER);
    taken.push(await takePeriodStartSnapshots(store, at('2026-11-01T00:00:00Z')));
    await play(store, NOVEMBER);
    await setQuota(
      store.db,
      { scope: 'user', subject: 'anna', period: '2026-11', amountMinor: 999_900, setBy: 'test' },
      NOW,
    );
    await setQuota(
      store.db,
      { scope: 'user', subject: 'ben', period: '2026-11', amountMinor: 100_000, setBy: 'test' },
      NOW,
    );
    await setQuota(
      store.db,
      { scope: 'team', subject: 'east', period: '2026-11', amountMinor: 500_000, setBy: 'test' },
      NOW,
    );
    // Setting again replaces: anna's November quota is 2500, not 9999.
    await setQuota(
      store.db,
      { scope: 'user', subject: 'anna', period: '2026-11', amountMinor: 250_000, setBy: 'x' },
      NOW,
    );
  });
  afterAll(async () => {
    await store.close();
  });

  it('the scheduler takes each month and quarter its one period-start snapshot, per rep and in total', async () => {
    expect(taken).toEqual([['2026-10', '2026-Q4'], [], ['2026-11']]);
    const nov = await listSnapshots(store.db, { periods: ['2026-11'] });
    expect(nov.map((r) => [r.owner, r.forecastMinor, r.wonMinor, r.weightedMinor, r.openLeads, r.byCategory])).toEqual([
      ['', 124_000, 0, 124_000, 2, { commit: 120_000, best_case: 0, pipeline: 4_000 }],
      ['anna', 120_000, 0, 120_000, 1, { commit: 120_000, best_case: 0, pipeline: 0 }],
      ['ben', 0, 0, 0, 0, { commit: 0, best_case: 0, pipeline: 0 }],
      ['cleo', 4_000, 0, 4_000, 1, { commit: 0, best_case: 0, pipeline: 4_000 }],
    ]);
    expect(new Set(nov.map((r) => r.snapshotId))).toEqual(new Set(['period_start:2026-11']));
    // The quarter's snapshot saw the same October leads: 800 in total.
    const q4 = await listSnapshots(store.db, { periods: ['2026-Q4'], owner: '' });
    expect(q4.map((r) => r.forecastMinor)).toEqual([80_000]);
  });

  it('an on-demand snapshot adds a record and leaves the period-start one as it was', async () => {
    const before = await listSnapshots(store.db, { periods: ['2026-10'] });
    const r = await takeForecastSnapshot(store, '2026-10', 'on_demand', NOW);
    expect(r.taken).toBe(true);
    // As of 12-10, October is over: won A1 1000 + A2 500, nothing open closing in October.
    expect(r.rows[0]).toMatchObject({ owner: '', wonMinor: 150_000, weightedMinor: 0, forecastMinor: 150_000 });
    const again = await takeForecastSnapshot(store, '2026-10', 'period_start', NOW);
    expect(again.taken).toBe(false);
    const after = await listSnapshots(store.db, { periods: ['2026-10'], kind: 'period_start' });
    expect(after).toEqual(before);
  });

  it('forecast-accuracy: bias and accuracy per finished month and rep, averaged per rep', async () => {
    // December is not over on 12-10, so it is left out.
    const out = await runReport(store, { name: 'forecast-accuracy', from: '2026-09-01', to: '2027-01-01', now: NOW });
    const rows = out.rows.map((r) => [
      r['month'],
      r['owner_id'],
      r['actual'],
      r['forecast'],
      r['bias'],
      r['accuracy'],
      r['null_reason'],
    ]);
    expect(rows).toEqual([
      ['2026-09', null, 700, null, null, null, 'no_snapshot'],
      ['2026-09', 'ben', 700, null, null, null, 'no_snapshot'],
      // total: (800 - 1500) / 1500 = -0.4667; 1 - 700 / 1500 = 0.5333
      ['2026-10', null, 1500, 800, -0.4667, 0.5333, null],
      // anna: (600 - 1500) / 1500 = -0.6; 1 - 900 / 1500 = 0.4
      ['2026-10', 'anna', 1500, 600, -0.6, 0.4, null],
      ['2026-10', 'ben', 0, 200, null, null, 'no_actual'],
      ['2026-10', 'cleo', 0, 0, null, null, 'no_actual'],
      // total: (1240 - 2400) / 2400 = -0.4833; 1 - 1160 / 2400 = 0.5167
      ['2026-11', null, 2400, 1240, -0.4833, 0.5167, null],
      // anna: (1200 - 2000) / 2000 = -0.4; 1 - 800 / 2000 = 0.6
      ['2026-11', 'anna', 2000, 1200, -0.4, 0.6, null],
      ['2026-11', 'ben', 0, 0, null, null, 'no_actual'],
      // cleo: (40 - 400) / 400 = -0.9; 1 - 360 / 400 = 0.1
      ['2026-11', 'cleo', 400, 40, -0.9, 0.1, null],
    ]);
    expect(out.summary?.['by_rep']).toEqual([
      // total: accuracy (8/15 + 31/60) / 2 = 0.525; bias (-7/15 - 29/60) / 2 = -0.475
      { owner: null, owner_id: null, periods: 3, scored: 2, late: 0, won_nothing: 0, accuracy: 0.525, bias: -0.475 },
      { owner: 'Anna', owner_id: 'anna', periods: 2, scored: 2, late: 0, won_nothing: 0, accuracy: 0.5, bias: -0.5 },
      // ben forecast 200 in October and won nothing: unscored, counted in won_nothing.
      { owner: 'Ben', owner_id: 'ben', periods: 3, scored: 0, late: 0, won_nothing: 1, accuracy: null, bias: null },
      { owner: 'Cleo', owner_id: 'cleo', periods: 2, scored: 1, late: 0, won_nothing: 0, accuracy: 0.1, bias: -0.9 },
    ]);
    // By quarter: Q3 has no snapshot; Q4 is not over.
    const q = await runReport(store, {
      name: 'forecast-accuracy',
      by: 'quarter',
      from: '2026-07-01',
      to: '2027-01-01',
      now: NOW,
    });
    expect(q.rows.map((r) => [r['quarter'], r['owner_id'], r['null_reason']])).toEqual([
      ['2026-Q3', null, 'no_snapshot'],
      ['2026-Q3', 'ben', 'no_snapshot'],
    ]);
  });

  it('forecast-accuracy with --to alone: the 12 months before the one --to falls in, not before now', async () => {
    // to 2026-11-01: November (scored above) is outside the window; September and October are in.
    const out = await runReport(store, { name: 'forecast-accuracy', to: '2026-11-01', now: NOW });
    expect([out.from, out.to]).toEqual(['2025-11-01', '2026-11-01']);
    expect([...new Set(out.rows.map((r) => r['month']))]).toEqual(['2026-09', '2026-10']);
    // A window with neither snapshots nor wins says there is nothing to score.
    const empty = await runReport(store, { name: 'forecast-accuracy', from: '2026-01-01', to: '2026-03-01', now: NOW });
    expect(empty.rows).toEqual([]);
    expect(empty.notes).toEqual(['no month in the window has a start-of-period snapshot or a win: nothing to score']);
  });

  it('quota: won in the period / the quota, per rep and per team; null without a quota', async () => {
    const out = await runReport(store, { name: 'quota', options: { period: '2026-11' }, now: NOW });
    expect(out.rows).toEqual([
      { owner: 'Anna', owner_id: 'anna', won_count: 1, won: 2000, quota: 2500, attainment: 0.8 },
      { owner: 'Ben', owner_id: 'ben', won_count: 0, won: 0, quota: 1000, attainment: 0 }, // a rep with no wins
      { owner: 'Cleo', owner_id: 'cleo', won_count: 1, won: 400, quota: null, attainment: null },
    ]);
    // 2400 / (2500 + 1000)
    expect(out.summary).toEqual({ period: '2026-11', won: 2400, quota: 3500, attainment: 0.6857 });
    const teams = await runReport(store, { name: 'quota', by: 'team', from: '2026-11-01', to: '2026-12-01', now: NOW });
    expect(teams.rows).toEqual([
      { team: 'East', team_id: 'east', won_count: 1, won: 2000, quota: 5000, attainment: 0.4 },
      { team: 'West', team_id: 'west', won_count: 1, won: 400, quota: null, attainment: null },
    ]);
    const none = await runReport(store, { name: 'quota', options: { period: '2026-12' }, now: NOW });
    expect(none.rows).toEqual([]);
    // No quota for the month: said, with how to set one, instead of a bare "no data".
    expect(none.notes).toEqual(['no quota is set for 2026-12: set one with `stageflow quota set` or `quota import`']);
    // Cleo's 400 has no quota behind it: said, with the attainment without it, 2000 / 3500.
    expect(out.notes).toEqual([
      '400 of the 2,400 won (1 win) is on rows without a quota for 2026-11; attainment of the quota holders alone: 57.1%',
    ]);
    await expect(runReport(store, { name: 'quota', from: '2026-11-01', to: '2026-11-15', now: NOW })).rejects.toThrow(
      /one whole month or quarter/,
    );
    // Quotas are not per pipeline: one pipeline's wins against the whole quota would mislead.
    const pipeline = (await runReport(store, { name: 'quota', options: { period: '2026-11' }, now: NOW })).pipeline;
    expect(pipeline).toBeNull();
    await expect(
      runReport(store, { name: 'quota', pipeline: 'nb', options: { period: '2026-11' }, now: NOW }),
    ).rejects.toThrow(/quota has no --pipeline/);
  });

  it('slippage: pushes, pulls and days pushed of expected_close changes in the period', async () => {
    const out = await runReport(store, { name: 'slippage', by: 'owner', from: '2026-11-01', now: NOW });
    expect(out.rows).toEqual([
      // A3: +30 and +5 days: mean 17.5, median 17.5
      {
        owner: 'Anna',
        owner_id: 'anna',
        leads_changed: 1,
        changes: 2,
        pushes: 2,
        pulls: 0,
        leads_pushed: 1,
        pushed_share: 1,
        mean_days_pushed: 17.5,
        median_days_pushed: 17.5,
      },
      // B2: its first date is no change; then +3 days
      {
        owner: 'Ben',
        owner_id: 'ben',
        leads_changed: 1,
        changes: 1,
        pushes: 1,
        pulls: 0,
        leads_pushed: 1,
        pushed_share: 1,
        mean_days_pushed: 3,
        median_days_pushed: 3,
      },
      // C1: pulled 6 days earlier
      {
        owner: 'Cleo',
        owner_id: 'cleo',
        leads_changed: 1,
        changes: 1,
        pushes: 0,
        pulls: 1,
        leads_pushed: 0,
        pushed_share: 0,
        mean_days_pushed: null,
        median_days_pushed: null,
      },
    ]);
    const total = await runReport(store, { name: 'slippage', from: '2026-11-01', now: NOW });
    // pushes 30, 5, 3: mean 38 / 3 = 12.6667, median 5; 2 of 3 leads pushed
    const all = {
      leads_changed: 3,
      changes: 4,
      pushes: 3,
      pulls: 1,
      leads_pushed: 2,
      pushed_share: 0.6667,
      mean_days_pushed: 12.6667,
      median_days_pushed: 5,
    };
    expect(total.rows).toEqual([all]);
    expect(total.summary).toBeUndefined();
    // Grouped, the total is over every change (the median of 30, 5, 3 is 5; no mean of medians).
    expect(out.summary).toEqual({ total: all });
    const october = await runReport(store, { name: 'slippage', from: '2026-10-01', now: NOW });
    // Dates were only set, never moved: the one total row, of zeros.
    expect(october.rows).toEqual([
      {
        leads_changed: 0,
        changes: 0,
        pushes: 0,
        pulls: 0,
        leads_pushed: 0,
        pushed_share: null,
        mean_days_pushed: null,
        median_days_pushed: null,
      },
    ]);
    // Grouped, no group moved a date, and the total says the same.
    const octoberByOwner = await runReport(store, { name: 'slippage', from: '2026-10-01', by: 'owner', now: NOW });
    expect([octoberByOwner.rows, octoberByOwner.summary]).toEqual([[], { total: october.rows[0] }]);
  });

  it('calibration: configured and historical probabilities beside the realised win rate', async () => {
    // Closed September to November: B0 won (furthest negotiate), A1 won (negotiate), B1 lost
    // (qualify), A2 won (qualify), C1 won (qualify), A3 won (negotiate).
    const out = await runReport(store, { name: 'calibration', from: '2026-09-01', to: '2026-12-01', now: NOW });
    expect(
      out.rows.map((r) => [
        r['stage_id'],
        r['probability_source'],
        r['probability'],
        r['probability_basis'],
        r['reached'],
        r['won'],
        r['realised'],
        r['gap'],
      ]),
    ).toEqual([
      // all 6 reached qualify, 5 won: 0.8333 - 0.1
      ['qualify', 'configured', 0.1, null, 6, 5, 0.8333, 0.7333],
      // propose: p is historical as of now over the 365 days: B0, A1, A3 reached it, all won
      ['propose', 'historical', 1, 3, 3, 3, 1, 0],
      ['negotiate', 'configured', 0.6, null, 3, 3, 1, 0.4],
    ]);
    const byOwner = await runReport(store, {
      name: 'calibration',
      by: 'owner',
      from: '2026-10-01',
      to: '2026-11-01',
      now: NOW,
    });
    // October: A1 won (negotiate), A2 won (qualify) for anna; B1 lost (qualify) for ben.
    expect(byOwner.rows.map((r) => [r['owner_id'], r['stage_id'], r['reached'], r['won'], r['realised']])).toEqual([
      ['anna', 'qualify', 2, 2, 1],
      ['anna', 'propose', 1, 1, 1],
      ['anna', 'negotiate', 1, 1, 1],
      ['ben', 'qualify', 1, 0, 0],
      ['ben', 'propose', 0, 0, null],
      ['ben', 'negotiate', 0, 0, null],
    ]);
  });
});
