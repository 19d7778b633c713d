import { copyFileSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { fireTimers } from '../../src/engine/scheduler.js';
import type { ImportFormat } from '../../src/import/formats/index.js';
import { ImportRejected, runImport, type ImportOptions, type ImportReport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import { listAudit } from '../../src/store/audit.js';
import { withTransaction, type Store } from '../../src/store/db.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import { suppress } from '../../src/store/suppressions.js';
import { latestProcess } from '../../src/store/processes.js';
import { dialects } from '../support/stores.js';
import { fixture, fixtureText, IMPORT_NOW, importStores, MAVEN_DIR, utc } from './support.js';

/** `stageflow import` against real databases: the fixtures of each format, safety, re-runs, resume, Maven. */

const store = importStores();

function importFile(
  s: Store,
  format: ImportFormat,
  path: string,
  opts: Partial<ImportOptions> & { mappingFile?: string } = {},
): Promise<ImportReport> {
  const { mappingFile, ...rest } = opts;
  return runImport(s, {
    format,
    path,
    ...(mappingFile ? { mapping: { text: fixtureText(mappingFile), label: mappingFile } } : {}),
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import', id: 'tester' },
    ...rest,
  });
}

const TABLES = [
  'leads',
  'stage_stays',
  'tasks',
  'events',
  'run_log',
  'outbox',
  'owner_history',
  'field_history',
  'activities',
  'import_runs',
  'import_seen',
  'audit_log',
  'accounts',
  'products',
  'process_versions',
] as const;

async function counts(s: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) {
    const r = await s.db
      .selectFrom(t)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    out[t] = Number(r.n);
  }
  return out;
}

interface LeadView {
  id: string;
  pipeline: string;
  stage: string;
  status: string;
  owner: string | null;
  value: number | null;
  createdAt: number;
  closedAt: number | null;
}

async function leads(s: Store): Promise<LeadView[]> {
  const rows = await s.db.selectFrom('leads').selectAll().orderBy('id').execute();
  return rows.map((l) => ({
    id: l.id,
    pipeline: l.pipeline,
    stage: l.stage,
    status: l.status,
    owner: l.owner,
    value: l.value_minor,
    createdAt: l.created_at,
    closedAt: l.closed_at,
  }));
}

type StayRow = [stage: string, entered: number, exited: number | null, kind: string | null];
async function staysOf(s: Store, lead: string): Promise<StayRow[]> {
  const rows = await s.db.selectFrom('stage_stays').selectAll().where('lead_id', '=', lead).orderBy('seq').execute();
  for (const r of rows) expect([r.imported, r.entered_via]).toEqual([1, 'import']);
  return rows.map((r) => [r.stage, r.entered_at, r.exited_at, r.exit_kind]);
}

/** pipedrive-bad.csv: one problem per line, then a line (12) with three, every one of them reported. */
const BAD_FILE_PROBLEMS = [
  'pipedrive-bad.csv:4: Deal - Deal created: "2026-13-45 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
  'pipedrive-bad.csv:5: Deal - Value: "12k" is not a number',
  'pipedrive-bad.csv:6: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
  'pipedrive-bad.csv:7: Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
  'pipedrive-bad.csv:8: Deal - ID: duplicate record id "206" (also on line 9)',
  'pipedrive-bad.csv:9: Deal - ID: duplicate record id "206" (also on line 8)',
  'pipedrive-bad.csv:10: Deal - Won time: closes on "2025-12-24 09:00:00", before it was created on "2026-01-15 10:00:00"',
  'pipedrive-bad.csv:12: Deal - Deal created: "2026-02-30 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
  'pipedrive-bad.csv:12: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
  'pipedrive-bad.csv:12: Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
];

describe.each(dialects)('stageflow import on %s', (dialect) => {
  it('Pipedrive: leads, statuses, values in minor units, owners by name/email/id and rebuilt stays', async () => {
    const s = await store(dialect);
    const r = await importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'));
    expect(r).toMatchObject({ outcome: 'imported', records: 5, valid: 5, invalid: 0, written: 5, kept: 0, errors: 0 });
    expect(await leads(s)).toEqual([
      {
        id: 'pipedrive:101',
        pipeline: 'nb',
        stage: 'demo',
        status: 'open',
        owner: 'anna',
        value: 1_250_000,
        createdAt: utc('2026-01-05T08:15'),
        closedAt: null,
      },
      {
        id: 'pipedrive:102',
        pipeline: 'nb',
        stage: 'proposal',
        status: 'won',
        owner: 'ben',
        value: 800_050,
        createdAt: utc('2025-11-10T09:00'),
        closedAt: utc('2026-01-15T15:30'),
      },
      {
        id: 'pipedrive:103',
        pipeline: 'nb',
        stage: 'contact',
        status: 'lost',
        owner: 'carla',
        value: 300_000,
        createdAt: utc('2025-12-01T07:00'),
        closedAt: utc('2026-01-10T11:00'),
      },
      {
        id: 'pipedrive:104',
        pipeline: 'nb',
        stage: 'qualified',
        status: 'open',
        owner: 'carla',
        value: null,
        createdAt: utc('2026-02-01T12:45:10'),
        closedAt: null,
      },
      {
        id: 'pipedrive:105',
        pipeline: 'nb',
        stage: 'negotiation',
        status: 'open',
        owner: 'ben',
        value: 25_000_000,
        createdAt: utc('2025-10-01T07:00'),
        closedAt: null,
      },
    ]);
    expect(await staysOf(s, 'pipedrive:101')).toEqual([
      ['qualified', utc('2026-01-05T08:15'), utc('2026-01-20T13:00'), 'moved'],
      ['demo', utc('2026-01-20T13:00'), null, null],
    ]);
    expect(await staysOf(s, 'pipedrive:102')).toEqual([
      ['qualified', utc('2025-11-10T09:00'), utc('2025-12-01T10:00'), 'moved'],
      ['proposal', utc('2025-12-01T10:00'), utc('2026-01-15T15:30'), 'won'],
    ]);
    expect(await staysOf(s, 'pipedrive:103')).toEqual([
      ['contact', utc('2025-12-01T07:00'), utc('2026-01-10T11:00'), 'lost'],
    ]);
    const l105 = await s.db.selectFrom('leads').selectAll().where('id', '=', 'pipedrive:105').executeTakeFirstOrThrow();
    expect(l105).toMatchObject({
      name: 'Stark Industries, EMEA',
      email: 'pepper@stark.example',
      company: 'Stark Industries',
      phone: '+1 212 555 0100',
      import_source: 'pipedrive',
      source_id: '105',
      expected_close: utc('2026-06-29T22:00'),
    });
    // The contact's name (Person - Name) is kept as the fields mail merge reads.
    expect(JSON.parse(l105.fields)).toMatchObject({ first_name: 'Pepper', last_name: 'Potts' });
    const l103 = await s.db.selectFrom('leads').selectAll().where('id', '=', 'pipedrive:103').executeTakeFirstOrThrow();
    expect(l103.close_reason).toBe('Went with a competitor');

    // No automation: no tasks, no outbox rows, and the scheduler finds nothing to alert on old stays.
    const after = await counts(s);
    expect([after.tasks, after.outbox]).toEqual([0, 0]);
    await fireTimers(new Engine(s), IMPORT_NOW + 60_000, 'until');
    expect((await counts(s)).outbox).toBe(0);

    const audit = await listAudit(s.db, { action: 'import' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'tester', action: 'import', target: 'pipedrive:pipedrive-deals.csv' });
    expect(audit[0]?.details).toMatchObject({ run: r.runId, format: 'pipedrive', written: 5, records: 5 });
    const runs = await s.db.selectFrom('import_runs').selectAll().execute();
    expect(runs.map((x) => [x.status, x.rows_written, x.checkpoint_line])).toEqual([['done', 5, 6]]);
  });

  it('HubSpot: stays from the per-stage "Date entered" columns, closed deals in the stage they closed in', async () => {
    const s = await store(dialect);
    const r = await importFile(s, 'hubspot', fixture('hubspot-deals.csv'));
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0, warnings: 1 });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'hubspot-deals.csv:5: Date entered "Decision Maker Bought-In (Sales Pipeline)": warning: ' +
        "the date entering Decision Maker Bought-In is after the current stage's entry; ignored",
    ]);
    expect((await leads(s)).map((l) => [l.id, l.pipeline, l.stage, l.status, l.owner, l.value])).toEqual([
      ['hubspot:9001', 'hs', 'presentation', 'open', 'anna', 2_400_000],
      ['hubspot:9002', 'hs', 'contract', 'won', 'ben', 1_500_075],
      ['hubspot:9003', 'hs', 'qualified-to-buy', 'lost', 'carla', 500_000],
      ['hubspot:9004', 'hs', 'qualified-to-buy', 'open', 'anna', 720_000],
    ]);
    expect(await staysOf(s, 'hubspot:9002')).toEqual([
      ['appointment', utc('2025-12-01T07:00'), utc('2025-12-10T08:00'), 'moved'],
      ['qualified-to-buy', utc('2025-12-10T08:00'), utc('2026-01-30T08:00'), 'moved'],
      ['contract', utc('2026-01-30T08:00'), utc('2026-02-20T16:00'), 'won'],
    ]);
    expect((await staysOf(s, 'hubspot:9003')).at(-1)).toEqual([
      'qualified-to-buy',
      utc('2026-01-05T14:00'),
      utc('2026-01-25T11:00'),
      'lost',
    ]);
    // Moved back: Presentation (10 Jan) came before the current Qualified To Buy (20 Jan).
    expect(await staysOf(s, 'hubspot:9004')).toEqual([
      ['appointment', utc('2026-01-02T07:30'), utc('2026-01-10T10:00'), 'moved'],
      ['presentation', utc('2026-01-10T10:00'), utc('2026-01-20T15:00'), 'moved'],
      ['qualified-to-buy', utc('2026-01-20T15:00'), null, null],
    ]);
    // An open deal's Close Date is its expected close.
    const l = await s.db.selectFrom('leads').selectAll().where('id', '=', 'hubspot:9001').executeTakeFirstOrThrow();
    expect([l.expected_close, l.closed_at]).toEqual([utc('2026-04-29T22:00'), null]);
  });

  it('Salesforce report: quoted values, US dates, "USD 12,500.00", footer lines skipped; a mapping file refines it', async () => {
    const s = await store(dialect);
    // The amounts are in US dollars ("USD 12,500.00", "$8,000.00") and the organisation's currency is
    // the euro: without a rate nothing is imported, and each line says why and what to do.
    const refused = await importFile(s, 'salesforce', fixture('salesforce-opportunities.csv'), {
      mappingFile: 'salesforce-mapping.yaml',
    });
    expect(refused).toMatchObject({ outcome: 'refused', records: 4, invalid: 3, errors: 3, written: 0 });
    const noRate =
      "Amount: the value is in USD, not EUR (the organisation's currency), and no exchange rate for USD was given: " +
      'pass --rates FILE with a line "USD,RATE" (1 USD = RATE EUR)';
    const errors = refused.problems.filter((p) => p.severity === 'error').slice(0, 3);
    expect(errors.map(formatImportProblem)).toEqual(
      [2, 3, 4].map((line) => `salesforce-opportunities.csv:${line}: ${noRate}`),
    );
    expect((await counts(s)).leads).toBe(0);

    const r = await importFile(s, 'salesforce', fixture('salesforce-opportunities.csv'), {
      mappingFile: 'salesforce-mapping.yaml',
      rates: { text: fixtureText('rates.csv'), label: 'rates.csv' },
    });
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0, warnings: 0, converted: 3 });
    // At 1 USD = 0.9 EUR: 12,500.00 -> 11,250.00; 8,000.00 -> 7,200.00; 3,000.00 -> 2,700.00.
    expect((await leads(s)).map((l) => [l.id, l.pipeline, l.stage, l.status, l.owner, l.value, l.closedAt])).toEqual([
      ['salesforce:0065g00000AbCdE1', 'sf', 'quote', 'open', 'anna', 1_125_000, null],
      ['salesforce:0065g00000AbCdE2', 'sf', 'negotiation', 'won', 'ben', 720_000, utc('2026-02-14T23:00')],
      ['salesforce:0065g00000AbCdE3', 'sf', 'prospecting', 'lost', 'carla', 270_000, utc('2026-01-19T23:00')],
      ['salesforce:0065g00000AbCdE4', 'sf', 'prospecting', 'open', 'anna', null, null],
    ]);
    const e1 = await s.db
      .selectFrom('leads')
      .select('fields')
      .where('id', '=', 'salesforce:0065g00000AbCdE1')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(e1.fields)).toMatchObject({
      value: 11250,
      original_value: 12500,
      original_currency: 'USD',
      exchange_rate: 0.9,
    });
    expect(await staysOf(s, 'salesforce:0065g00000AbCdE2')).toEqual([
      ['negotiation', utc('2025-11-02T23:00'), utc('2026-02-14T23:00'), 'won'],
    ]);
    const l = await s.db
      .selectFrom('leads')
      .selectAll()
      .where('id', '=', 'salesforce:0065g00000AbCdE2')
      .executeTakeFirstOrThrow();
    expect([l.source, l.company, l.name]).toEqual(['Partner Referral', 'Globex', 'Globex renewal']);
  });

  it('Salesforce report with a title block above the header: the header is found below it', async () => {
    const s = await store(dialect);
    const dir = mkdtempSync(join(tmpdir(), 'sf-title-'));
    const path = join(dir, 'report.csv');
    const title = '"Opportunity Pipeline Report"\n"Northwind Metrics"\n"As of 11/28/2026 4:05 AM"\n\n';
    writeFileSync(path, title + fixtureText('salesforce-opportunities.csv'));
    const r = await importFile(s, 'salesforce', path, {
      mappingFile: 'salesforce-mapping.yaml',
      rates: { text: fixtureText('rates.csv'), label: 'rates.csv' },
    });
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0 });
    expect((await leads(s)).map((l) => l.id)).toContain('salesforce:0065g00000AbCdE2');
    // A title block longer than a report's, or a header that never comes, is the header problem.
    writeFileSync(path, '"Report"\n'.repeat(12) + fixtureText('salesforce-opportunities.csv'));
    await expect(
      importFile(s, 'salesforce', path, { mappingFile: 'salesforce-mapping.yaml', dryRun: true }),
    ).rejects.toThrow(/report\.csv:1: column "[^"]+" \(mapped to \w+\) is not in the file's header/);
  });

  it("Pipedrive's currency column: the organisation's currency as it is, others at the --rates rate", async () => {
    const s = await store(dialect);
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-import-')), 'deals.csv');
    writeFileSync(
      path,
      [
        'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Owner,Deal - Status,Deal - Deal created',
        '1,Euro deal,1000,EUR,Qualified,anna,open,2026-01-05 10:00',
        '2,Franc deal,1000,chf,Qualified,anna,open,2026-01-05 10:00',
        '3,Dollar deal,2500.5,USD,Qualified,ben,open,2026-01-05 10:00',
        '4,Krona deal,1000,SEK,Qualified,ben,open,2026-01-05 10:00',
      ].join('\n'),
    );
    const rates = { text: fixtureText('rates.yaml'), label: 'rates.yaml' };
    const refused = await importFile(s, 'pipedrive', path, { rates });
    expect(refused.problems.map(formatImportProblem)).toEqual([
      'deals.csv:5: Deal - Currency: the value is in SEK, not EUR (the organisation\'s currency), and no exchange rate for SEK was given: pass --rates FILE with a line "SEK,RATE" (1 SEK = RATE EUR)',
    ]);
    const r = await importFile(s, 'pipedrive', path, { rates, skipInvalid: true });
    expect(r).toMatchObject({ outcome: 'imported', written: 3, converted: 2 });
    const rows = await s.db.selectFrom('leads').select(['id', 'value_minor', 'fields']).orderBy('id').execute();
    expect(rows.map((l) => [l.id, l.value_minor, JSON.parse(l.fields)['original_currency'] ?? null])).toEqual([
      ['pipedrive:1', 100_000, null],
      ['pipedrive:2', 105_000, 'CHF'],
      ['pipedrive:3', 225_045, 'USD'],
    ]);
    expect(JSON.parse(rows[2]?.fields ?? '{}')).toMatchObject({ value: 2250.45, original_value: 2500.5 });
  });

  it('a rates file with mistakes is refused whole, each mistake with its line', async () => {
    const s = await store(dialect);
    const text = 'currency,rate\nUSD,0.9\nUS,1\nGBP,-1\nUSD,0.95\nEUR,2\n';
    await expect(
      importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'), { rates: { text, label: 'r.csv' } }),
    ).rejects.toThrow(
      new ImportRejected(
        [
          'r.csv:3: "US" is not a currency code (three letters such as USD)',
          'r.csv:4: the rate "-1" is not a positive number with a decimal point (such as 0.92)',
          'r.csv:5: USD has a rate already (line 2)',
          "r.csv:6: EUR is the organisation's currency: its rate can only be 1",
        ].join('\n'),
      ),
    );
    expect((await counts(s)).leads).toBe(0);
  });

  it('generic CSV with a mapping: dd/MM/yyyy, decimal commas, aliases, stage names, custom fields', async () => {
    const s = await store(dialect);
    const r = await importFile(s, 'generic', fixture('generic-deals.csv'), { mappingFile: 'generic-mapping.yaml' });
    expect(r).toMatchObject({ outcome: 'imported', source: 'legacy-crm', records: 4, written: 4, errors: 0 });
    const rows = await s.db.selectFrom('leads').selectAll().orderBy('id').execute();
    expect(rows.map((l) => [l.id, l.stage, l.status, l.owner, l.value_minor, l.product, l.territory])).toEqual([
      ['legacy-crm:G-1', 'proposal', 'open', 'anna', 1_250_000, 'GTX Pro', 'DACH'],
      ['legacy-crm:G-2', 'negotiation', 'won', 'ben', 109_950, 'GTX Basic', 'DACH'],
      ['legacy-crm:G-3', 'qualified', 'lost', 'carla', 482_100, 'GTX Pro', 'France'],
      ['legacy-crm:G-4', 'qualified', 'open', 'anna', 55_000, 'GTX Basic', 'Italia'],
    ]);
    expect([rows[1]?.created_at, rows[1]?.closed_at]).toEqual([utc('2025-11-09T23:00'), utc('2026-01-15T15:30')]);
    expect(JSON.parse(rows[0]?.fields ?? '{}')).toMatchObject({ segment: 'Mittelstand', company: 'Müller GmbH' });
  });

  it('generic CSV separated by semicolons, as the mapping says, imports the same leads', async () => {
    const s = await store(dialect);
    const r = await importFile(s, 'generic', fixture('generic-deals-semicolon.csv'), {
      mappingFile: 'generic-mapping-semicolon.yaml',
    });
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0 });
    const rows = await s.db.selectFrom('leads').select(['id', 'value_minor', 'product']).orderBy('id').execute();
    expect(rows.map((l) => [l.id, l.value_minor, l.product])).toEqual([
      ['legacy-crm:G-1', 1_250_000, 'GTX Pro'],
      ['legacy-crm:G-2', 109_950, 'GTX Basic'],
      ['legacy-crm:G-3', 482_100, 'GTX Pro'],
      ['legacy-crm:G-4', 55_000, 'GTX Basic'],
    ]);
    // A mapping that names no separator: the header is found with ";" all the same.
    const guessed = await importFile(s, 'generic', fixture('generic-deals-semicolon.csv'), {
      mappingFile: 'generic-mapping.yaml',
    });
    expect(guessed).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0 });
    // One that says "," is taken at its word: one column per line, refused at the header.
    const comma = { text: `${fixtureText('generic-mapping.yaml')}\ndelimiter: ','\n`, label: 'comma.yaml' };
    await expect(importFile(s, 'generic', fixture('generic-deals-semicolon.csv'), { mapping: comma })).rejects.toThrow(
      /generic-deals-semicolon\.csv:1: column/,
    );
  });

  it('--dry-run checks everything and writes nothing', async () => {
    const s = await store(dialect);
    const before = await counts(s);
    for (const [format, file] of [
      ['pipedrive', 'pipedrive-deals.csv'],
      ['pipedrive', 'pipedrive-bad.csv'],
      ['hubspot', 'hubspot-deals.csv'],
    ] as const) {
      const r = await importFile(s, format, fixture(file), { dryRun: true });
      expect(r.outcome).toBe('checked');
      expect(r.written).toBe(0);
    }
    const maven = await runImport(s, {
      format: 'maven',
      path: MAVEN_DIR,
      // Maven's dollars into this EUR organisation need their rate.
      rates: { text: fixtureText('rates.csv'), label: 'rates.csv' },
      dryRun: true,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect([maven.outcome, maven.records, maven.errors]).toEqual(['checked', 8800, 0]);
    expect(await counts(s)).toEqual(before);
  });

  it('a file with errors imports nothing and names file, line and column (BOM, CRLF, a multi-line value)', async () => {
    const s = await store(dialect);
    const before = await counts(s);
    const r = await importFile(s, 'pipedrive', fixture('pipedrive-bad.csv'));
    expect(r).toMatchObject({ outcome: 'refused', records: 10, valid: 2, invalid: 8, errors: 10, written: 0 });
    expect(r.problems.map(formatImportProblem)).toEqual(BAD_FILE_PROBLEMS);
    expect(await counts(s)).toEqual(before);
    // The dry run reports exactly the same, a row's three problems included.
    const dry = await importFile(s, 'pipedrive', fixture('pipedrive-bad.csv'), { dryRun: true });
    expect(dry).toMatchObject({ outcome: 'checked', records: 10, invalid: 8, errors: 10 });
    expect(dry.problems.map(formatImportProblem)).toEqual(BAD_FILE_PROBLEMS);
    expect(await counts(s)).toEqual(before);
  });

  it('a row is checked column by column: a bad date does not hide an unknown owner, stage or duplicate id', async () => {
    const s = await store(dialect);
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-import-')), 'deals.csv');
    writeFileSync(
      path,
      [
        'Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Owner,Deal - Status,Deal - Deal created,Deal - Won time',
        '1,Fine,100,Qualified,anna,open,2026-01-05 10:00,',
        '1,Everything wrong,12k,Signed,Zed,won,yesterday,',
        '2,Bad status and owner,100,Qualified,Zed,deleted,2026-01-05 10:00,',
      ].join('\n'),
    );
    const r = await importFile(s, 'pipedrive', path, { dryRun: true });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'deals.csv:2: Deal - ID: duplicate record id "1" (also on line 3)',
      'deals.csv:3: Deal - Value: "12k" is not a number',
      'deals.csv:3: Deal - Deal created: "yesterday" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
      'deals.csv:3: Deal - Stage: unknown stage "Signed" in pipeline nb (known: Qualified, Contact Made, Demo Scheduled, Proposal Made, Negotiations Started)',
      'deals.csv:3: Deal - Owner: unknown owner "Zed" (not a user id, name or email of the process)',
      'deals.csv:3: Deal - Won time: a won deal needs its close date',
      'deals.csv:3: Deal - ID: duplicate record id "1" (also on line 2)',
      'deals.csv:4: Deal - Status: unknown status "deleted" (expected open, won, lost)',
      'deals.csv:4: Deal - Owner: unknown owner "Zed" (not a user id, name or email of the process)',
    ]);
  });

  it('--skip-invalid imports the valid records and lists the skipped lines with their reasons', async () => {
    const s = await store(dialect);
    const r = await importFile(s, 'pipedrive', fixture('pipedrive-bad.csv'), { skipInvalid: true });
    expect(r).toMatchObject({ outcome: 'imported', written: 2, errors: 10 });
    expect(r.skipped.map((x) => [x.line, x.sourceId, x.reasons.length])).toEqual([
      [4, '202', 1],
      [5, '203', 1],
      [6, '204', 1],
      [7, '205', 1],
      [8, '206', 1],
      [9, '206', 1],
      [10, '207', 1],
      [12, '209', 3],
    ]);
    expect(r.skipped[4]?.reasons).toEqual(['duplicate record id']);
    expect(r.skipped[3]?.reasons[0]).toMatch(/^unknown owner "Zed Nobody"/);
    const rows = await s.db.selectFrom('leads').select(['id', 'name']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'pipedrive:201', name: 'Wayne Enterprises\r\n(second line of the title)' },
      { id: 'pipedrive:208', name: 'Valid after the errors' },
    ]);
  });

  it('a mapped column missing from the header stops the import before anything is written', async () => {
    const s = await store(dialect);
    const before = await counts(s);
    await expect(importFile(s, 'pipedrive', fixture('pipedrive-missing-column.csv'))).rejects.toThrow(
      new ImportRejected(
        'pipedrive-missing-column.csv:1: column "Deal - Stage" (mapped to stage) is not in the file\'s header',
      ),
    );
    expect(await counts(s)).toEqual(before);
  });

  it('re-running updates the same leads, never duplicates, and leaves leads worked in Stageflow alone', async () => {
    const s = await store(dialect);
    await importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'));
    const engine = new Engine(s);
    const moved = await engine.handle(
      { type: 'lead.moved', lead: 'pipedrive:101', stage: 'proposal', override: false },
      IMPORT_NOW,
    );
    expect(moved.ok).toBe(true);

    // The same file again: everything but the worked lead is rewritten in place.
    const again = await importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'));
    expect(again).toMatchObject({ outcome: 'imported', written: 4, kept: 1, resumedFromLine: null });
    expect((await counts(s)).leads).toBe(5);
    expect(
      await s.db.selectFrom('stage_stays').select('id').where('lead_id', '=', 'pipedrive:102').execute(),
    ).toHaveLength(2);

    // A changed export: values and stages follow it, except on the lead worked since.
    const changed = readFileSync(fixture('pipedrive-deals.csv'), 'utf8')
      .replace('102,Globex renewal,8000.5', '102,Globex renewal,9100')
      .replace('101,Acme Corp deal,12500', '101,Acme Corp deal,99999')
      .replace('104,Umbrella first order,,EUR,Qualified', '104,Umbrella first order,700,EUR,Contact Made');
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-import-')), 'pipedrive-deals.csv');
    writeFileSync(path, changed);
    const third = await importFile(s, 'pipedrive', path);
    expect(third).toMatchObject({ written: 4, kept: 1 });
    const view = new Map((await leads(s)).map((l) => [l.id, l]));
    expect(view.size).toBe(5);
    expect(view.get('pipedrive:102')?.value).toBe(910_000);
    expect([view.get('pipedrive:104')?.value, view.get('pipedrive:104')?.stage]).toEqual([70_000, 'contact']);
    expect([view.get('pipedrive:101')?.value, view.get('pipedrive:101')?.stage]).toEqual([1_250_000, 'proposal']);
    const worked = await s.db
      .selectFrom('stage_stays')
      .selectAll()
      .where('lead_id', '=', 'pipedrive:101')
      .orderBy('seq')
      .execute();
    expect(worked.map((x) => [x.stage, x.imported])).toEqual([
      ['qualified', 1],
      ['demo', 1],
      ['proposal', 0],
    ]);
    expect((await listAudit(s.db, { action: 'import' })).length).toBe(3);
  });

  it('an erased contact is not brought back: the deal imports without their name, email or phone', async () => {
    const s = await store(dialect);
    const keys = await contactKeys(s.db);
    await withTransaction(s, (tx) => suppress(tx, keys.hash('Jane.Doe@acme-corp.example'), 'erased', IMPORT_NOW));
    const r = await importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'));
    expect(r.outcome).toBe('imported');
    expect(r.problems.some((p) => p.severity === 'warning' && /contact was erased/.test(p.message))).toBe(true);
    const lead = await s.db.selectFrom('leads').selectAll().where('id', '=', 'pipedrive:101').executeTakeFirstOrThrow();
    expect(lead.email).toBeNull();
    expect(lead.phone).toBeNull();
    expect(lead.name).toBe(keys.pseudonym('jane.doe@acme-corp.example'));
    expect(lead.fields).not.toMatch(/jane/i);
    expect(lead.value_minor).toBe(1_250_000);
  });

  it('imports fire no automations unless asked; --automations takes open leads live through the engine', async () => {
    const live = fixtureText('process.yaml')
      .replace(
        '- { id: demo, name: Demo Scheduled }',
        '- { id: demo, name: Demo Scheduled, tasks: [{ id: prep, title: Prepare the demo, kind: demo, due: { days: 1 } }], on_enter: [{ email: { template: hello } }] }',
      )
      .concat('\ntemplates:\n  hello: { subject: Hi, body: Hello }\n');
    const quiet = await store(dialect, false);
    await applyProcess(quiet, live, IMPORT_NOW - 86_400_000, 'test');
    await importFile(quiet, 'pipedrive', fixture('pipedrive-deals.csv'));
    expect(await counts(quiet)).toMatchObject({ tasks: 0, outbox: 0, events: 0 });

    const loud = await store(dialect, false);
    await applyProcess(loud, live, IMPORT_NOW - 86_400_000, 'test');
    const r = await importFile(loud, 'pipedrive', fixture('pipedrive-deals.csv'), { automations: true });
    const open = await loud.db.selectFrom('leads').select('id').where('status', '=', 'open').execute();
    expect(r.activated).toBe(open.length);
    // pipedrive:101 is open in Demo Scheduled: the imported stay ends, a live one starts now with its task and mail.
    const stays = await loud.db
      .selectFrom('stage_stays')
      .selectAll()
      .where('lead_id', '=', 'pipedrive:101')
      .orderBy('seq')
      .execute();
    expect(stays.at(-2)).toMatchObject({ stage: 'demo', imported: 1, exited_at: IMPORT_NOW, exit_kind: 'moved' });
    expect(stays.at(-1)).toMatchObject({ stage: 'demo', imported: 0, entered_at: IMPORT_NOW, exited_at: null });
    const tasks = await loud.db.selectFrom('tasks').selectAll().where('lead_id', '=', 'pipedrive:101').execute();
    expect(tasks.map((t) => [t.template, t.due_at])).toEqual([['prep', IMPORT_NOW + 86_400_000]]);
    const mail = await loud.db.selectFrom('outbox').select(['kind']).where('lead_id', '=', 'pipedrive:101').execute();
    expect(mail.map((m) => m.kind)).toContain('email');
    // Closed deals stay history; a second activation is refused.
    const engine = new Engine(loud);
    const again = await engine.handle({ type: 'lead.activated', lead: 'pipedrive:101' }, IMPORT_NOW + 1000);
    expect(again.ok).toBe(false);
  });

  it('resumes an interrupted run after its last committed batch', async () => {
    const s = await store(dialect);
    // Another lead already holds Pipedrive record 104's key: the batch with 104 fails in the database.
    await importFile(s, 'generic', fixture('generic-deals.csv'), { mappingFile: 'generic-mapping.yaml' });
    await s.db
      .updateTable('leads')
      .set({ import_source: 'pipedrive', source_id: '104' })
      .where('id', '=', 'legacy-crm:G-4')
      .execute();
    const file = fixture('pipedrive-deals.csv');
    await expect(importFile(s, 'pipedrive', file, { batchSize: 2 })).rejects.toThrow();
    // Lines 2 and 3 (records 101, 102) were committed; the batch of 103 and 104 was rolled back.
    expect((await leads(s)).map((l) => l.id).filter((id) => id.startsWith('pipedrive:'))).toEqual([
      'pipedrive:101',
      'pipedrive:102',
    ]);
    const run = await s.db
      .selectFrom('import_runs')
      .selectAll()
      .where('format', '=', 'pipedrive')
      .executeTakeFirstOrThrow();
    expect([run.status, run.checkpoint_line, run.rows_written]).toEqual(['writing', 3, 2]);

    await s.db
      .updateTable('leads')
      .set({ import_source: 'legacy-crm', source_id: 'G-4' })
      .where('id', '=', 'legacy-crm:G-4')
      .execute();
    const resumed = await importFile(s, 'pipedrive', file, { batchSize: 2 });
    expect(resumed).toMatchObject({ outcome: 'imported', resumedFromLine: 3, runId: run.id, written: 5, kept: 0 });
    expect((await leads(s)).filter((l) => l.id.startsWith('pipedrive:'))).toHaveLength(5);
    const done = await s.db.selectFrom('import_runs').selectAll().where('id', '=', run.id).executeTakeFirstOrThrow();
    expect([done.status, done.checkpoint_line, done.rows_written]).toEqual(['done', 6, 5]);
    expect(await s.db.selectFrom('import_runs').select('id').where('format', '=', 'pipedrive').execute()).toHaveLength(
      1,
    );
  });

  it("resumes by the file's content, not its path: renamed it continues, changed it is imported afresh", async () => {
    const s = await store(dialect);
    // As above: another lead holds Pipedrive record 104's key, so the batch with 104 fails.
    await importFile(s, 'generic', fixture('generic-deals.csv'), { mappingFile: 'generic-mapping.yaml' });
    const hold = (record: string | null): Promise<unknown> =>
      s.db
        .updateTable('leads')
        .set(
          record
            ? { import_source: 'pipedrive', source_id: record }
            : { import_source: 'legacy-crm', source_id: 'G-4' },
        )
        .where('id', '=', 'legacy-crm:G-4')
        .execute();
    const pipedriveLeads = async (): Promise<string[]> =>
      (await leads(s)).map((l) => l.id).filter((id) => id.startsWith('pipedrive:'));
    const runOf = async (id: string | null) =>
      s.db
        .selectFrom('import_runs')
        .selectAll()
        .where('id', '=', id ?? '')
        .executeTakeFirstOrThrow();

    await hold('104');
    const first = join(mkdtempSync(join(tmpdir(), 'stageflow-upload-')), 'upload.csv');
    copyFileSync(fixture('pipedrive-deals.csv'), first);
    await expect(importFile(s, 'pipedrive', first, { batchSize: 2 })).rejects.toThrow();
    expect(await pipedriveLeads()).toEqual(['pipedrive:101', 'pipedrive:102']);
    const interrupted = await s.db
      .selectFrom('import_runs')
      .selectAll()
      .where('format', '=', 'pipedrive')
      .executeTakeFirstOrThrow();
    expect([interrupted.status, interrupted.checkpoint_line]).toEqual(['writing', 3]);

    // The same bytes under another name in another folder (a new upload, a moved file): it resumes.
    await hold(null);
    const renamed = join(mkdtempSync(join(tmpdir(), 'stageflow-moved-')), 'deals-march.csv');
    renameSync(first, renamed);
    const resumed = await importFile(s, 'pipedrive', renamed, { batchSize: 2 });
    expect(resumed).toMatchObject({ outcome: 'imported', resumedFromLine: 3, runId: interrupted.id, written: 5 });
    expect(await pipedriveLeads()).toEqual([
      'pipedrive:101',
      'pipedrive:102',
      'pipedrive:103',
      'pipedrive:104',
      'pipedrive:105',
    ]);
    expect((await runOf(interrupted.id)).status).toBe('done');
    const stays = await s.db
      .selectFrom('stage_stays')
      .select('lead_id')
      .where('lead_id', 'like', 'pipedrive:%')
      .execute();
    expect(stays).toHaveLength(8); // 101: 2, 102: 2, 103: 1, 104: 1, 105: 2: none twice

    // A longer export (record 106 added) is interrupted at the batch with 106, then changes where it
    // lies: the unfinished run is not resumed, the file is imported from its first line.
    const longer = `${readFileSync(renamed, 'utf8')}106,Initrode,1000,EUR,Qualified,New business,anna,open,2026-02-02 10:00:00,,,,,,,,,\n`;
    writeFileSync(renamed, longer);
    await hold('106');
    await expect(importFile(s, 'pipedrive', renamed, { batchSize: 2 })).rejects.toThrow();
    const second = await s.db
      .selectFrom('import_runs')
      .selectAll()
      .where('status', '=', 'writing')
      .executeTakeFirstOrThrow();
    expect(second.checkpoint_line).toBe(5);
    await hold(null);
    writeFileSync(renamed, longer.replace('101,Acme Corp deal,12500', '101,Acme Corp deal,13000'));
    const afresh = await importFile(s, 'pipedrive', renamed, { batchSize: 2 });
    expect(afresh).toMatchObject({ outcome: 'imported', resumedFromLine: null, written: 6, kept: 0 });
    expect(afresh.runId).not.toBe(second.id);
    expect((await runOf(second.id)).status).toBe('writing'); // left unfinished: that file is gone
    expect(await pipedriveLeads()).toHaveLength(6);
    expect((await leads(s)).find((l) => l.id === 'pipedrive:101')?.value).toBe(1_300_000);
    expect(
      await s.db.selectFrom('stage_stays').select('lead_id').where('lead_id', 'like', 'pipedrive:%').execute(),
    ).toHaveLength(9);
  });

  it('a progress callback that throws fails the import cleanly; the run resumes from its start', async () => {
    const s = await store(dialect);
    const file = fixture('hubspot-deals.csv');
    const failing = importFile(s, 'hubspot', file, {
      onProgress: (p) => {
        if (p.phase === 'writing') throw new Error('interrupted');
      },
    });
    await expect(failing).rejects.toThrow('interrupted');
    expect((await counts(s)).leads).toBe(0);
    const r = await importFile(s, 'hubspot', file);
    expect(r).toMatchObject({ resumedFromLine: 0, written: 4 });
  });
});

