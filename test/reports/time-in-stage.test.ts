import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportRow } from '../../src/reports/report.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { report, scenarioStore } from './scenario-report.js';

/**
 * `time-in-stage` on scenarios/stage-time, computed by hand: stays that ended in March 2026, in
 * days (entered to exited).
 *   nb qualify: A2 3.5 (02-26 to 03-01 12:00, entered before March: counted, it ended in it),
 *               A6 2 (left for pipeline up), A1 2, A3 1, A4 1, A7 2 (lost), A8 1
 *               -> 7 stays, mean 12.5 / 7 = 1.7857, median of [1,1,1,2,2,2,3.5] = 2.
 *               A9's stay ends 04-02: not counted.
 *   nb demo:    A1 1 (03-04 to 03-05), A1 2 (03-06 to 03-08, after being moved back) -> 2, 1.5, 1.5
 *   nb propose: A2 2, A1 1, A1 4, A3 3 (lost), A3 6 (after the reopen, won), A4 3
 *               -> 6, mean 19 / 6 = 3.1667, median of [1,2,3,3,4,6] = 3
 *   up scope:   A5 2 (A6's stay is still open) -> 1, 2, 2;  up offer: A5 2 -> 1, 2, 2.
 *   No stay of nb close ended: count 0 ungrouped and in the total (a group lists only the stages
 *   its stays left).
 */

const NOW = '2026-04-10T00:00:00Z';
const P = { from: '2026-03-01', to: '2026-04-01' };

function pick(rows: ReportRow[], ...cols: string[]): unknown[][] {
  return rows.map((r) => cols.map((c) => r[c]));
}

describe.each(dialects)('time-in-stage on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await scenarioStore(dialect, 'stage-time');
  });
  afterAll(async () => {
    await store.close();
  });

  it('gives count, mean and median days per pipeline and stage', async () => {
    const out = await report(store, 'time-in-stage', NOW, P);
    expect(out.rows).toEqual([
      { pipeline: 'nb', stage: 'Qualify', stage_id: 'qualify', index: 0, count: 7, mean: 1.7857, median: 2 },
      { pipeline: 'nb', stage: 'Demo', stage_id: 'demo', index: 1, count: 2, mean: 1.5, median: 1.5 },
      { pipeline: 'nb', stage: 'Propose', stage_id: 'propose', index: 2, count: 6, mean: 3.1667, median: 3 },
      { pipeline: 'nb', stage: 'Close', stage_id: 'close', index: 3, count: 0, mean: null, median: null },
      { pipeline: 'up', stage: 'Scope', stage_id: 'scope', index: 0, count: 1, mean: 2, median: 2 },
      { pipeline: 'up', stage: 'Offer', stage_id: 'offer', index: 1, count: 1, mean: 2, median: 2 },
    ]);
  });

  it('groups by owner', async () => {
    // anna (A1, A2, A3, A8): qualify 3.5, 2, 1, 1 -> 4, 1.875, 1.5; demo 1, 2; propose 2, 1, 4, 3, 6
    //   -> 5, 3.2, 3. ben (A4, A5): qualify 1; propose 3; up scope 2; up offer 2.
    // carl (A6, A7): qualify 2, 2.
    const out = await report(store, 'time-in-stage', NOW, { ...P, by: 'owner' });
    expect(pick(out.rows, 'owner_id', 'pipeline', 'stage_id', 'count', 'mean', 'median')).toEqual([
      ['anna', 'nb', 'qualify', 4, 1.875, 1.5],
      ['anna', 'nb', 'demo', 2, 1.5, 1.5],
      ['anna', 'nb', 'propose', 5, 3.2, 3],
      ['ben', 'nb', 'qualify', 1, 1, 1],
      ['ben', 'nb', 'propose', 1, 3, 3],
      ['ben', 'up', 'scope', 1, 2, 2],
      ['ben', 'up', 'offer', 1, 2, 2],
      ['carl', 'nb', 'qualify', 2, 2, 2],
    ]);
    // The total per stage is over every stay, the ungrouped rows: nb qualify's median is 2 (of
    // 1,1,1,2,2,2,3.5), not 1.5, the median of the owners' medians 1.5, 1 and 2.
    expect(out.summary).toEqual({
      total: [
        { pipeline: 'nb', stage: 'Qualify', stage_id: 'qualify', index: 0, count: 7, mean: 1.7857, median: 2 },
        { pipeline: 'nb', stage: 'Demo', stage_id: 'demo', index: 1, count: 2, mean: 1.5, median: 1.5 },
        { pipeline: 'nb', stage: 'Propose', stage_id: 'propose', index: 2, count: 6, mean: 3.1667, median: 3 },
        { pipeline: 'nb', stage: 'Close', stage_id: 'close', index: 3, count: 0, mean: null, median: null },
        { pipeline: 'up', stage: 'Scope', stage_id: 'scope', index: 0, count: 1, mean: 2, median: 2 },
        { pipeline: 'up', stage: 'Offer', stage_id: 'offer', index: 1, count: 1, mean: 2, median: 2 },
      ],
    });
  });

  it('buckets by the week the stay ended, and filters by pipeline', async () => {
    // Pipeline up: A5 leaves scope 03-07 (week 10) and offer 03-09 (week 11).
    const out = await report(store, 'time-in-stage', NOW, { ...P, by: 'week', pipeline: 'up' });
    expect(pick(out.rows, 'week', 'stage_id', 'count', 'mean')).toEqual([
      ['2026-W10', 'scope', 1, 2],
      ['2026-W11', 'offer', 1, 2],
    ]);
  });

  it('lists every stage with count 0 for an empty period, ungrouped as in the grouped total', async () => {
    const empty = { from: '2025-06-01', to: '2025-07-01' };
    const out = await report(store, 'time-in-stage', NOW, empty);
    const zeros = ['nb qualify', 'nb demo', 'nb propose', 'nb close', 'up scope', 'up offer'].map((s) => [
      ...s.split(' '),
      0,
      null,
      null,
    ]);
    expect(pick(out.rows, 'pipeline', 'stage_id', 'count', 'mean', 'median')).toEqual(zeros);
    const byOwner = await report(store, 'time-in-stage', NOW, { ...empty, by: 'owner' });
    expect(byOwner.rows).toEqual([]);
    expect(pick(byOwner.summary?.['total'] as ReportRow[], 'pipeline', 'stage_id', 'count', 'mean', 'median')).toEqual(
      zeros,
    );
  });
});
