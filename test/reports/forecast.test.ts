import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadEvent } from '../../src/domain/events.js';
import { snapshotFiguresJson, snapshotRowsWithin, takeForecastSnapshot } from '../../src/reports/forecast-snapshot.js';
import { ReportError, runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { listSnapshots, type SnapshotFigures } from '../../src/store/forecast-snapshots.js';
import { applyForecastProcess, at, play } from '../support/forecast-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * METRICS.md §5 forecast for November 2026 as of 2026-11-15, figures computed by hand.
 *
 * Stage probabilities: qualify 0.1, negotiate 0.6 (configured); propose is historical: leads that
 * reached propose (furthest stage index >= 1) and closed in [2025-11-15, 2026-11-15):
 *   H1 won (propose), H2 lost (negotiate), H5 won (moved qualify -> negotiate, skipping propose);
 *   H3 (lost in qualify) never reached it; H4 closed in 2024, outside the 365 days.
 *   p(propose) = 2 / 3.
 *
 * Leads of November:
 *   W1 anna won 2026-11-05, 500           -> won 500
 *   W2 ben  won 2026-10-30, 700           -> before the period
 *   O1 anna qualify   1000, close 11-20, commit    -> 1000 x 0.1 = 100
 *   O2 anna propose   3000, close 11-25, best_case -> 3000 x 2/3 = 2000
 *   O3 ben  negotiate 2000, close 11-28, (none)    -> 2000 x 0.6 = 1200 (pipeline)
 *   O4 ben  negotiate 5000, close 12-05            -> after the period
 *   O5 ben  qualify    800, no close date          -> without_close_date
 *   O6 cleo negotiate  (no value), close 11-10, commit -> 0, but an open lead
 * Total: won 500, weighted 100 + 2000 + 1200 + 0 = 3300, forecast 3800, open_leads 4,
 * without_close_date 1; commit 100, best_case 2000, pipeline 1200.
 */

const create = (lead: string, owner: string, fields: Record<string, string | number> = {}): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields,
});
const move = (lead: string, stage: string): LeadEvent => ({ type: 'lead.moved', lead, stage, override: false });
const won = (lead: string): LeadEvent => ({ type: 'lead.won', lead });
const lost = (lead: string): LeadEvent => ({ type: 'lead.lost', lead, reason: 'no budget' });

const NOW = at('2026-11-15T00:00:00Z');

const EVENTS: [string, LeadEvent][] = [
  ['2024-01-01T10:00:00Z', create('H4', 'anna', { value: 100 })],
  ['2024-01-02T10:00:00Z', move('H4', 'propose')],
  ['2024-06-01T10:00:00Z', won('H4')],
  ['2026-06-01T10:00:00Z', create('H1', 'anna', { value: 1000 })],
  ['2026-06-01T11:00:00Z', create('H2', 'ben', { value: 1000 })],
  ['2026-06-01T12:00:00Z', create('H3', 'ben', { value: 1000 })],
  ['2026-06-01T13:00:00Z', create('H5', 'cleo', { value: 1000 })],
  ['2026-06-02T10:00:00Z', move('H1', 'propose')],
  ['2026-06-02T11:00:00Z', move('H2', 'propose')],
  ['2026-06-03T11:00:00Z', move('H2', 'negotiate')],
  ['2026-06-03T12:00:00Z', move('H5', 'negotiate')],
  ['2026-07-01T10:00:00Z', won('H1')],
  ['2026-08-01T10:00:00Z', lost('H2')],
  ['2026-08-02T10:00:00Z', lost('H3')],
  ['2026-09-01T10:00:00Z', won('H5')],
  ['2026-10-01T10:00:00Z', create('W1', 'anna', { value: 500 })],
  ['2026-10-01T11:00:00Z', create('W2', 'ben', { value: 700 })],
  ['2026-10-30T10:00:00Z', won('W2')],
  [
    '2026-11-02T10:00:00Z',
    create('O1', 'anna', { value: 1000, expected_close: '2026-11-20', forecast_category: 'commit' }),
  ],
  [
    '2026-11-02T11:00:00Z',
    create('O2', 'anna', { value: 3000, expected_close: '2026-11-25', forecast_category: 'best_case' }),
  ],
  ['2026-11-02T12:00:00Z', create('O3', 'ben', { value: 2000, expected_close: '2026-11-28' })],
  ['2026-11-02T13:00:00Z', create('O4', 'ben', { value: 5000, expected_close: '2026-12-05' })],
  ['2026-11-02T14:00:00Z', create('O5', 'ben', { value: 800 })],
  ['2026-11-02T15:00:00Z', create('O6', 'cleo', { expected_close: '2026-11-10', forecast_category: 'commit' })],
  ['2026-11-03T10:00:00Z', move('O2', 'propose')],
  ['2026-11-03T11:00:00Z', move('O3', 'negotiate')],
  ['2026-11-03T12:00:00Z', move('O4', 'negotiate')],
  ['2026-11-03T13:00:00Z', move('O6', 'negotiate')],
  ['2026-11-05T10:00:00Z', won('W1')],
];

