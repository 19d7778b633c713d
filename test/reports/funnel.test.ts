import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportRow } from '../../src/reports/report.js';
import type { Store } from '../../src/store/db.js';
import { fillLeadReach } from '../../src/store/migrations.js';
import { completedStayMedians } from '../../src/store/reports/funnel.js';
import { dialects } from '../support/stores.js';
import { report, scenarioStore } from './scenario-report.js';

/**
 * `funnel` on scenarios/funnel, computed by hand. Period P = March 2026, now 2026-04-10 00:00.
 * Pipeline nb: qualify (0), demo (1), propose (2), close (3).
 *
 * Cohort (first stay in nb entered in P) and furthest nb index:
 *   C1 anna A  qualify, demo, propose, close, won 03-08            -> 3, won
 *   C2 anna A  qualify, propose (skips demo by a move), lost there -> 2, lost at propose
 *   C3 ben  B  qualify, demo, back to qualify, demo again (open)   -> 1
 *   C4 ben  B  qualify, lost there                                 -> 0, lost at qualify
 *   C5 ben  B  qualify, then to pipeline up, won there             -> 0 (not won in nb)
 *   C6 anna A  qualify, demo, lost, reopened in demo, propose (open) -> 2 (open: not lost)
 *   C8 carl A  created in up in February, into nb 03-20, goal to demo, propose (open) -> 2
 *   Not in it: C7, C10 (entered nb in February), H01..H20 (January).
 * reached = [7, 5, 4, 1]; won 1; conversion 5/7, 4/5, 1/4, and won/reached(close) = 1/1.
 *
 * Stall thresholds: qualify 3 days (configured). demo: completed demo stays that ended in the
 * 365 days before 04-01: H01..H20 (1..20 days), C1 2, C3 1, C6 1 and 1 (before and after the
 * reopen), C8 0.875 (03-20 12:00 to 03-21 09:00): 25 stays, the 13th smallest is 8 -> 16 days.
 * propose, close: fewer than 20 stays -> the organisation default, 14 days.
 * Stalled now (open, current stay longer than the threshold): qualify C7 (since 02-25, ben);
 * demo C3 (since 03-07, 33.6 d, ben), not C10 (since 03-25, 15.6 d < 16, dave); propose C6
 * (since 03-16, anna) and C8 (since 03-21, carl).
 */

const NOW = '2026-04-10T00:00:00Z';
const P = { from: '2026-03-01', to: '2026-04-01' };

function pick(rows: ReportRow[], ...cols: string[]): unknown[][] {
  return rows.map((r) => cols.map((c) => r[c]));
}

