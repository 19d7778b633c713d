import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImportFormat } from '../../src/import/formats/index.js';
import { runImport, type ImportOptions, type ImportReport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores, utc } from './support.js';

/**
 * Two guards of `stageflow import`, on both databases: a stage entered on a day before the deal was
 * created is refused like a close before it (a stay would start before created_at), and Maven's
 * account revenue, in US dollars, is converted into the organisation's currency like its deals.
 * The organisation of process.yaml is in Europe/Berlin (UTC+1 in February) and counts in EUR.
 */

const store = importStores();

/** Writes files into a new temporary folder and gives its path. */
function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-guards-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function importAt(
  s: Store,
  format: ImportFormat,
  path: string,
  opts: Partial<ImportOptions> = {},
): Promise<ImportReport> {
  return runImport(s, {
    format,
    path,
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import', id: 'tester' },
    ...opts,
  });
}

async function count(s: Store, table: 'leads' | 'stage_stays' | 'import_runs' | 'accounts'): Promise<number> {
  const r = await s.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const errorsOf = (r: ImportReport): string[] =>
  r.problems.filter((p) => p.severity === 'error').map(formatImportProblem);

const HUBSPOT = [
  'Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Deal owner,Create Date,' +
    '"Date entered ""Qualified To Buy (Sales Pipeline)""","Date entered ""Presentation Scheduled (Sales Pipeline)"""',
  '9401,Entered on the creation day,Presentation Scheduled,Sales Pipeline,1000,,Anna Schmidt,2026-02-10 09:15,2026-02-10,2026-02-12',
  '9402,Entered days before,Presentation Scheduled,Sales Pipeline,2000,,Ben Okafor,2026-02-10 09:15,2026-02-01,2026-02-12',
  '9403,Entered that morning,Presentation Scheduled,Sales Pipeline,3000,,Carla Diaz,2026-02-10 09:15,,2026-02-10 08:00',
  '9404,Entered and closed before,Closed Won,Sales Pipeline,4000,2026-02-09,Anna Schmidt,2026-02-10 09:15,2026-02-05,',
].join('\n');

const CREATED = '"2026-02-10 09:15"';
const QTB = 'Date entered "Qualified To Buy (Sales Pipeline)"';
const HUBSPOT_ERRORS = [
  `hubspot-early.csv:3: ${QTB}: entered on "2026-02-01", before it was created on ${CREATED}`,
  // A time of day is not moved: 08:00 is before 09:15 the same day.
  `hubspot-early.csv:4: Date entered "Presentation Scheduled (Sales Pipeline)": entered on "2026-02-10 08:00", before it was created on ${CREATED}`,
  `hubspot-early.csv:5: ${QTB}: entered on "2026-02-05", before it was created on ${CREATED}`,
  `hubspot-early.csv:5: Close Date: closes on "2026-02-09", before it was created on ${CREATED}`,
];

const PIPEDRIVE = [
  'Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Owner,Deal - Status,Deal - Deal created,Deal - Last stage change',
  '501,Stage changed the creation day,1000,Demo Scheduled,Anna Schmidt,open,2026-02-10 09:15,2026-02-10',
  '502,Stage changed the evening before,2000,Demo Scheduled,Ben Okafor,open,2026-02-10 09:15,2026-02-09 17:00',
].join('\n');

describe.each(dialects)('a stage entered before the deal was created, on %s', (dialect) => {
  it('is refused by a dry run and a real run, quoting both dates, and nothing is written', async () => {
    const s = await store(dialect);
    const path = join(folder({ 'hubspot-early.csv': HUBSPOT }), 'hubspot-early.csv');
    const dry = await importAt(s, 'hubspot', path, { dryRun: true });
    expect(errorsOf(dry)).toEqual(HUBSPOT_ERRORS);
    expect(dry).toMatchObject({ outcome: 'checked', records: 4, valid: 1, invalid: 3 });

    const real = await importAt(s, 'hubspot', path);
    expect(errorsOf(real)).toEqual(HUBSPOT_ERRORS);
    expect(real).toMatchObject({ outcome: 'refused', written: 0 });
    expect([await count(s, 'leads'), await count(s, 'stage_stays'), await count(s, 'import_runs')]).toEqual([0, 0, 0]);
  });

  it('--skip-invalid skips them; a day alone on the creation day is still entered at the creation', async () => {
    const s = await store(dialect);
    const path = join(folder({ 'hubspot-early.csv': HUBSPOT }), 'hubspot-early.csv');
    const r = await importAt(s, 'hubspot', path, { skipInvalid: true });
    expect(r).toMatchObject({ outcome: 'imported', written: 1 });
    expect(r.skipped.map((x) => x.line)).toEqual([3, 4, 5]);
    const lead = await s.db.selectFrom('leads').select(['id', 'created_at']).executeTakeFirstOrThrow();
    // 09:15 in Berlin is 08:15 UTC; "2026-02-12" is its midnight there, 23:00 UTC the day before.
    expect([lead.id, Number(lead.created_at)]).toEqual(['hubspot:9401', utc('2026-02-10T08:15')]);
    const stays = await s.db
      .selectFrom('stage_stays')
      .select(['stage', 'entered_at', 'exited_at'])
      .orderBy('seq')
      .execute();
    expect(
      stays.map((x) => [x.stage, Number(x.entered_at), x.exited_at === null ? null : Number(x.exited_at)]),
    ).toEqual([
      ['qualified-to-buy', utc('2026-02-10T08:15'), utc('2026-02-11T23:00')],
      ['presentation', utc('2026-02-11T23:00'), null],
    ]);
  });

  it("Pipedrive's Last stage change before the creation is refused; on the creation day it is placed there", async () => {
    const s = await store(dialect);
    const path = join(folder({ 'pipedrive-early.csv': PIPEDRIVE }), 'pipedrive-early.csv');
    const r = await importAt(s, 'pipedrive', path, { skipInvalid: true });
    expect(errorsOf(r)).toEqual([
      `pipedrive-early.csv:3: Deal - Last stage change: entered on "2026-02-09 17:00", before it was created on ${CREATED}`,
    ]);
    expect(r).toMatchObject({ outcome: 'imported', written: 1 });
    const stays = await s.db.selectFrom('stage_stays').select(['lead_id', 'stage', 'entered_at']).execute();
    expect(stays.map((x) => [x.lead_id, x.stage, Number(x.entered_at)])).toEqual([
      ['pipedrive:501', 'demo', utc('2026-02-10T08:15')],
    ]);
  });
});

/** A tiny copy of the Maven data set: one rep, one product, three accounts (one without revenue), one deal. */
function mavenFolder(deals = true): string {
  return folder({
    'sales_teams.csv': 'sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n',
    'products.csv': 'product,series,sales_price\nGTX Plus Basic,GTX,1096\n',
    'accounts.csv': [
      'account,sector,year_established,revenue,employees,office_location,subsidiary_of',
      'Acme Corporation,technolgy,1996,1100.04,2822,United States,',
      'Betasoloin,medical,1999,251.41,495,United States,',
      'Cancity,retail,2001,,,United States,',
    ].join('\n'),
    'sales_pipeline.csv': [
      'opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value',
      ...(deals ? ['1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054'] : []),
    ].join('\n'),
  });
}

async function revenues(s: Store): Promise<Record<string, number | null>> {
  const rows = await s.db.selectFrom('accounts').select(['name', 'revenue_minor']).orderBy('name').execute();
  return Object.fromEntries(rows.map((a) => [a.name, a.revenue_minor === null ? null : Number(a.revenue_minor)]));
}

const noUsdRate = (file: string, line: number, column: string): string =>
  `${file}:${line}: ${column}: the value is in USD, not EUR (the organisation's currency), and no exchange rate ` +
  'for USD was given: pass --rates FILE with a line "USD,RATE" (1 USD = RATE EUR)';

describe.each(dialects)('Maven account revenue and list prices on %s', (dialect) => {
  it('is converted into EUR at the --rates USD rate, as the deals are', async () => {
    const s = await store(dialect);
    const r = await importAt(s, 'maven', mavenFolder(), { rates: { text: 'USD,0.9\n', label: 'rates.csv' } });
    expect(r).toMatchObject({ outcome: 'imported', errors: 0, written: 1, converted: 1 });
    // By hand: 1100.04 million dollars is 110,004,000,000 cents, at 0.9 990,036,000.00 euros;
    // 251.41 million is 25,141,000,000 cents, 226,269,000.00 euros. The deal: 1054 dollars, 948.60 euros.
    expect(await revenues(s)).toEqual({
      'Acme Corporation': 99_003_600_000,
      Betasoloin: 22_626_900_000,
      Cancity: null,
    });
    const lead = await s.db.selectFrom('leads').select('value_minor').executeTakeFirstOrThrow();
    expect(Number(lead.value_minor)).toBe(94_860);
    // The catalog's list price too: 1096 dollars, 986.40 euros.
    const product = await s.db.selectFrom('products').select('list_price_minor').executeTakeFirstOrThrow();
    expect(Number(product.list_price_minor)).toBe(98_640);
  });

  it('is refused without a USD rate, also when no deal would say so, and --skip-invalid cannot skip it', async () => {
    const s = await store(dialect);
    // Once, at the first account with a revenue: one rate is missing, not one per account.
    const accountErrors = [noUsdRate('accounts.csv', 2, 'revenue')];
    const withDeals = await importAt(s, 'maven', mavenFolder(), { skipInvalid: true });
    expect(errorsOf(withDeals)).toEqual([...accountErrors, noUsdRate('sales_pipeline.csv', 2, 'close_value')]);
    expect(withDeals.outcome).toBe('refused');
    // A deals file without a row: the accounts alone say it.
    const noDeals = await importAt(s, 'maven', mavenFolder(false), { skipInvalid: true });
    expect(errorsOf(noDeals)).toEqual(accountErrors);
    expect(noDeals).toMatchObject({ outcome: 'refused', records: 0 });
    expect([await count(s, 'accounts'), await count(s, 'leads')]).toEqual([0, 0]);
  });

  it('stays in dollars in a fresh database, whose currency is then USD', async () => {
    const s = await store(dialect, false);
    const r = await importAt(s, 'maven', mavenFolder());
    expect(r).toMatchObject({ outcome: 'imported', errors: 0, written: 1, converted: 0 });
    const product = await s.db.selectFrom('products').select('list_price_minor').executeTakeFirstOrThrow();
    expect(Number(product.list_price_minor)).toBe(109_600);
    expect(await revenues(s)).toEqual({
      'Acme Corporation': 110_004_000_000,
      Betasoloin: 25_141_000_000,
      Cancity: null,
    });
  });
});
