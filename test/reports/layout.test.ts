import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeReport, runReport, type ReportOutput } from '../../src/reports/run-report.js';
import { REPORTS } from '../../src/reports/registry.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { scenarioStore } from './scenario-report.js';

/**
 * What every report's output shares, on scenarios/outcomes (see outcomes.test.ts for its leads):
 * the declared columns (a CSV's header even without rows), the period shown as it was used, the
 * totals of grouped reports, notes for empty periods, and calibration's rule for a lead won in
 * another pipeline. Figures by hand.
 */

const NOW = Date.parse('2026-03-01T12:00:00Z');
const JAN = { from: '2026-01-01', to: '2026-02-01' };

describe.each(dialects)('report layout on %s', (dialect) => {
  let store: Store;
  const report = (name: string, opts: Partial<Parameters<typeof runReport>[1]> = {}): Promise<ReportOutput> =>
    runReport(store, { name, now: NOW, ...opts });

  beforeAll(async () => {
    store = await scenarioStore(dialect, 'outcomes');
  });
  afterAll(() => store.close());

  it('every report, with every grouping it allows, has rows with exactly its declared columns', async () => {
    for (const def of REPORTS)
      for (const by of [undefined, ...def.dimensions])
        for (const period of [JAN, { from: '2025-11-01', to: '2025-12-01' }]) {
          const what = `${def.name} by ${by ?? '-'} ${period.from}`;
          const { output, layout } = await computeReport(store, { name: def.name, by, now: NOW, ...period });
          // Even an empty report knows its columns: a CSV always has its header.
          expect(layout.columns.length, what).toBeGreaterThan(0);
          for (const row of output.rows) expect(Object.keys(row), what).toEqual(layout.columns);
        }
  });

  it('the columns of an empty grouped report: the grouping first, then the figures', async () => {
    const { output, layout } = await computeReport(store, {
      name: 'win-rate',
      by: 'owner',
      now: NOW,
      from: '2025-11-01',
    });
    expect(output.rows).toEqual([]);
    expect(layout.columns).toEqual([
      'owner',
      'owner_id',
      'won',
      'lost',
      'closed',
      'win_rate',
      'cohort',
      'cohort_won',
      'cohort_win_rate',
    ]);
    expect(layout).toMatchObject({ zone: 'Europe/Berlin', currency: 'EUR' });
  });

  it('a period given with a time of day is shown with it, and counts from it', async () => {
    // From 01-20 13:00 Berlin (12:00 UTC is 13:00 there): L1 won at 13:00 counts, as do L2, L4, L6.
    const at = await report('win-rate', { from: '2026-01-20T13:00', to: '2026-02-01' });
    expect([at.from, at.to]).toEqual(['2026-01-20T13:00+01:00', '2026-02-01']);
    expect(at.rows).toMatchObject([{ won: 3, lost: 1 }]);
    // One minute later L1's win is outside.
    const after = await report('win-rate', { from: '2026-01-20T13:01', to: '2026-02-01T00:00:30' });
    expect([after.from, after.to]).toEqual(['2026-01-20T13:01+01:00', '2026-02-01T00:00:30+01:00']);
    expect(after.rows).toMatchObject([{ won: 2, lost: 1 }]);
    await expect(report('win-rate', { from: '2026-01-20T13:00', to: '2026-01-20T12:00' })).rejects.toThrow(
      '--to (2026-01-20T12:00+01:00) must be after --from (2026-01-20T13:00+01:00)',
    );
  });

  it('grouped win rate and deal size carry the organisation total a manager looks for', async () => {
    // January by owner: anna 1 won 1 lost, ben 1 won, carl 1 won; cohorts 2 + 2 + 2, won 1 + 2 + 1.
    const wr = await report('win-rate', { ...JAN, by: 'owner' });
    expect(wr.summary).toEqual({
      total: { won: 3, lost: 1, closed: 4, win_rate: 0.75, cohort: 6, cohort_won: 4, cohort_win_rate: 0.6667 },
    });
    // Ungrouped, the one row is the total: no summary.
    expect((await report('win-rate', JAN)).summary).toBeUndefined();
    // Won 100 (anna), 60 (ben), 80 (carl): count 3, sum 240, mean 80, median 80, p90 100, the same
    // as the ungrouped row. North (anna 100, ben 60) and South (carl 80) both average 80: spread 0.
    const ds = await report('deal-size', { ...JAN, by: 'team' });
    expect(ds.summary).toEqual({ spread: 0, total: { count: 3, sum: 240, mean: 80, median: 80, p90: 100 } });
    expect((await report('deal-size', JAN)).rows).toMatchObject([{ count: 3, sum: 240, mean: 80 }]);
  });

  it('an empty period after now, and an empty funnel cohort, say why there is nothing', async () => {
    const future = await report('win-rate', { from: '2026-04-01', to: '2026-05-01' });
    // Ungrouped, the one row is the total, zeros here; the note says why.
    expect(future.rows).toEqual([
      { won: 0, lost: 0, closed: 0, win_rate: null, cohort: 0, cohort_won: 0, cohort_win_rate: null },
    ]);
    expect(future.notes).toEqual(['the period starts after now (2026-04-01): nothing has happened in it yet']);
    // A past period without data has no such note: it is simply empty.
    expect((await report('win-rate', { from: '2025-11-01', to: '2025-12-01' })).notes).toBeUndefined();
    const funnel = await report('funnel', { from: '2025-11-01', to: '2025-12-01', pipeline: 'nb' });
    expect(funnel.summary).toMatchObject({ cohort: 0, won: 0 });
    expect(funnel.notes?.[0]).toBe('no lead entered pipeline nb in this period: the cohort is empty');
  });

  it('calibration counts a win in another pipeline for the stages the lead reached in the first', async () => {
    // Closed January and February: L1 won (nb close, index 2), L2 lost (qualify), L3 won (close,
    // skipped demo), L4 won (close), L5 lost (qualify), L6 won in ren after reaching nb qualify.
    // nb qualify: reached by all 6, won by L1, L3, L4 and L6 (in ren) = 4 -> 0.6667.
    // demo and close: L1, L3, L4, all won. ren review: L6, won; renew: nobody.
    // Every stage is historical (no probability in the process): as of 03-01 the same 6 closes.
    const out = await report('calibration', { from: '2026-01-01', to: '2026-03-01' });
    expect(
      out.rows.map((r) => [
        r['pipeline'],
        r['stage_id'],
        r['probability'],
        r['reached'],
        r['won'],
        r['realised'],
        r['gap'],
      ]),
    ).toEqual([
      ['nb', 'qualify', 0.6667, 6, 4, 0.6667, 0],
      ['nb', 'demo', 1, 3, 3, 1, 0],
      ['nb', 'close', 1, 3, 3, 1, 0],
      ['ren', 'review', 1, 1, 1, 1, 0],
      ['ren', 'renew', null, 0, 0, null, null],
    ]);
    // January alone (L5's loss moved to February by its reopen): qualify reached by L1, L2, L4, L6,
    // won by L1, L4, L6; against the historical 4 / 6 as of now: gap 0.75 - 0.6667.
    const jan = await report('calibration', { ...JAN, pipeline: 'nb' });
    expect(jan.rows.map((r) => [r['stage_id'], r['reached'], r['won'], r['realised'], r['gap']])).toEqual([
      ['qualify', 4, 3, 0.75, 0.0833],
      ['demo', 2, 2, 1, 0],
      ['close', 2, 2, 1, 0],
    ]);
  });
});