const TOTAL = {
  won: 500,
  weighted: 3300,
  forecast: 3800,
  open_leads: 4,
  without_close_date: 1,
  past_close_date: 0,
  past_close_value: 0,
  weighted_commit: 100,
  weighted_best_case: 2000,
  weighted_pipeline: 1200,
};

describe.each(dialects)('forecast report (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await applyForecastProcess(store, at('2024-01-01T00:00:00Z'));
    await play(store, EVENTS);
  });
  afterAll(async () => {
    await store.close();
  });

  it('adds the won value to the open leads weighted by stage probability, historical computed from closed leads', async () => {
    const out = await runReport(store, { name: 'forecast', options: { period: '2026-11' }, now: NOW });
    expect(out.from).toBe('2026-11-01');
    expect(out.to).toBe('2026-12-01');
    expect(out.rows).toEqual([TOTAL]);
    expect(out.summary).toMatchObject({ period: '2026-11', ...TOTAL });
    expect(out.summary?.['probabilities']).toEqual([
      { pipeline: 'nb', stage: 'Qualify', source: 'configured', probability: 0.1, closed_leads: null },
      { pipeline: 'nb', stage: 'Propose', source: 'historical', probability: 0.6667, closed_leads: 3 },
      { pipeline: 'nb', stage: 'Negotiate', source: 'configured', probability: 0.6, closed_leads: null },
    ]);
    expect(out.notes).toEqual(['1 open lead(s) have no expected_close and are not in the forecast']);
  });

  it('splits by owner and team; a rep with no wins has won 0', async () => {
    const byOwner = await runReport(store, { name: 'forecast', by: 'owner', from: '2026-11-01', now: NOW });
    expect(byOwner.rows).toEqual([
      // anna: won W1 500; O1 100 (commit) + O2 2000 (best case)
      {
        owner: 'Anna',
        owner_id: 'anna',
        won: 500,
        weighted: 2100,
        forecast: 2600,
        open_leads: 2,
        without_close_date: 0,
        past_close_date: 0,
        past_close_value: 0,
        weighted_commit: 100,
        weighted_best_case: 2000,
        weighted_pipeline: 0,
      },
      // ben: no win in November; O3 1200 (pipeline); O5 has no close date; O4 is December's
      {
        owner: 'Ben',
        owner_id: 'ben',
        won: 0,
        weighted: 1200,
        forecast: 1200,
        open_leads: 1,
        without_close_date: 1,
        past_close_date: 0,
        past_close_value: 0,
        weighted_commit: 0,
        weighted_best_case: 0,
        weighted_pipeline: 1200,
      },
      // cleo: O6 has no value: an open lead weighing 0
      {
        owner: 'Cleo',
        owner_id: 'cleo',
        won: 0,
        weighted: 0,
        forecast: 0,
        open_leads: 1,
        without_close_date: 0,
        past_close_date: 0,
        past_close_value: 0,
        weighted_commit: 0,
        weighted_best_case: 0,
        weighted_pipeline: 0,
      },
    ]);
    const byTeam = await runReport(store, { name: 'forecast', by: 'team', options: { period: '2026-11' }, now: NOW });
    expect(byTeam.rows.map((r) => [r['team_id'], r['forecast'], r['open_leads']])).toEqual([
      ['east', 3800, 3], // anna 2600 + ben 1200
      ['west', 0, 1],
    ]);
  });

  it('forecasts a quarter: December leads count, November wins too', async () => {
    // Q4 as of 11-15: won W2 700 (10-30) + W1 500; open: the November ones + O4 5000 x 0.6 = 3000.
    const out = await runReport(store, { name: 'forecast', options: { period: '2026-Q4' }, now: NOW });
    expect(out.from).toBe('2026-10-01');
    expect(out.to).toBe('2027-01-01');
    expect(out.rows).toEqual([
      { ...TOTAL, won: 1200, weighted: 6300, forecast: 7500, open_leads: 5, weighted_pipeline: 4200 },
    ]);
  });

  it('has no rows for an empty period, but still counts leads without a close date', async () => {
    const out = await runReport(store, { name: 'forecast', options: { period: '2027-03' }, now: NOW });
    // O5 has no expected_close: counted in every period's scope. O6's (11-10) has passed: it is in
    // November's forecast, overdue, but in none from March on (no value, so 0).
    expect(out.rows).toEqual([
      {
        ...TOTAL,
        won: 0,
        weighted: 0,
        forecast: 0,
        open_leads: 0,
        past_close_date: 1,
        weighted_commit: 0,
        weighted_best_case: 0,
        weighted_pipeline: 0,
      },
    ]);
  });

  it('refuses --period with --from, and a bad key', async () => {
    await expect(
      runReport(store, { name: 'forecast', from: '2026-11-01', options: { period: '2026-11' }, now: NOW }),
    ).rejects.toThrow(ReportError);
    await expect(runReport(store, { name: 'forecast', options: { period: '2026-13' }, now: NOW })).rejects.toThrow(
      /--period/,
    );
  });
});

