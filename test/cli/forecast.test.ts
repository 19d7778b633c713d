import { expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { applyForecastProcess, at, play } from '../support/forecast-fixtures.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { session } from './helpers.js';

/** Quotas and snapshots through the real CLI: three spawns, the data written beforehand through the engine. */

it('stageflow quota set, report quota --format json, forecast snapshot', async () => {
  const url = await freshDatabaseUrl('sqlite');
  const store = await openStore(url);
  try {
    await applyForecastProcess(store, at('2026-11-01T00:00:00Z'));
    await play(store, [
      ['2026-11-02T10:00:00Z', { type: 'lead.created', lead: 'A', owner: 'anna', fields: { value: 1200 } }],
      ['2026-11-03T10:00:00Z', { type: 'lead.won', lead: 'A' }],
      [
        '2026-11-04T10:00:00Z',
        { type: 'lead.created', lead: 'B', owner: 'ben', fields: { value: 1000, expected_close: '2026-11-20' } },
      ],
      ['2026-11-04T11:00:00Z', { type: 'lead.moved', lead: 'B', stage: 'negotiate', override: false }],
    ]);
  } finally {
    await store.close();
  }
  const cli = session(url);

  const set = await cli(['quota', 'set', 'anna', '2026-11', '4800'], '2026-11-05T09:00:00Z');
  expect(set.stderr).toBe('');
  expect(set.stdout).toBe('quota of user anna for 2026-11: 4,800\n');
  const audit = JSON.parse((await cli(['audit', 'list', '--json'])).stdout) as { action: string; details: unknown }[];
  expect(audit.find((a) => a.action === 'quota.set')?.details).toEqual({
    scope: 'user',
    subject: 'anna',
    period: '2026-11',
    amount: 4800,
    previous: null,
  });

  const report = await cli(['report', 'quota', '--period', '2026-11', '--format', 'json'], '2026-11-05T09:00:00Z');
  expect(report.code).toBe(0);
  // anna: 1200 / 4800 = 0.25; ben has neither a win nor a quota, so no row
  expect(JSON.parse(report.stdout)).toEqual({
    report: 'quota',
    from: '2026-11-01',
    to: '2026-12-01',
    by: 'owner', // quota rows are per rep unless --by team says otherwise
    pipeline: null,
    rows: [{ owner: 'Anna', owner_id: 'anna', won_count: 1, won: 1200, quota: 4800, attainment: 0.25 }],
    summary: { period: '2026-11', won: 1200, quota: 4800, attainment: 0.25 },
  });

  const snap = await cli(['--json', 'forecast', 'snapshot', '--period', '2026-11'], '2026-11-05T09:00:00Z');
  expect(snap.code).toBe(0);
  const out = JSON.parse(snap.stdout) as { kind: string; rows: { owner: string | null; forecast: number }[] };
  expect(out.kind).toBe('on_demand');
  // total: won 1200 + B 1000 x 0.6 = 1800; anna 1200, ben 600, cleo 0
  expect(out.rows.map((r) => [r.owner, r.forecast])).toEqual([
    [null, 1800],
    ['anna', 1200],
    ['ben', 600],
    ['cleo', 0],
  ]);

  // The text reads like `report forecast`: names, the category split, numbers right-aligned with separators.
  const list = await cli(['forecast', 'list', '--period', '2026-11'], '2026-11-05T09:00:00Z');
  expect(list.code).toBe(0);
  const lines = list.stdout.split('\n');
  expect(lines[0]).toBe('(money in EUR; times in UTC)');
  expect(lines[1]).toMatch(/^2026-11 {2}on_demand {2}2026-11-05 09:00 \+00:00 {2}on_demand:2026-11:/);
  expect(lines.slice(2, 7).map((l) => l.split(/ {2,}/).filter((c) => c !== ''))).toEqual([
    [
      'owner',
      'won',
      'weighted',
      'forecast',
      'open_leads',
      'without_close_date',
      'past_close_date',
      'past_close_value',
      'weighted_commit',
      'weighted_best_case',
      'weighted_pipeline',
    ],
    ['(total)', '1,200', '600', '1,800', '1', '0', '0', '0', '0', '0', '600'],
    ['Anna', '1,200', '0', '1,200', '0', '0', '0', '0', '0', '0', '0'],
    ['Ben', '0', '600', '600', '1', '0', '0', '0', '0', '0', '600'],
    ['Cleo', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'],
  ]);
  // Right-aligned: the figures end where their header ends.
  expect((lines[3] as string).indexOf('1,800') + 5).toBe((lines[2] as string).indexOf('forecast') + 8);
});
