import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { report, scenarioStore } from './scenario-report.js';

/**
 * `ask-to-decision` on scenarios/stage-time, computed by hand. The ask stage of nb is propose;
 * pipeline up has none. Leads closed in March 2026:
 *   A2 lost 03-03 12:00, entered propose 03-01 12:00                      -> lost 2 days
 *   A5 won 03-09 in pipeline up (no ask stage)                             -> not counted (note)
 *   A1 won 03-12; entered propose 03-05 and, after a move back, 03-08      -> won 4 days (last entry)
 *   A4 lost 03-19, entered propose 03-16                                   -> lost 3 days
 *   A7 lost 03-22 in qualify, never in propose                             -> not counted (note)
 *   A3 lost 03-14, reopened into propose 03-20, won 03-26                  -> won 6 days
 * won: 4, 6 -> count 2, mean 5, median 5. lost: 2, 3 -> count 2, mean 2.5, median 2.5.
 * By owner: anna won 4, 6; lost 2. ben (no wins) lost 3. carl: A7 only, not counted: no row.
 */

const NOW = '2026-04-10T00:00:00Z';
const P = { from: '2026-03-01', to: '2026-04-01' };
/** The ungrouped row of a period (or pipeline) with nothing in it: counts 0, days null. */
const NOTHING = { won_count: 0, won_mean: null, won_median: null, lost_count: 0, lost_mean: null, lost_median: null };

const NOTES = [
  '1 lead(s) closed in pipeline nb never entered its ask stage: not counted',
  '1 lead(s) closed in pipeline up, which has no ask stage: not counted',
];

describe.each(dialects)('ask-to-decision on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await scenarioStore(dialect, 'stage-time');
  });
  afterAll(async () => {
    await store.close();
  });

  it('measures from the last entry into the ask stage, won and lost apart', async () => {
    const out = await report(store, 'ask-to-decision', NOW, P);
    expect(out.rows).toEqual([
      { won_count: 2, won_mean: 5, won_median: 5, lost_count: 2, lost_mean: 2.5, lost_median: 2.5 },
    ]);
    expect(out.notes).toEqual(NOTES);
  });

  it('groups by owner; a rep with no wins has null won figures', async () => {
    const out = await report(store, 'ask-to-decision', NOW, { ...P, by: 'owner' });
    expect(out.rows).toEqual([
      {
        owner: 'Anna',
        owner_id: 'anna',
        won_count: 2,
        won_mean: 5,
        won_median: 5,
        lost_count: 1,
        lost_mean: 2,
        lost_median: 2,
      },
      {
        owner: 'Ben',
        owner_id: 'ben',
        won_count: 0,
        won_mean: null,
        won_median: null,
        lost_count: 1,
        lost_mean: 3,
        lost_median: 3,
      },
    ]);
    // The total over every lead: won 4, 6; lost 2 (anna), 3 (ben).
    expect(out.summary).toEqual({
      total: { won_count: 2, won_mean: 5, won_median: 5, lost_count: 2, lost_mean: 2.5, lost_median: 2.5 },
    });
  });

  it('takes the total median over the leads: by week, the lost are 2 and 3 in two weeks', async () => {
    const out = await report(store, 'ask-to-decision', NOW, { ...P, by: 'week' });
    expect(out.summary).toEqual({
      total: { won_count: 2, won_mean: 5, won_median: 5, lost_count: 2, lost_mean: 2.5, lost_median: 2.5 },
    });
    const ungrouped = await report(store, 'ask-to-decision', NOW, P);
    expect(ungrouped.summary).toBeUndefined();
  });

  it('counts nothing in a pipeline without an ask stage, and says so', async () => {
    const out = await report(store, 'ask-to-decision', NOW, { ...P, pipeline: 'up' });
    expect(out.rows).toEqual([NOTHING]);
    expect(out.notes).toEqual([NOTES[1]]);
  });

  it('groups by the week of the close', async () => {
    // A2 lost 03-03 (W10); A1 won 03-12 (W11); A4 lost 03-19 (W12); A3 won 03-26 (W13).
    const out = await report(store, 'ask-to-decision', NOW, { ...P, by: 'week' });
    expect(out.rows.map((r) => [r['week'], r['won_count'], r['won_mean'], r['lost_count'], r['lost_mean']])).toEqual([
      ['2026-W10', 0, null, 1, 2],
      ['2026-W11', 1, 4, 0, null],
      ['2026-W12', 0, null, 1, 3],
      ['2026-W13', 1, 6, 0, null],
    ]);
  });

  it('has its one total row, of zero counts and null days, and no notes for an empty period', async () => {
    const out = await report(store, 'ask-to-decision', NOW, { from: '2025-06-01', to: '2025-07-01' });
    expect(out.rows).toEqual([NOTHING]);
    expect(out.notes).toBeUndefined();
  });
});
