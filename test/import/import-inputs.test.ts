import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportRejected, runImport, type ImportOptions } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import type { Store } from '../../src/store/db.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * What the user passed, named as passed: a missing file or folder, an empty file (no header: not an
 * import of nothing), and the warnings a dry run lists, each naming its column (Maven's product
 * correction with its count, HubSpot's ignored stage date).
 */

const store = importStores();

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-inputs-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function dryRun(s: Store, format: ImportOptions['format'], path: string): ReturnType<typeof runImport> {
  return runImport(s, { format, path, dryRun: true, skipInvalid: false, now: IMPORT_NOW, actor: { kind: 'import' } });
}

async function refusal(run: Promise<unknown>): Promise<string> {
  const e = await run.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImportRejected);
  return (e as Error).message;
}

describe('import inputs', () => {
  it('names a missing file or folder, and a folder that is not the Maven data set', async () => {
    const s = await store('sqlite');
    const dir = folder({ 'sales_teams.csv': 'sales_agent,manager,regional_office\n' });
    expect(await refusal(dryRun(s, 'pipedrive', join(dir, 'deals.csv')))).toBe(
      `file not found: ${join(dir, 'deals.csv')}`,
    );
    expect(await refusal(dryRun(s, 'pipedrive', dir))).toBe(`${dir} is a folder: give the export file`);
    expect(await refusal(dryRun(s, 'maven', join(dir, 'nope')))).toBe(`folder not found: ${join(dir, 'nope')}`);
    expect(await refusal(dryRun(s, 'maven', dir))).toBe(
      `${dir} is not the Maven CRM folder: sales_pipeline.csv, sales_teams.csv, products.csv, accounts.csv expected ` +
        '(missing: sales_pipeline.csv, products.csv, accounts.csv)',
    );
  });

  it('refuses an empty file instead of importing nothing', async () => {
    const s = await store('sqlite');
    const path = join(folder({ 'empty.csv': '' }), 'empty.csv');
    expect(await refusal(dryRun(s, 'pipedrive', path))).toBe(
      'empty.csv: the file is empty (not even a header row): nothing to import',
    );
  });

  it("lists Maven's product correction once, with its count", async () => {
    const s = await store('sqlite');
    const deal = (id: string, product: string): string => `${id},Moses Frase,${product},Cancity,Prospecting,,,`;
    const dir = folder({
      'sales_teams.csv': 'sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n',
      'products.csv': 'product,series,sales_price\nGTX Pro,GTX,4821\n',
      'accounts.csv':
        'account,sector,year_established,revenue,employees,office_location,subsidiary_of\nCancity,retail,2001,,,United States,\n',
      'sales_pipeline.csv': [
        'opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value',
        deal('A1', 'GTX Pro'),
        deal('A2', 'GTXPro'),
        deal('A3', 'GTXPro'),
      ].join('\n'),
    });
    const r = await runImport(s, {
      format: 'maven',
      path: dir,
      rates: { text: 'USD,0.9\n', label: 'rates.csv' },
      dryRun: true,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'sales_pipeline.csv:3: product: warning: "GTXPro" corrected to "GTX Pro" (the name in products.csv) on 2 rows',
    ]);
    expect(r).toMatchObject({ errors: 0, warnings: 1, valid: 3 });
  });

  it('names the column of a HubSpot stage date it ignores', async () => {
    const s = await store('sqlite');
    const path = join(
      folder({
        'hs.csv': [
          'Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Deal owner,Create Date,' +
            '"Date entered ""Qualified To Buy (Sales Pipeline)""","Date entered ""Presentation Scheduled (Sales Pipeline)"""',
          '9501,Moved back,Qualified To Buy,Sales Pipeline,1000,,Anna Schmidt,2026-02-01 09:00,2026-02-10 09:00,2026-02-20 09:00',
        ].join('\n'),
      }),
      'hs.csv',
    );
    const r = await dryRun(s, 'hubspot', path);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'hs.csv:2: Date entered "Presentation Scheduled (Sales Pipeline)": warning: the date entering Presentation Scheduled ' +
        "is after the current stage's entry; ignored",
    ]);
  });
});
