import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadEvent } from '../../src/domain/events.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { takePeriodStartSnapshots } from '../../src/engine/forecast-scheduler.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { applyForecastProcess, at, FORECAST_PROCESS, play } from '../support/forecast-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Forecast accuracy of a rep the start-of-period snapshot does not list, and the count of periods.
 *
 * 2026-11-01 snapshot: A1 anna negotiate 1000 closing 11-20 -> 600; F: anna 600, ben 0, cleo 0.
 * Dora joins on 11-24 (a new process version) and wins D1 700 on 11-25; anna wins A1.
 * November: A anna 1000, dora 700, total 1700; F total 600. Dora had no forecast: no F, not F = 0.
 * August to October: neither a snapshot nor a win.
 */

const create = (lead: string, owner: string, fields: Record<string, string | number> = {}): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields,
});

const WITH_DORA = FORECAST_PROCESS.replace(
  '  - { id: cleo, name: Cleo }\n',
  '  - { id: cleo, name: Cleo }\n  - { id: dora, name: Dora }\n',
).replace('members: [cleo]', 'members: [cleo, dora]');

describe.each(dialects)('forecast-accuracy of a rep missing from the snapshot (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    expect(WITH_DORA).toContain('dora, name: Dora');
    store = await freshStore(dialect);
    await applyForecastProcess(store, at('2026-10-01T00:00:00Z'));
    await play(store, [
      ['2026-10-20T10:00:00Z', create('A1', 'anna', { value: 1000, expected_close: '2026-11-20' })],
      ['2026-10-20T11:00:00Z', { type: 'lead.moved', lead: 'A1', stage: 'negotiate', override: false }],
    ]);
    await takePeriodStartSnapshots(store, at('2026-11-01T00:05:00Z'));
    await applyProcess(store, WITH_DORA, at('2026-11-24T09:00:00Z'), 'test');
    await play(store, [
      ['2026-11-24T10:00:00Z', create('D1', 'dora', { value: 700 })],
      ['2026-11-25T10:00:00Z', { type: 'lead.won', lead: 'D1' }],
      ['2026-11-26T10:00:00Z', { type: 'lead.won', lead: 'A1' }],
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  const run = () =>
    runReport(store, {
      name: 'forecast-accuracy',
      from: '2026-08-01',
      to: '2026-12-01',
      now: at('2026-12-05T12:00:00Z'),
    });

  it('a rep the snapshot does not list has no forecast: null accuracy and bias (no_snapshot), not 0 % and -100 %', async () => {
    const out = await run();
    expect(
      out.rows.map((r) => [r['owner_id'], r['actual'], r['forecast'], r['bias'], r['accuracy'], r['null_reason']]),
    ).toEqual([
      // total: (600 - 1700) / 1700 = -0.6471; 1 - 1100 / 1700 = 0.3529
      [null, 1700, 600, -0.6471, 0.3529, null],
      // anna: (600 - 1000) / 1000 = -0.4
      ['anna', 1000, 600, -0.4, 0.6, null],
      ['ben', 0, 0, null, null, 'no_actual'],
      ['cleo', 0, 0, null, null, 'no_actual'],
      ['dora', 700, null, null, null, 'no_snapshot'],
    ]);
    const dora = out.rows.find((r) => r['owner_id'] === 'dora');
    expect(dora?.['snapshot_at']).toBeNull();
    expect(out.summary?.['by_rep']).toContainEqual({
      owner: 'Dora',
      owner_id: 'dora',
      periods: 1,
      scored: 0,
      late: 0,
      won_nothing: 0,
      accuracy: null,
      bias: null,
    });
  });

  it('summary.periods counts the periods listed, as by_rep does; a note names those with nothing to score', async () => {
    const out = await run();
    expect(out.summary?.['periods']).toBe(1);
    expect(out.notes).toEqual([
      '3 of the 4 months in the window have neither a start-of-period snapshot nor a win and are not listed: 2026-08, 2026-09, 2026-10',
    ]);
  });
});

/**
 * A late start-of-period snapshot, and a forecast with nothing won (review r3, findings 3 and 4).
 *
 * E1 anna 1000 in negotiate (0.6), closing 02-15; C1 cleo 2000 in negotiate, closing 02-20; E2 ben
 * 7000 won 01-20. The first tick of the year runs 02-01 00:30: the 2026-Q1 snapshot is 31 days
 * late and already holds E2: F total 7000 + 600 + 1200 = 8800 (anna 600, ben 7000, cleo 1200);
 * the 2026-02 snapshot is on time: F 600 + 1200 = 1800 (anna 600, cleo 1200). Anna wins E1 on
 * 02-10, cleo loses C1 on 02-12.
 */
describe.each(dialects)('forecast-accuracy: late snapshots and forecasts with nothing won (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await applyForecastProcess(store, at('2026-01-01T00:00:00Z'));
    await play(store, [
      ['2026-01-05T10:00:00Z', create('E1', 'anna', { value: 1000, expected_close: '2026-02-15' })],
      ['2026-01-05T11:00:00Z', { type: 'lead.moved', lead: 'E1', stage: 'negotiate', override: false }],
      ['2026-01-06T10:00:00Z', create('C1', 'cleo', { value: 2000, expected_close: '2026-02-20' })],
      ['2026-01-06T11:00:00Z', { type: 'lead.moved', lead: 'C1', stage: 'negotiate', override: false }],
      ['2026-01-19T10:00:00Z', create('E2', 'ben', { value: 7000 })],
      ['2026-01-20T10:00:00Z', { type: 'lead.won', lead: 'E2' }],
    ]);
    await takePeriodStartSnapshots(store, at('2026-02-01T00:30:00Z'));
    await play(store, [
      ['2026-02-10T10:00:00Z', { type: 'lead.won', lead: 'E1' }],
      ['2026-02-12T10:00:00Z', { type: 'lead.lost', lead: 'C1', reason: 'price' }],
    ]);
  });
  afterAll(async () => {
    await store.close();
  });

  const run = (by: 'month' | 'quarter') =>
    runReport(store, {
      name: 'forecast-accuracy',
      from: '2026-01-01',
      to: '2026-04-01',
      by,
      now: at('2026-04-10T00:00:00Z'),
    });

  it('a snapshot taken more than a day into its period is marked late, named in a note and left out of the means', async () => {
    const q = await run('quarter');
    // A 7000 + 1000 = 8000 against F 8800: bias 800 / 8000 = 0.1, accuracy 0.9; ben 7000 against
    // the 7000 he had already won: "accurate" only because the snapshot came late.
    expect(q.rows.map((r) => [r['owner_id'], r['actual'], r['forecast'], r['late'], r['accuracy']])).toEqual([
      [null, 8000, 8800, true, 0.9],
      ['anna', 1000, 600, true, 0.6],
      ['ben', 7000, 7000, true, 1],
      ['cleo', 0, 1200, true, null],
    ]);
    expect(q.summary?.['by_rep']).toContainEqual({
      owner: 'Ben',
      owner_id: 'ben',
      periods: 1,
      scored: 0,
      late: 1,
      won_nothing: 0,
      accuracy: null,
      bias: null,
    });
    expect(q.notes).toContain(
      "2026-Q1: the start-of-period snapshot was taken 2026-02-01T00:30Z, 31 days after the quarter began, and its forecast already counts 7,000 EUR won before then: its rows are marked late and left out of summary.by_rep's means",
    );
    // February's snapshot, 30 minutes in, is on time: scored and in the means. Anna 600 against
    // 1000: accuracy 0.6 (her one row: January, without a snapshot, lists only ben's win). January
    // had no snapshot: nothing is late there.
    const m = await run('month');
    expect(m.rows.filter((r) => r['owner_id'] === null).map((r) => [r['month'], r['late']])).toEqual([
      ['2026-01', null],
      ['2026-02', false],
    ]);
    expect(m.summary?.['by_rep']).toContainEqual({
      owner: 'Anna',
      owner_id: 'anna',
      periods: 1,
      scored: 1,
      late: 0,
      won_nothing: 0,
      accuracy: 0.6,
      bias: -0.4,
    });
    expect(m.notes?.some((n) => n.includes('late'))).toBe(false);
  });

  it('a forecast that won nothing stays unscored, with its error F - A shown, counted and named in a note', async () => {
    // February: cleo forecast 1200 (C1 2000 x 0.6) and lost C1: A 0, so no bias or accuracy
    // (METRICS.md), but error 1200 - 0 = 1200. Total F 1800 - A 1000 = 800; anna 600 - 1000 = -400;
    // ben 0 - 0 = 0 (nothing forecast, nothing won: not named). January has no snapshot: no error.
    const m = await run('month');
    expect(
      m.rows.map((r) => [r['month'], r['owner_id'], r['forecast'], r['actual'], r['error'], r['accuracy']]),
    ).toEqual([
      ['2026-01', null, null, 7000, null, null],
      ['2026-01', 'ben', null, 7000, null, null],
      ['2026-02', null, 1800, 1000, 800, 0.2],
      ['2026-02', 'anna', 600, 1000, -400, 0.6],
      ['2026-02', 'ben', 0, 0, 0, null],
      ['2026-02', 'cleo', 1200, 0, 1200, null],
    ]);
    expect(m.summary?.['by_rep']).toContainEqual({
      owner: 'Cleo',
      owner_id: 'cleo',
      periods: 1,
      scored: 0,
      late: 0,
      won_nothing: 1,
      accuracy: null,
      bias: null,
    });
    expect(m.notes).toEqual([
      '1 of the 3 months in the window have neither a start-of-period snapshot nor a win and are not listed: 2026-03',
      "forecast money and won nothing (A = 0), so no bias or accuracy and not in summary.by_rep's means; error (F - A) is the whole forecast: 2026-02 Cleo 1,200 EUR",
    ]);
    // The late quarter: named for that too.
    const q = await run('quarter');
    expect(q.notes?.at(-1)).toBe(
      "forecast money and won nothing (A = 0), so no bias or accuracy and not in summary.by_rep's means; error (F - A) is the whole forecast: 2026-Q1 Cleo 1,200 EUR",
    );
  });
});