describe.each(dialects)('funnel on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await scenarioStore(dialect, 'funnel');
  });
  afterAll(async () => {
    await store.close();
  });

  it('gives the cohort funnel of the default pipeline, and says which it took', async () => {
    const out = await report(store, 'funnel', NOW, P);
    expect(out.rows).toEqual([
      {
        stage: 'Qualify',
        stage_id: 'qualify',
        index: 0,
        reached: 7,
        conversion: 0.7143,
        lost_at: 1,
        stalled: 1,
        stall_after_days: 3,
      },
      {
        stage: 'Demo',
        stage_id: 'demo',
        index: 1,
        reached: 5,
        conversion: 0.8,
        lost_at: 0,
        stalled: 1,
        stall_after_days: 16,
      },
      {
        stage: 'Propose',
        stage_id: 'propose',
        index: 2,
        reached: 4,
        conversion: 0.25,
        lost_at: 1,
        stalled: 2,
        stall_after_days: 14,
      },
      {
        stage: 'Close',
        stage_id: 'close',
        index: 3,
        reached: 1,
        conversion: 1,
        lost_at: 0,
        stalled: 0,
        stall_after_days: 14,
      },
    ]);
    expect(out.summary).toMatchObject({ pipeline: 'nb', cohort: 7, won: 1 });
    expect(out.notes?.[0]).toMatch(/no --pipeline given: the default pipeline, nb/);
  });

  it('makes one funnel per owner; a rep with no wins ends in null', async () => {
    // anna: C1 (3, won), C2 (2, lost at propose), C6 (2) -> reached [3,3,3,1], stalled propose C6.
    // ben: C3 (1), C4 (0, lost at qualify), C5 (0) -> reached [3,1,0,0], no win in nb;
    //   stalled qualify C7 (not in the cohort, but open now), demo C3.
    // carl: C8 (2) -> reached [1,1,1,0], stalled propose C8. dave: nothing in the cohort, and
    //   C10 is not stalled: no funnel.
    const out = await report(store, 'funnel', NOW, { ...P, by: 'owner' });
    expect(pick(out.rows, 'owner_id', 'stage_id', 'reached', 'conversion', 'lost_at', 'stalled')).toEqual([
      ['anna', 'qualify', 3, 1, 0, 0],
      ['anna', 'demo', 3, 1, 0, 0],
      ['anna', 'propose', 3, 0.3333, 1, 1],
      ['anna', 'close', 1, 1, 0, 0],
      ['ben', 'qualify', 3, 0.3333, 1, 1],
      ['ben', 'demo', 1, 0, 0, 1],
      ['ben', 'propose', 0, null, 0, 0],
      ['ben', 'close', 0, null, 0, 0],
      ['carl', 'qualify', 1, 1, 0, 0],
      ['carl', 'demo', 1, 1, 0, 0],
      ['carl', 'propose', 1, 0, 0, 1],
      ['carl', 'close', 0, null, 0, 0],
    ]);
    expect(out.rows[0]).toMatchObject({ owner: 'Anna', owner_id: 'anna', stage: 'Qualify', index: 0 });
  });

  it('groups by product', async () => {
    // A: C1, C2, C6, C8 -> reached [4,4,4,1]; B: C3, C4, C5 -> reached [3,1,0,0].
    const out = await report(store, 'funnel', NOW, { ...P, by: 'product' });
    expect(pick(out.rows, 'product', 'reached', 'conversion', 'lost_at', 'stalled')).toEqual([
      ['A', 4, 1, 0, 0],
      ['A', 4, 1, 0, 0],
      ['A', 4, 0.25, 1, 2],
      ['A', 1, 1, 0, 0],
      ['B', 3, 0.3333, 1, 1],
      ['B', 1, 0, 0, 1],
      ['B', 0, null, 0, 0],
      ['B', 0, null, 0, 0],
    ]);
  });

  it('groups by team', async () => {
    // t1 = anna + ben: C1, C2, C6, C3, C4, C5 -> furthest 3, 2, 2, 1, 0, 0 -> reached [6,4,3,1];
    //   stalled C7 (qualify), C3 (demo), C6 (propose). t2 = carl + dave: C8 -> [1,1,1,0]; C8 stalled.
    const out = await report(store, 'funnel', NOW, { ...P, by: 'team' });
    expect(pick(out.rows, 'team_id', 'reached', 'conversion', 'lost_at', 'stalled')).toEqual([
      ['t1', 6, 0.6667, 1, 1],
      ['t1', 4, 0.75, 0, 1],
      ['t1', 3, 0.3333, 1, 1],
      ['t1', 1, 1, 0, 0],
      ['t2', 1, 1, 0, 0],
      ['t2', 1, 1, 0, 0],
      ['t2', 1, 0, 0, 1],
      ['t2', 0, null, 0, 0],
    ]);
  });

  it('takes --pipeline: a lead won from the first stage never reaches the last', async () => {
    // Pipeline up: cohort C5 (first up stay 03-07; C8's was in February), won from scope.
    // reached [1, 0]; scope->done 0/1; done: won 1 / reached 0 -> null. Nothing open in up.
    const out = await report(store, 'funnel', NOW, { ...P, pipeline: 'up' });
    expect(pick(out.rows, 'stage_id', 'reached', 'conversion', 'lost_at', 'stalled', 'stall_after_days')).toEqual([
      ['scope', 1, 0, 0, 0, 14],
      ['done', 0, null, 0, 0, 14],
    ]);
    expect(out.summary).toMatchObject({ pipeline: 'up', cohort: 1, won: 1 });
    expect(out.notes?.some((n) => n.includes('--pipeline'))).toBe(false);
  });

  it('shows stalled leads for an empty period, with thresholds as of its end', async () => {
    // June 2025: no cohort. No demo stays ended in the 365 days before 2025-07-01, so demo's
    // threshold is the 14-day default, and C10 (15.6 days in demo) is stalled too.
    const out = await report(store, 'funnel', NOW, { from: '2025-06-01', to: '2025-07-01' });
    expect(pick(out.rows, 'stage_id', 'reached', 'conversion', 'stalled', 'stall_after_days')).toEqual([
      ['qualify', 0, null, 1, 3],
      ['demo', 0, null, 2, 14],
      ['propose', 0, null, 2, 14],
      ['close', 0, null, 0, 14],
    ]);
  });

  it('takes the median of an even number of stays as the mean of the middle two', async () => {
    // Demo stays that ended before March: H01..H20, 1..20 days -> (10 + 11) / 2. With C1..C8's
    // March stays: the 25 of the thresholds above, the 13th smallest 8 days.
    const before = await completedStayMedians(
      store.db,
      { owners: null },
      'nb',
      ['demo', 'propose'],
      0,
      Date.parse('2026-03-01T00:00:00Z'),
    );
    expect(before).toEqual([{ key: 'demo', count: 20, median: 10.5 }]);
    const year = await completedStayMedians(
      store.db,
      { owners: null },
      'nb',
      ['demo'],
      Date.parse('2025-04-01T00:00:00+02:00'),
      Date.parse('2026-04-01T00:00:00+02:00'),
    );
    expect(year).toEqual([{ key: 'demo', count: 25, median: 8 }]);
  });

  it('refuses groupings the funnel has no meaning for', async () => {
    await expect(report(store, 'funnel', NOW, { ...P, by: 'week' })).rejects.toThrow(
      /funnel cannot be grouped by "week"/,
    );
    await expect(report(store, 'funnel', NOW, { ...P, pipeline: 'nope' })).rejects.toThrow(/unknown pipeline "nope"/);
    await expect(report(store, 'funnel', NOW, { ...P, options: { window: '7' } })).rejects.toThrow(
      /funnel has no --window option/,
    );
  });

  it('calibration counts a lead that moved pipelines in each pipeline it reached', async () => {
    // Closed in March (C6 was reopened, so it is not closed): C1 won (nb furthest 3), C2 lost (nb 2),
    // C4 lost (nb 0), C5 won (nb 0, then up scope 0: its stays are in two pipelines). Won counts
    // wherever the lead closed. Historical p over the 365 days before now adds H01..H20 (lost
    // in nb demo): qualify 2 won of 24, demo 1 of 22.
    const out = await report(store, 'calibration', NOW, P);
    expect(pick(out.rows, 'pipeline', 'stage_id', 'probability', 'reached', 'won', 'realised')).toEqual([
      ['nb', 'qualify', 0.0833, 4, 2, 0.5],
      ['nb', 'demo', 0.0455, 2, 1, 0.5],
      ['nb', 'propose', 0.5, 2, 1, 0.5],
      ['nb', 'close', 1, 1, 1, 1],
      ['up', 'scope', 1, 1, 1, 1],
      ['up', 'done', null, 0, 0, null],
    ]);
  });

  it('keeps on each lead how far it got in its pipeline, and whether it has stays elsewhere', async () => {
    const leads = await store.db
      .selectFrom('leads')
      .select(['id', 'furthest_index', 'other_pipelines'])
      .where('id', 'in', ['C1', 'C3', 'C5', 'C8'])
      .orderBy('id')
      .execute();
    // C3 went back to qualify and on to demo again; C5 and C8 each moved to the other pipeline.
    expect(leads).toEqual([
      { id: 'C1', furthest_index: 3, other_pipelines: 0 },
      { id: 'C3', furthest_index: 1, other_pipelines: 0 },
      { id: 'C5', furthest_index: 0, other_pipelines: 1 },
      { id: 'C8', furthest_index: 2, other_pipelines: 1 },
    ]);
  });
});

describe.each(dialects)('lead reach on %s', (dialect) => {
  it('kept by the engine event by event, equals the reach computed from the stays', async () => {
    const store = await scenarioStore(dialect, 'funnel');
    try {
      const read = () =>
        store.db.selectFrom('leads').select(['id', 'furthest_index', 'other_pipelines']).orderBy('id').execute();
      const kept = await read();
      await store.db.updateTable('leads').set({ furthest_index: null, other_pipelines: 0 }).execute();
      await fillLeadReach(store.db);
      expect(await read()).toEqual(kept);
      expect(kept.filter((l) => l.other_pipelines === 1).map((l) => l.id)).toEqual(['C5', 'C8']);
    } finally {
      await store.close();
    }
  });
});
