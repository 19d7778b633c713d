import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import type { ImportFormat } from '../../src/import/formats/index.js';
import { ImportRejected, runImport, type ImportOptions, type ImportReport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';
import { fixture, fixtureText, IMPORT_NOW } from './support.js';
import { tempDir, workbookFromCsv, writeWorkbook, type CellInput } from './xlsx-support.js';

/** `stageflow import` of XLSX workbooks against real databases: the same leads and stays as the CSV. */

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function store(dialect: 'sqlite' | 'postgres'): Promise<Store> {
  const s = await freshStore(dialect);
  open.push(s);
  await applyProcess(s, fixtureText('process.yaml'), IMPORT_NOW - 86_400_000, 'test');
  return s;
}

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

/** Every lead column, and every stay but its random id. */
async function imported(s: Store): Promise<{ leads: unknown[]; stays: unknown[] }> {
  const leads = await s.db.selectFrom('leads').selectAll().orderBy('id').execute();
  const stays = await s.db.selectFrom('stage_stays').selectAll().orderBy('lead_id').orderBy('seq').execute();
  return { leads, stays: stays.map(({ id: _id, ...rest }) => rest) };
}

const PIPEDRIVE = {
  numbers: ['Deal - ID', 'Deal - Value'],
  dates: [
    'Deal - Deal created',
    'Deal - Won time',
    'Deal - Lost time',
    'Deal - Expected close date',
    'Deal - Last stage change',
  ],
};

/** Salesforce's US dates (4/30/2026) as the Excel dates a report saved as XLSX holds. */
function usDate(text: string): Date {
  const [m, d, y] = text.split('/').map(Number);
  return new Date(Date.UTC(y!, m! - 1, d!));
}

function dmyDate(text: string): Date {
  const m = /^(\d{2})\/(\d{2})\/(\d{4})(?: (\d{2}):(\d{2}))?$/.exec(text)!;
  return new Date(Date.UTC(+m[3]!, +m[2]! - 1, +m[1]!, +(m[4] ?? 0), +(m[5] ?? 0)));
}

describe.each(dialects)('stageflow import of XLSX on %s', (dialect) => {
  it('Pipedrive: a workbook with numbers and dates imports the same leads and stays as its CSV', async () => {
    const xlsx = await workbookFromCsv(fixture('pipedrive-deals.csv'), join(tempDir(), 'deals.xlsx'), PIPEDRIVE);
    const [fromCsv, fromXlsx] = [await store(dialect), await store(dialect)];
    const a = await importFile(fromCsv, 'pipedrive', fixture('pipedrive-deals.csv'));
    const b = await importFile(fromXlsx, 'pipedrive', xlsx);
    expect(b).toMatchObject({ outcome: 'imported', records: 5, valid: 5, written: 5, errors: 0, file: xlsx });
    expect(b.problems).toEqual(a.problems);
    const [want, got] = [await imported(fromCsv), await imported(fromXlsx)];
    expect(got.leads).toHaveLength(5);
    expect(got.stays.length).toBeGreaterThanOrEqual(5);
    expect(got).toEqual(want);
  });

  it('Salesforce: amounts as numbers, US dates as Excel dates, and the report footer skipped', async () => {
    const footer = new Map<number, CellInput[]>([
      [7, ['Grand Totals (4 records)']],
      [9, ['Confidential Information - Do Not Distribute']],
      [10, ['Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.']],
    ]);
    const xlsx = await workbookFromCsv(
      fixture('salesforce-opportunities.csv'),
      join(tempDir(), 'opportunities.xlsx'),
      { numbers: ['Probability (%)'], dates: ['Close Date', 'Created Date'], parseDate: usDate },
      { extraRows: footer },
    );
    const [fromCsv, fromXlsx] = [await store(dialect), await store(dialect)];
    // The report's amounts are in US dollars ("USD 12,500.00"): converted at the rates file's rate.
    const rates = { text: fixtureText('rates.csv'), label: 'rates.csv' };
    await importFile(fromCsv, 'salesforce', fixture('salesforce-opportunities.csv'), {
      mappingFile: 'salesforce-mapping.yaml',
      rates,
    });
    const r = await importFile(fromXlsx, 'salesforce', xlsx, { mappingFile: 'salesforce-mapping.yaml', rates });
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0, converted: 3 });
    expect(await imported(fromXlsx)).toEqual(await imported(fromCsv));
  });

  it('generic with a decimal comma and dd/MM/yyyy dates: number and date cells still read right', async () => {
    const xlsx = await workbookFromCsv(
      fixture('generic-deals.csv'),
      join(tempDir(), 'kunden.xlsx'),
      { numbers: [], dates: ['Angelegt', 'Abschluss'], parseDate: dmyDate },
      // Volumen as numbers: 12.500,00 is the number 12500, 1.099,50 is 1099.5.
      {
        extraRows: new Map<number, CellInput[]>([
          [
            2,
            [
              'G-1',
              'Müller GmbH',
              'Hans Müller',
              'hans@mueller.example',
              'anna',
              'GTXPro',
              12500,
              'Angebot',
              dmyDate('05/01/2026'),
              null,
              'DACH',
              'Mittelstand',
            ],
          ],
          [
            3,
            [
              'G-2',
              'Schulz AG',
              'Eva Schulz',
              'eva@schulz.example',
              'Ben Okafor',
              'GTX Basic',
              1099.5,
              'Gewonnen',
              dmyDate('10/11/2025'),
              dmyDate('15/01/2026 16:30'),
              'DACH',
              'Enterprise',
            ],
          ],
        ]),
      },
    );
    const [fromCsv, fromXlsx] = [await store(dialect), await store(dialect)];
    await importFile(fromCsv, 'generic', fixture('generic-deals.csv'), { mappingFile: 'generic-mapping.yaml' });
    const r = await importFile(fromXlsx, 'generic', xlsx, { mappingFile: 'generic-mapping.yaml' });
    expect(r).toMatchObject({ outcome: 'imported', records: 4, written: 4, errors: 0 });
    const got = await imported(fromXlsx);
    expect(got.leads.map((l) => (l as { value_minor: number | null }).value_minor)).toEqual([
      1_250_000, 109_950, 482_100, 55_000,
    ]);
    expect(got).toEqual(await imported(fromCsv));
  });

  it('a formula whose cached result is an error reads as the error, as a plain error cell does', async () => {
    const header = [
      'Deal - ID',
      'Deal - Title',
      'Deal - Stage',
      'Deal - Pipeline',
      'Deal - Owner',
      'Deal - Status',
      'Deal - Deal created',
    ];
    const vlookup = { formula: 'VLOOKUP(M2,Owners!A:B,2,FALSE)', result: { error: '#N/A' as const } };
    const path = await writeWorkbook(join(tempDir(), 'pipedrive-errors.xlsx'), [
      {
        name: 'Deals',
        rows: [
          [...header, 'Deal - Value'],
          [
            401,
            'By VLOOKUP',
            'Qualified',
            'New business',
            vlookup,
            'open',
            '2026-01-10',
            { formula: 'B2*2', result: { error: '#VALUE!' } },
          ],
          [402, 'Plain error', 'Qualified', 'New business', 'Anna Schmidt', 'open', '2026-01-10', { error: '#N/A' }],
        ],
      },
    ]);
    const s = await store(dialect);
    const r = await importFile(s, 'pipedrive', path, { dryRun: true });
    expect(r).toMatchObject({ outcome: 'checked', records: 2, valid: 0, invalid: 2 });
    expect(r.problems.map(formatImportProblem)).toEqual([
      expect.stringMatching(/^pipedrive-errors\.xlsx:2: Deal - Value: "#VALUE!" is not a number/),
      expect.stringMatching(/^pipedrive-errors\.xlsx:2: Deal - Owner: unknown owner "#N\/A"/),
      expect.stringMatching(/^pipedrive-errors\.xlsx:3: Deal - Value: "#N\/A" is not a number/),
    ]);
  });

  it('a dry run names the workbook and the spreadsheet row of a bad date; nothing is written', async () => {
    const rows = new Map<number, CellInput[]>([
      [
        1,
        [
          'Deal - ID',
          'Deal - Title',
          'Deal - Stage',
          'Deal - Pipeline',
          'Deal - Owner',
          'Deal - Status',
          'Deal - Deal created',
          'Deal - Value',
        ],
      ],
      [2, [301, 'One', 'Qualified', 'New business', 'Anna Schmidt', 'open', new Date(Date.UTC(2026, 0, 10, 10))]],
      [3, [302, 'Two', 'Qualified', 'New business', 'Anna Schmidt', 'open', new Date(Date.UTC(2026, 0, 11))]],
      [4, [303, 'Three', 'Qualified', 'New business', 'Ben Okafor', 'open', '2026-01-12 10:00:00']],
      // Row 5 left empty: rows are not counted, they are numbered.
      [6, [304, 'Four', 'Qualified', 'New business', 'Ben Okafor', 'open', new Date(Date.UTC(2026, 0, 13))]],
      [7, [305, 'Bad date', 'Qualified', 'New business', 'Carla Diaz', 'open', '2026-13-45 10:00:00']],
      [8, [306, 'Five', 'Qualified', 'New business', 'Carla Diaz', 'open', new Date(Date.UTC(2026, 0, 14))]],
    ]);
    const path = await writeWorkbook(join(tempDir(), 'pipedrive-bad.xlsx'), [
      { name: 'Deals', rows, formats: { 7: 'yyyy-mm-dd hh:mm' } },
    ]);
    const s = await store(dialect);
    const r = await importFile(s, 'pipedrive', path, { dryRun: true });
    expect(r).toMatchObject({ outcome: 'checked', records: 6, valid: 5, invalid: 1, errors: 1 });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pipedrive-bad.xlsx:7: Deal - Deal created: "2026-13-45 10:00:00" is not a date (expected YYYY-MM-DD or yyyy-MM-dd HH:mm)',
    ]);
    const leads = await s.db.selectFrom('leads').select('id').execute();
    expect(leads).toEqual([]);
  });

  it('--sheet picks the worksheet; a damaged workbook is refused with its name, nothing written', async () => {
    const dir = tempDir();
    const path = await writeWorkbook(join(dir, 'two-sheets.xlsx'), [
      { name: 'Summary', rows: [['nothing to import here']] },
      {
        name: 'Deals',
        rows: [
          [
            'Deal - ID',
            'Deal - Title',
            'Deal - Value',
            'Deal - Stage',
            'Deal - Pipeline',
            'Deal - Owner',
            'Deal - Status',
            'Deal - Deal created',
          ],
          [
            401,
            'From the second sheet',
            1000,
            'Qualified',
            'New business',
            'Anna Schmidt',
            'open',
            new Date(Date.UTC(2026, 0, 10)),
          ],
        ],
      },
    ]);
    const s = await store(dialect);
    await expect(importFile(s, 'pipedrive', path)).rejects.toThrow(/two-sheets\.xlsx:1: column "Deal - ID"/);
    const r = await importFile(s, 'pipedrive', path, { sheet: 'Deals' });
    expect(r).toMatchObject({ outcome: 'imported', written: 1 });
    expect((await s.db.selectFrom('leads').select('id').execute()).map((l) => l.id)).toEqual(['pipedrive:401']);

    await expect(importFile(s, 'pipedrive', fixture('pipedrive-deals.csv'), { sheet: 'Deals' })).rejects.toThrow(
      'pipedrive-deals.csv is CSV: --sheet names a worksheet of an XLSX workbook',
    );
    const cut = join(dir, 'cut.xlsx');
    const whole = readFileSync(path);
    writeFileSync(cut, whole.subarray(0, whole.length - 100));
    const failed = importFile(s, 'pipedrive', cut, { sheet: 'Deals' });
    await expect(failed).rejects.toBeInstanceOf(ImportRejected);
    await expect(failed).rejects.toThrow(/^cut\.xlsx: damaged, or not an XLSX workbook/);
    expect(await s.db.selectFrom('leads').select('id').execute()).toHaveLength(1);
  });
});
