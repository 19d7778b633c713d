import { parse } from 'csv-parse/sync';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { MAVEN_DIR } from '../support/maven.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Issue 3's promise: the Maven data set, imported, gives through the reports the same win rate,
 * deal size and cycle figures a person computes by hand from the CSV files. The hand computation
 * below reads sales_pipeline.csv directly, sharing no code with the importer.
 */

const DIR = MAVEN_DIR;
const DAY = 86_400_000;

interface Deal {
  opportunity_id: string;
  sales_agent: string;
  deal_stage: string;
  engage_date: string;
  close_date: string;
  close_value: string;
}

const deals = parse(readFileSync(join(DIR, 'sales_pipeline.csv')), { columns: true }) as Deal[];
const won = deals.filter((d) => d.deal_stage === 'Won');
const lost = deals.filter((d) => d.deal_stage === 'Lost');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}
function p90(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.ceil(0.9 * s.length) - 1] as number;
}
const days = (d: Deal): number => (Date.parse(d.close_date) - Date.parse(d.engage_date)) / DAY;
const values = won.map((d) => Number(d.close_value));

const PERIOD = { from: '2016-01-01', to: '2018-01-01' };

describe.each(dialects)('the Maven data set through the reports (%s)', (dialect) => {
  let store: Store;
  const now = Date.parse('2026-11-27T00:00:00Z');

  beforeAll(async () => {
    store = await freshStore(dialect);
    const report = await runImport(store, {
      format: 'maven',
      path: DIR,
      dryRun: false,
      skipInvalid: false,
      now,
      actor: { kind: 'import', id: 'test' },
    });
    expect(report.outcome).toBe('imported');
    expect(report.written).toBe(deals.length);
  }, 120_000);
  afterAll(() => store.close());

  it('win rate: won / (won + lost) of the closed deals', async () => {
    const out = await runReport(store, { name: 'win-rate', ...PERIOD, now });
    expect(out.rows).toHaveLength(1);
    expect(out.rows[0]).toMatchObject({
      won: won.length,
      lost: lost.length,
      win_rate: Math.round((won.length / (won.length + lost.length)) * 1e4) / 1e4,
    });
  });

  it('win rate per rep matches a count per sales agent', async () => {
    const out = await runReport(store, { name: 'win-rate', ...PERIOD, by: 'owner', now });
    const agent = 'Darcel Schlecht';
    const w = won.filter((d) => d.sales_agent === agent).length;
    const l = lost.filter((d) => d.sales_agent === agent).length;
    expect(out.rows.find((r) => r['owner'] === agent)).toMatchObject({ won: w, lost: l });
    expect(out.rows.filter((r) => (r['closed'] as number) > 0)).toHaveLength(
      new Set([...won, ...lost].map((d) => d.sales_agent)).size,
    );
  });

  it('deal size: count, sum, mean, median and p90 of the won values', async () => {
    const out = await runReport(store, { name: 'deal-size', ...PERIOD, now });
    const sum = values.reduce((a, b) => a + b, 0);
    expect(out.rows[0]).toMatchObject({
      count: won.length,
      sum,
      mean: Math.round((sum / won.length) * 100) / 100,
      median: median(values),
      p90: p90(values),
    });
    expect(sum).toBe(10_005_534); // the figure the data set's README gives
  });

  it('cycle: days from engagement (the first date the export has) to close', async () => {
    const out = await runReport(store, { name: 'cycle', ...PERIOD, now });
    const w = won.map(days);
    const l = lost.map(days);
    expect(out.rows[0]).toMatchObject({
      count: won.length,
      mean: Math.round((w.reduce((a, b) => a + b, 0) / w.length) * 10_000) / 10_000,
      median: median(w),
      p90: p90(w),
      lost_count: lost.length,
      lost_median: median(l),
    });
  });

  it('coaching names a weakest stage for the reps behind the top quarter', async () => {
    const out = await runReport(store, { name: 'coaching', ...PERIOD, now });
    const behind = out.rows.filter((r) => (r['impact'] as number) > 0);
    expect(behind.length).toBeGreaterThan(10);
    expect(behind.every((r) => r['weakest_stage'] === 'Engaging' || r['weakest_stage'] === 'Prospecting')).toBe(true);
    const impacts = out.rows.map((r) => r['impact'] as number);
    expect(impacts).toEqual([...impacts].sort((a, b) => b - a));
  });
});