describe.each(dialects)('forecast edge cases (%s)', (dialect) => {
  it('an empty organisation forecasts nothing; a historical stage without closed leads weighs 0 and says so', async () => {
    const store = await freshStore(dialect);
    try {
      await applyForecastProcess(store, at('2026-11-01T00:00:00Z'));
      const empty = await runReport(store, { name: 'forecast', options: { period: '2026-11' }, now: NOW });
      expect(empty.rows).toEqual([]);
      expect(empty.summary).toMatchObject({ won: 0, weighted: 0, forecast: 0, open_leads: 0, without_close_date: 0 });

      // One open lead in propose and no closed lead at all: p(propose) is unknown, not guessed.
      await play(store, [
        ['2026-11-02T10:00:00Z', create('P1', 'anna', { value: 900, expected_close: '2026-11-20' })],
        ['2026-11-02T11:00:00Z', move('P1', 'propose')],
      ]);
      const out = await runReport(store, { name: 'forecast', options: { period: '2026-11' }, now: NOW });
      expect(out.rows).toEqual([
        {
          ...TOTAL,
          won: 0,
          weighted: 0,
          forecast: 0,
          open_leads: 1,
          without_close_date: 0,
          past_close_date: 0,
          past_close_value: 0,
          weighted_commit: 0,
          weighted_best_case: 0,
          weighted_pipeline: 0,
        },
      ]);
      expect(out.notes?.[0]).toMatch(/^1 open lead\(s\) sit in a stage without a probability/);
      expect((out.summary?.['probabilities'] as { probability: number | null }[])[1]?.probability).toBeNull();

      // One lost lead that reached propose: p = 0 / 1 = 0, now known (and still 0).
      await play(store, [
        ['2026-11-03T10:00:00Z', create('P2', 'ben', { value: 100 })],
        ['2026-11-03T11:00:00Z', move('P2', 'propose')],
        ['2026-11-04T10:00:00Z', lost('P2')],
      ]);
      const again = await runReport(store, { name: 'forecast', options: { period: '2026-11' }, now: NOW });
      expect(again.notes).toBeUndefined();
      expect((again.summary?.['probabilities'] as { probability: number | null }[])[1]?.probability).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe.each(dialects)('forecast: close dates that have passed, and cents (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await applyForecastProcess(store, at('2026-10-01T00:00:00Z'));
    await play(store, [
      // L1 cleo: open in negotiate, 800, expected 10-25: passed before November, never updated.
      ['2026-10-06T10:00:00Z', create('L1', 'cleo', { value: 800, expected_close: '2026-10-25' })],
      ['2026-10-07T10:00:00Z', move('L1', 'negotiate')],
      // L2 anna: expected 11-10, passed but inside November: in November's forecast (overdue).
      ['2026-11-02T10:00:00Z', create('L2', 'anna', { value: 1000, expected_close: '2026-11-10' })],
      // R1, R2 anna: 12.35 each in qualify (0.1): 1.235 each, 1.24 once rounded, in two categories.
      [
        '2026-11-03T10:00:00Z',
        create('R1', 'anna', { value: 12.35, expected_close: '2026-12-10', forecast_category: 'commit' }),
      ],
      [
        '2026-11-03T10:05:00Z',
        create('R2', 'anna', { value: 12.35, expected_close: '2026-12-10', forecast_category: 'best_case' }),
      ],
      // D1 ben: December, 1,000.05 in negotiate (0.6): 600.03.
      ['2026-11-04T10:00:00Z', create('D1', 'ben', { value: 1000.05, expected_close: '2026-12-20' })],
      ['2026-11-04T11:00:00Z', move('D1', 'negotiate')],
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  const NOW_28 = at('2026-11-28T12:00:00Z');

  it("counts an open lead whose expected_close passed before the period, and its value, in its owner's row and the summary", async () => {
    const out = await runReport(store, { name: 'forecast', by: 'owner', options: { period: '2026-11' }, now: NOW_28 });
    const past = out.rows.map((r) => [r['owner_id'], r['open_leads'], r['past_close_date'], r['past_close_value']]);
    // L2 is November's (overdue, 1000 x 0.1); L1 is in no period from November on.
    expect(past).toEqual([
      ['anna', 1, 0, 0],
      ['cleo', 0, 1, 800],
    ]);
    expect(out.summary).toMatchObject({ weighted: 100, open_leads: 1, past_close_date: 1, past_close_value: 800 });
    expect(out.notes).toContain(
      '1 open lead(s) (800 EUR) have an expected_close that has passed and lies before the period: they are in no forecast from this period on until it is updated',
    );
  });

  it('a snapshot records the same figures, in total and for the rep', async () => {
    const taken = await takeForecastSnapshot(store, '2026-11', 'on_demand', NOW_28);
    expect(taken.taken).toBe(true);
    const stored = await listSnapshots(store.db, { periods: ['2026-11'] });
    expect(stored.map((r) => [r.owner, r.pastCloseDate, r.pastCloseValueMinor])).toEqual([
      ['', 1, 80_000],
      ['anna', 0, 0],
      ['ben', 0, 0],
      ['cleo', 1, 80_000],
    ]);
    expect(snapshotFiguresJson(stored[0] as SnapshotFigures)).toMatchObject({
      past_close_date: 1,
      past_close_value: 800,
    });
  });

  it('in a later period, every open lead whose expected_close has passed counts, the current month’s overdue ones too', async () => {
    const out = await runReport(store, { name: 'forecast', options: { period: '2026-12' }, now: NOW_28 });
    expect(out.summary).toMatchObject({ past_close_date: 2, past_close_value: 1800 });
    // Before the period as of now: in October, L2 (11-10) was still ahead, so only L1 had passed.
    const october = await runReport(store, {
      name: 'forecast',
      options: { period: '2026-10' },
      now: at('2026-10-28T12:00:00Z'),
    });
    expect(october.summary).toMatchObject({ open_leads: 1, past_close_date: 0 });
  });

  it('rounds each lead’s weighted value to the cent once, so categories and rows add up to the total exactly', async () => {
    const out = await runReport(store, { name: 'forecast', by: 'owner', options: { period: '2026-12' }, now: NOW_28 });
    expect(out.summary).toMatchObject({
      weighted: 602.51, // 1.24 + 1.24 + 600.03
      weighted_commit: 1.24,
      weighted_best_case: 1.24,
      weighted_pipeline: 600.03,
    });
    const cents = (x: unknown): number => Math.round(Number(x) * 100);
    const summary = out.summary ?? {};
    expect(
      cents(summary['weighted_commit']) + cents(summary['weighted_best_case']) + cents(summary['weighted_pipeline']),
    ).toBe(cents(summary['weighted']));
    expect(out.rows.reduce((a, r) => a + cents(r['weighted']), 0)).toBe(cents(summary['weighted']));
    for (const r of out.rows)
      expect(cents(r['weighted_commit']) + cents(r['weighted_best_case']) + cents(r['weighted_pipeline'])).toBe(
        cents(r['weighted']),
      );
  });
});

describe('snapshot rows within a reach', () => {
  const row = (owner: string, past: number | null): SnapshotFigures => ({
    owner,
    wonMinor: 100,
    weightedMinor: 0,
    forecastMinor: 100,
    openLeads: 0,
    withoutCloseDate: 0,
    byCategory: {},
    pastCloseDate: past,
    pastCloseValueMinor: past === null ? null : past * 1000,
  });

  it('adds up the past-close figures of the reps in reach; a snapshot older than the figure leaves them unknown', () => {
    const [total] = snapshotRowsWithin([row('', 9), row('a', 1), row('b', 2), row('c', 4)], (o) => o !== 'c');
    expect([total?.pastCloseDate, total?.pastCloseValueMinor]).toEqual([3, 3000]);
    const [old] = snapshotRowsWithin([row('', null), row('a', null), row('b', null)], () => true);
    expect([old?.pastCloseDate, old?.pastCloseValueMinor]).toEqual([null, null]);
    expect(snapshotFiguresJson(row('a', null))).toMatchObject({ past_close_date: null, past_close_value: null });
  });
});