/** The Maven data set, with every expected figure computed here from its CSV files. */
function mavenFacts(): {
  rows: Record<string, string>[];
  agents: Record<string, string>[];
  accounts: Record<string, string>[];
} {
  const table = (file: string): Record<string, string>[] => {
    const [head, ...lines] = readFileSync(join(MAVEN_DIR, file), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l !== '');
    const cols = (head ?? '').split(',');
    return lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i], v])));
  };
  return { rows: table('sales_pipeline.csv'), agents: table('sales_teams.csv'), accounts: table('accounts.csv') };
}

describe.each(dialects)('Maven data set on %s', (dialect) => {
  it('imports the four files: deals, reps and managers, teams, territories, products and accounts', async () => {
    const facts = mavenFacts();
    const s = await store(dialect, false);
    const r = await runImport(s, {
      format: 'maven',
      path: MAVEN_DIR,
      dryRun: false,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    // A fresh organisation takes Maven's currency, USD: nothing is converted.
    expect(r).toMatchObject({
      outcome: 'imported',
      records: facts.rows.length,
      errors: 0,
      processApplied: 1,
      converted: 0,
    });
    expect((await latestProcess(s.db))?.process.organisation.currency).toBe('USD');

    const byStage = (stage: string): Record<string, string>[] => facts.rows.filter((x) => x['deal_stage'] === stage);
    const status = async (st: string): Promise<number> =>
      Number(
        (
          await s.db
            .selectFrom('leads')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '=', st)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(facts.rows).toHaveLength(8800);
    expect(await status('won')).toBe(byStage('Won').length);
    expect(await status('lost')).toBe(byStage('Lost').length);
    expect(await status('open')).toBe(byStage('Engaging').length + byStage('Prospecting').length);
    expect([byStage('Won').length, byStage('Lost').length]).toEqual([4238, 2473]);

    const wonSum = byStage('Won').reduce((a, x) => a + Number(x['close_value']), 0);
    expect(wonSum).toBe(10_005_534);
    const sum = await s.db
      .selectFrom('leads')
      .select((eb) => eb.fn.sum<number>('value_minor').as('v'))
      .where('status', '=', 'won')
      .executeTakeFirstOrThrow();
    expect(Number(sum.v)).toBe(wonSum * 100);

    // The cycle: each won deal's stay in Engaging runs from its engage date to its close date.
    const day = 86_400_000;
    const cycle = byStage('Won').reduce(
      (a, x) => a + (Date.parse(x['close_date']!) - Date.parse(x['engage_date']!)),
      0,
    );
    const stays = await s.db
      .selectFrom('stage_stays')
      .innerJoin('leads', 'leads.id', 'stage_stays.lead_id')
      .select((eb) => [
        eb.fn.sum<number>(eb('stage_stays.exited_at', '-', eb.ref('stage_stays.entered_at'))).as('ms'),
        eb.fn.countAll<number>().as('n'),
      ])
      .where('leads.status', '=', 'won')
      .where('stage_stays.exit_kind', '=', 'won')
      .where('stage_stays.stage', '=', 'engaging')
      .where('stage_stays.imported', '=', 1)
      .executeTakeFirstOrThrow();
    expect([Number(stays.n), Number(stays.ms) / day]).toEqual([4238, cycle / day]);
    const lostStays = await s.db
      .selectFrom('stage_stays')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('exit_kind', '=', 'lost')
      .executeTakeFirstOrThrow();
    expect(Number(lostStays.n)).toBe(2473);

    // Reps and managers are users; one team per manager; the regional office is the territory.
    const process = (await latestProcess(s.db))?.process;
    const managers = [...new Set(facts.agents.map((a) => a['manager']))];
    expect(facts.agents).toHaveLength(35);
    expect(process?.users).toHaveLength(35 + managers.length);
    for (const a of facts.agents) {
      const u = process?.users.find((x) => x.name === a['sales_agent']);
      expect(u?.territories, a['sales_agent']).toEqual([a['regional_office']]);
    }
    expect(process?.teams.map((t) => t.members.length).sort()).toEqual(
      managers.map((m) => facts.agents.filter((a) => a['manager'] === m).length).sort(),
    );
    for (const t of process?.teams ?? []) {
      const manager = process?.users.find((u) => u.id === t.manager)?.name;
      expect(managers).toContain(manager);
    }
    const owners = await s.db.selectFrom('leads').select('owner').distinct().execute();
    expect(owners).toHaveLength(new Set(facts.rows.map((x) => x['sales_agent'])).size);

    // GTXPro is stored as the product's own name.
    const gtxPro = facts.rows.filter((x) => x['product'] === 'GTXPro').length;
    expect(gtxPro).toBeGreaterThan(0);
    const products = await s.db
      .selectFrom('leads')
      .select(['product', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('product')
      .execute();
    expect(products.find((p) => p.product === 'GTXPro')).toBeUndefined();
    expect(Number(products.find((p) => p.product === 'GTX Pro')?.n)).toBe(gtxPro);
    expect((await s.db.selectFrom('products').selectAll().execute()).map((p) => p.name).sort()).toContain('GTX Pro');

    // Accounts: every row, with the misspelt sector corrected.
    const accounts = await s.db.selectFrom('accounts').selectAll().execute();
    expect(accounts).toHaveLength(facts.accounts.length);
    expect(accounts).toHaveLength(85);
    const tech = facts.accounts.filter((a) => a['sector'] === 'technolgy' || a['sector'] === 'technology').length;
    expect(accounts.filter((a) => a.sector === 'technology')).toHaveLength(tech);
    expect(accounts.filter((a) => a.sector === 'technolgy')).toHaveLength(0);

    // A second run changes nothing and adds no process version.
    const again = await runImport(s, {
      format: 'maven',
      path: MAVEN_DIR,
      dryRun: false,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect(again).toMatchObject({ written: 8800, kept: 0, processApplied: null });
    expect((await counts(s)).leads).toBe(8800);
    expect((await counts(s)).process_versions).toBe(1);
  });
});

it('Maven into an organisation that already has a process: its deals go to the Maven pipeline', async () => {
  const s = await store('sqlite');
  const r = await runImport(s, {
    format: 'maven',
    path: MAVEN_DIR,
    rates: { text: fixtureText('rates.csv'), label: 'rates.csv' },
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
  });
  expect(r).toMatchObject({ outcome: 'imported', errors: 0, written: 8800, processApplied: 2 });
  const pipelines = await s.db.selectFrom('leads').select('pipeline').distinct().execute();
  expect(pipelines).toEqual([{ pipeline: 'maven' }]);
  const process = (await latestProcess(s.db))?.process;
  expect(process?.users.map((u) => u.id)).toEqual(expect.arrayContaining(['anna', 'ben', 'carla']));
  expect(process?.pipelines.find((p) => p.default)?.id).toBe('nb');
});

describe.each(dialects)('Maven into a EUR organisation on %s', (dialect) => {
  const maven = (s: Store, rates?: string): Promise<ImportReport> =>
    runImport(s, {
      format: 'maven',
      path: MAVEN_DIR,
      ...(rates ? { rates: { text: rates, label: 'rates.csv' } } : {}),
      dryRun: false,
      skipInvalid: false,
      maxProblems: 50,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });

  it("close_value is USD: refused without a USD rate, converted at --rates and kept as the file's dollars", async () => {
    const s = await store(dialect);
    const before = await counts(s);
    const refused = await maven(s);
    // Every deal has a dollar value (an open one its product's list price): each is refused, as any
    // format's; and the accounts' revenue, in dollars too, once for the file.
    expect(refused).toMatchObject({ outcome: 'refused', records: 8800, invalid: 8800, errors: 8801, written: 0 });
    const errors = refused.problems.filter((p) => p.severity === 'error').slice(0, 3);
    const noRate =
      "the value is in USD, not EUR (the organisation's currency), " +
      'and no exchange rate for USD was given: pass --rates FILE with a line "USD,RATE" (1 USD = RATE EUR)';
    expect(errors.map(formatImportProblem)).toEqual([
      `accounts.csv:2: revenue: ${noRate}`,
      ...[2, 3].map((line) => `sales_pipeline.csv:${line}: close_value: ${noRate}`),
    ]);
    expect(await counts(s)).toEqual(before);

    const r = await maven(s, 'USD,0.9\n');
    expect(r).toMatchObject({ outcome: 'imported', errors: 0, written: 8800, converted: 8800 });
    // By hand from the CSV: each won deal's dollars at 0.9, rounded to the cent, in minor units.
    const won = mavenFacts().rows.filter((x) => x['deal_stage'] === 'Won');
    const euros = won.reduce((a, x) => a + Math.round(Number(x['close_value']) * 0.9 * 100), 0);
    const sum = await s.db
      .selectFrom('leads')
      .select((eb) => eb.fn.sum<number>('value_minor').as('v'))
      .where('status', '=', 'won')
      .executeTakeFirstOrThrow();
    expect(Number(sum.v)).toBe(euros);
    const first = won[0] as Record<string, string>;
    const lead = await s.db
      .selectFrom('leads')
      .select(['value_minor', 'fields'])
      .where('id', '=', `maven:${first['opportunity_id']}`)
      .executeTakeFirstOrThrow();
    expect(Number(lead.value_minor)).toBe(Math.round(Number(first['close_value']) * 90));
    expect(JSON.parse(lead.fields)).toMatchObject({
      value: Math.round(Number(first['close_value']) * 90) / 100,
      original_value: Number(first['close_value']),
      original_currency: 'USD',
      exchange_rate: 0.9,
    });
  });
});
