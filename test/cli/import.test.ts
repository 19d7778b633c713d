import { beforeAll, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore } from '../../src/store/db.js';
import { fixture, fixtureText, MAVEN_DIR } from '../import/support.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session } from './helpers.js';

/** `stageflow import` as people run it: three spawns on one SQLite file prepared in-process. */

describe('stageflow import (SQLite)', () => {
  let db: string;
  let cli: ReturnType<typeof session>;

  beforeAll(async () => {
    db = await freshDatabaseUrl('sqlite');
    const store = await openStore(db);
    await applyProcess(store, fixtureText('process.yaml'), Date.parse('2026-03-01T09:00:00Z'), 'test');
    await store.close();
    cli = session(db);
  });

  const BAD_LINES = [
    'pipedrive-bad.csv:4: Deal - Deal created: "2026-13-45 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
    'pipedrive-bad.csv:5: Deal - Value: "12k" is not a number',
    'pipedrive-bad.csv:6: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
    'pipedrive-bad.csv:7: Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
    'pipedrive-bad.csv:8: Deal - ID: duplicate record id "206" (also on line 9)',
    'pipedrive-bad.csv:9: Deal - ID: duplicate record id "206" (also on line 8)',
    'pipedrive-bad.csv:10: Deal - Won time: closes on "2025-12-24 09:00:00", before it was created on "2026-01-15 10:00:00"',
    // One row, three problems: each is listed, so one round of fixes is enough.
    'pipedrive-bad.csv:12: Deal - Deal created: "2026-02-30 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
    'pipedrive-bad.csv:12: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
    'pipedrive-bad.csv:12: Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
  ];

  it('a dry run lists every problem as file:line: column: message and exits 1', async () => {
    const r = await cli(['import', 'pipedrive', fixture('pipedrive-bad.csv'), '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, BAD_LINES.length)).toEqual(BAD_LINES);
    expect(r.stdout).toContain('10 records, 2 valid, 8 invalid; 10 errors, 0 warnings');
    expect(r.stdout).toContain('dry run: nothing written');
  });

  it('a refused real run lists the same problems, writes nothing and exits 1', async () => {
    const r = await cli(['import', 'pipedrive', fixture('pipedrive-bad.csv')]);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n').slice(0, BAD_LINES.length)).toEqual(BAD_LINES);
    expect(r.stdout).toContain('nothing imported: fix the errors above');
    const store = await openStore(db);
    try {
      expect(await store.db.selectFrom('leads').select('id').where('id', 'like', 'pipedrive:%').execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('--rates converts values in another currency; without it the lines and the fix are named', async () => {
    const args = ['import', 'salesforce', fixture('salesforce-opportunities.csv'), '--mapping'];
    const refused = await cli([...args, fixture('salesforce-mapping.yaml')]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      'salesforce-opportunities.csv:2: Amount: the value is in USD, not EUR (the organisation\'s currency), and no exchange rate for USD was given: pass --rates FILE with a line "USD,RATE" (1 USD = RATE EUR)',
    );
    const r = await cli([...args, fixture('salesforce-mapping.yaml'), '--rates', fixture('rates.csv')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('3 records converted from another currency at the --rates rates');
    const shown = await cli(['lead', 'show', 'salesforce:0065g00000AbCdE2']);
    expect(shown.stdout).toContain('original_currency=USD');
    expect(shown.stdout).toContain('original_value=8000');
    expect(shown.stdout).toContain('value=7200');
  });

  it('imports a generic CSV with its mapping file', async () => {
    const r = await cli([
      'import',
      'generic',
      fixture('generic-deals.csv'),
      '--mapping',
      fixture('generic-mapping.yaml'),
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { outcome: string; source: string; written: number; errors: number };
    expect(report).toMatchObject({ outcome: 'imported', source: 'legacy-crm', written: 4, errors: 0 });
    const store = await openStore(db);
    try {
      const rows = await store.db
        .selectFrom('leads')
        .select(['id', 'product', 'value_minor'])
        .where('id', 'like', 'legacy-crm:%')
        .orderBy('id')
        .execute();
      expect(rows.map((x) => [x.id, x.product, x.value_minor])).toEqual([
        ['legacy-crm:G-1', 'GTX Pro', 1_250_000],
        ['legacy-crm:G-2', 'GTX Basic', 109_950],
        ['legacy-crm:G-3', 'GTX Pro', 482_100],
        ['legacy-crm:G-4', 'GTX Basic', 55_000],
      ]);
    } finally {
      await store.close();
    }
  });

  it("maven into this EUR organisation: Maven's dollars need a USD rate, and --rates converts them", async () => {
    // A real run: refused, nothing written.
    const refused = await cli(['import', 'maven', MAVEN_DIR, '--max-problems', '20']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain(
      'sales_pipeline.csv:2: close_value: the value is in USD, not EUR (the organisation\'s currency), and no exchange rate for USD was given: pass --rates FILE with a line "USD,RATE" (1 USD = RATE EUR)',
    );
    // Every deal's close_value, and the accounts' revenue once.
    expect(refused.stdout).toContain('8800 records, 0 valid, 8800 invalid; 8801 errors');
    // Both kinds of error: the accounts file's first, since no record can be skipped for it.
    expect(refused.stdout).toMatch(
      /nothing imported: fix the 1 error in the people, products or accounts files \(no record can be skipped for them\); then fix the records, or pass --skip-invalid\n$/,
    );
    // --skip-invalid skips records, not the accounts file's missing rate: the advice is not to pass it again.
    const still = await cli(['import', 'maven', MAVEN_DIR, '--skip-invalid', '--max-problems', '20']);
    expect(still.code).toBe(1);
    expect(still.stdout).toContain('accounts.csv:2: revenue: the value is in USD');
    expect(still.stdout).toMatch(
      /nothing imported: fix the 1 error in the people, products or accounts files; no record can be skipped for them\n$/,
    );
    const r = await cli(['import', 'maven', MAVEN_DIR, '--dry-run', '--rates', fixture('rates.csv')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('8800 records, 8800 valid, 0 invalid; 0 errors');
    expect(r.stdout).toContain('8800 records converted from another currency at the --rates rates');
  });

  it('an unknown format is a usage error', async () => {
    const r = await cli(['import', 'zoho', fixture('generic-deals.csv')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain('unknown format "zoho" (expected pipedrive, hubspot, salesforce, maven, generic)');
  });
});

describe('stageflow import of date-only values in an organisation east of UTC (SQLite)', () => {
  it('lead show gives the expected close on the day the file says', async () => {
    const db = await freshDatabaseUrl('sqlite');
    const store = await openStore(db);
    const tokyo = fixtureText('process.yaml').replace('timezone: Europe/Berlin', 'timezone: Asia/Tokyo');
    await applyProcess(store, tokyo, Date.parse('2026-03-01T09:00:00Z'), 'test');
    await store.close();
    const cli = session(db);
    const mapping = ['--mapping', fixture('generic-dates-mapping.yaml')];
    // After the file's last stage entry (15 March): what happened cannot be dated after the import.
    const r = await cli(['import', 'generic', fixture('generic-dates.csv'), ...mapping], '2026-03-20T00:00:00Z');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // 31/03/2026 in the file: 31 March in Tokyo (it is 30 March 15:00 in UTC).
    const shown = await cli(['lead', 'show', 'dated:D-3']);
    expect(shown.stdout).toContain('expected_close=2026-03-31T00:00:00+09:00');
    expect(shown.stdout).toContain('since 2026-03-15 00:00 +09:00');
  });
});
