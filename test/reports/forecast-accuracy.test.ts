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
