import { beforeAll, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore } from '../../src/store/db.js';
import { fixture, fixtureText } from '../import/support.js';
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

  it('a dry run lists every problem as file:line: column: message and exits 1', async () => {
    const r = await cli(['import', 'pipedrive', fixture('pipedrive-bad.csv'), '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 7)).toEqual([
      'pipedrive-bad.csv:4: Deal - Deal created: "2026-13-45 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
      'pipedrive-bad.csv:5: Deal - Value: "12k" is not a number',
      'pipedrive-bad.csv:6: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
      'pipedrive-bad.csv:7: Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
      'pipedrive-bad.csv:8: Deal - ID: duplicate record id "206" (also on line 9)',
      'pipedrive-bad.csv:9: Deal - ID: duplicate record id "206" (also on line 8)',
      'pipedrive-bad.csv:10: Deal - Won time: closes (2025-12-24) before it was created (2026-01-15)',
    ]);
    expect(r.stdout).toContain('9 records, 2 valid, 7 invalid; 7 errors, 0 warnings');
    expect(r.stdout).toContain('dry run: nothing written');
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
      const rows = await store.db.selectFrom('leads').select(['id', 'product', 'value_minor']).orderBy('id').execute();
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

  it('an unknown format is a usage error', async () => {
    const r = await cli(['import', 'zoho', fixture('generic-deals.csv')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain('unknown format "zoho" (expected pipedrive, hubspot, salesforce, maven, generic)');
  });
});
