import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { ImportRejected, runImport, type ImportOptions } from '../../src/import/import-service.js';
import type { Fields } from '../../src/domain/conditions.js';
import { formatImportProblem } from '../../src/import/record.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { fixtureText, IMPORT_NOW, importStores, utc } from './support.js';

/**
 * What only the whole file tells: whether "12.500 €" is 12.5 or 12,500, whether "03/04/2025" is
 * 4 March or 3 April, how its bytes are text, which separator its fields use. The file is read one
 * way throughout (with a warning naming the line that decided it) or refused, never read one way
 * on some rows and skipped on others.
 */

const store = importStores();

const PD = 'Deal - ID,Deal - Title,Deal - Owner,Deal - Value,Deal - Stage,Deal - Status,Deal - Deal created';

function file(name: string, content: string | Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-whole-')), name);
  writeFileSync(path, content);
  return path;
}

function run(s: Store, format: ImportOptions['format'], path: string, more: Partial<ImportOptions> = {}) {
  return runImport(s, {
    format,
    path,
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
    ...more,
  });
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ImportRejected);
  return (e as Error).message;
}

async function leads(s: Store): Promise<Record<string, unknown>[]> {
  return s.db
    .selectFrom('leads')
    .select(['id', 'name', 'company', 'owner', 'value_minor', 'created_at', 'closed_at'])
    .orderBy('id')
    .execute();
}

const deal = (id: number, value: string, owner = 'Anna Schmidt'): string =>
  `${id},Deal ${id},${owner},"${value}",Demo Scheduled,open,2026-01-05 10:00:00`;

describe.each(dialects)('amounts decided by their column on %s', (dialect) => {
  it('reads "12.500 €" as 12,500 when another amount of the file reads only with a decimal comma', async () => {
    const s = await store(dialect);
    const path = file('pd-eurnum.csv', [PD, deal(1, '12.500 €'), deal(2, '1.250.000 €'), deal(3, '3,5 €')].join('\n'));
    const r = await run(s, 'pipedrive', path);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-eurnum.csv:3: Deal - Value: warning: amounts read with "," for decimals and "." for thousands, ' +
        'as "1.250.000 €" shows (so "12.500 €" on line 2 too)',
    ]);
    expect(r).toMatchObject({ errors: 0, written: 3 });
    expect((await leads(s)).map((l) => l['value_minor'])).toEqual([1_250_000, 125_000_000, 350]);
  });

  it('refuses amounts that read both ways when nothing in the file says which, also with --skip-invalid', async () => {
    const s = await store(dialect);
    const path = file('pd-eurnum2.csv', [PD, deal(1, '12.500 €'), deal(2, '8.000 €'), deal(3, '700 €')].join('\n'));
    const r = await run(s, 'pipedrive', path, { skipInvalid: true });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-eurnum2.csv:2: Deal - Value: "12.500 €" is ambiguous: 12.5 or 12500? No other amount in the file says ' +
        'which separator is for decimals: set the mapping\'s numbers (numbers: { decimal: "," } if "." separates thousands)',
      'pd-eurnum2.csv:3: Deal - Value: "8.000 €" is ambiguous: 8 or 8000? No other amount in the file says ' +
        'which separator is for decimals: set the mapping\'s numbers (numbers: { decimal: "," } if "." separates thousands)',
    ]);
    expect(r).toMatchObject({ valid: 1, invalid: 2, written: 1 });
    expect((await leads(s)).map((l) => [l['id'], l['value_minor']])).toEqual([['pipedrive:3', 70_000]]);
  });

  it('rounds an amount with more than 2 decimals to whole cents once, with a warning naming it', async () => {
    const s = await store(dialect);
    const r = await run(s, 'pipedrive', file('pd-cents.csv', `${PD}\n${deal(1, '12345.678')}\n${deal(2, '10.5')}\n`));
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-cents.csv:2: Deal - Value: warning: 12345.678 has more than 2 decimals: imported as 12345.68 (whole cents)',
    ]);
    const rows = await s.db.selectFrom('leads').select(['value_minor', 'fields']).orderBy('id').execute();
    // The field and the reported figure are the same number.
    expect(rows.map((l) => [Number(l.value_minor), (JSON.parse(String(l.fields)) as Fields)['value']])).toEqual([
      [1234568, 12345.68],
      [1050, 10.5],
    ]);
  });

  it('reads "12.500" as 12.5 when the column writes decimals with a point, and as the mapping says when it says', async () => {
    const s = await store(dialect);
    const us = file('pd-us.csv', [PD, deal(1, '12.500'), deal(2, '1,250.50')].join('\n'));
    const r = await run(s, 'pipedrive', us);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-us.csv:3: Deal - Value: warning: amounts read with "." for decimals, as "1,250.50" shows (so "12.500" on line 2 too)',
    ]);
    expect((await leads(s)).map((l) => l['value_minor'])).toEqual([1250, 125_050]);
    const said = file('pd-said.csv', [PD, deal(3, '12.500')].join('\n'));
    const mapping = { text: 'numbers: { decimal: "," }\n', label: 'eu.yaml' };
    const r2 = await run(s, 'pipedrive', said, { mapping });
    expect(r2).toMatchObject({ errors: 0, warnings: 0, written: 1 });
    expect((await leads(s)).find((l) => l['id'] === 'pipedrive:3')?.['value_minor']).toBe(1_250_000);
  });
});

const SF =
  '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date","Opportunity ID"';

describe.each(dialects)('date order decided by the file on %s', (dialect) => {
  it('reads a Salesforce export as day first when a date has a day past 12', async () => {
    const s = await store(dialect);
    const path = file(
      'sf-uk.csv',
      [
        SF,
        '"Anna Schmidt","A","A","Closed Won","EUR 1,000.00","03/04/2025","01/02/2025","006A"',
        '"Anna Schmidt","B","B","Closed Won","EUR 2,000.00","20/04/2025","15/02/2025","006B"',
      ].join('\n'),
    );
    const r = await run(s, 'salesforce', path, { skipInvalid: true });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'sf-uk.csv:3: Created Date: warning: dates read day first (d/M/yyyy or d/M/yyyy h:mm a), as "15/02/2025" shows',
    ]);
    expect(r).toMatchObject({ errors: 0, written: 2 });
    const rows = await leads(s);
    // Midnight in Europe/Berlin: 1 February and 3 April 2025.
    expect(rows.map((l) => [l['id'], l['created_at'], l['closed_at']])).toEqual([
      ['salesforce:006A', utc('2025-01-31T23:00:00'), utc('2025-04-02T22:00:00')],
      ['salesforce:006B', utc('2025-02-14T23:00:00'), utc('2025-04-19T22:00:00')],
    ]);
  });

  it('refuses a file whose dates are day first on some lines and month first on others, writing nothing', async () => {
    const s = await store(dialect);
    const path = file(
      'sf-mixed.csv',
      [
        SF,
        '"Anna Schmidt","A","A","Closed Won","EUR 1,000.00","03/04/2025","15/02/2025","006A"',
        '"Anna Schmidt","B","B","Closed Won","EUR 2,000.00","4/20/2025","2/1/2025","006B"',
      ].join('\n'),
    );
    expect(await refusal(run(s, 'salesforce', path, { skipInvalid: true }))).toBe(
      'sf-mixed.csv: the dates are day first on some lines ("15/02/2025", line 2, Created Date) and month first on ' +
        'others ("4/20/2025", line 3, Close Date): fix the file so that all are written one way, and name that way ' +
        'in a mapping (dates: { formats: [...] })',
    );
    expect(await leads(s)).toEqual([]);
  });
});

describe.each(dialects)('the bytes and the shape of a CSV file on %s', (dialect) => {
  it('reads a Windows-1252 file as such, with a warning naming its first line that is not UTF-8', async () => {
    const s = await store(dialect);
    const text =
      `${PD},Organization - Name\r\n` +
      '88,Müller Bestellung,Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00,Müller & Söhne GmbH\r\n' +
      '89,Café Crème,Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00,Société Générale\r\n';
    const r = await run(s, 'pipedrive', file('pd-1252.csv', Buffer.from(text, 'latin1')));
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-1252.csv:2: warning: the file is not UTF-8: read as Windows-1252 (as Excel saves "CSV (Comma delimited)"); ' +
        'if letters look wrong, save it as "CSV UTF-8" and import that',
    ]);
    expect((await leads(s)).map((l) => [l['name'], l['company']])).toEqual([
      ['Müller Bestellung', 'Müller & Söhne GmbH'],
      ['Café Crème', 'Société Générale'],
    ]);
  });

  it('reads UTF-16 with a byte order mark (Excel\'s "Unicode Text") as it is, without a warning', async () => {
    const s = await store(dialect);
    const text = `\ufeff${PD}\r\n${deal(9, '100', 'Ben Okafor').replace('Deal 9', 'Café')}\r\n`;
    const r = await run(s, 'pipedrive', file('pd-utf16.csv', Buffer.from(text, 'utf16le')));
    expect(r).toMatchObject({ errors: 0, warnings: 0, written: 1 });
    expect((await leads(s)).map((l) => l['name'])).toEqual(['Café']);
  });

  it('skips rows whose cells are all empty, as Excel and Salesforce write them', async () => {
    const s = await store(dialect);
    const path = file(
      'pd-emptyrows.csv',
      `\ufeff${PD}\r\n${deal(5001, '100')}\r\n,,,,,,\r\n${deal(5002, '100')}\r\n"",,"",,,,\r\n""\r\n`,
    );
    const r = await run(s, 'pipedrive', path);
    expect(r).toMatchObject({ records: 2, valid: 2, errors: 0, written: 2 });
  });

  it('reads a semicolon-separated export, and says the header is so when a column is missing', async () => {
    const s = await store(dialect);
    const semi = (t: string): string => t.replaceAll(',', ';');
    const ok = file(
      'pd-eu.csv',
      `${semi(PD)}\r\n1;"Acme; Inc";Anna Schmidt;100;Demo Scheduled;open;2026-01-05 10:00:00\r\n`,
    );
    expect(await run(s, 'pipedrive', ok)).toMatchObject({ errors: 0, written: 1 });
    expect((await leads(s)).map((l) => l['name'])).toEqual(['Acme; Inc']);
    const missing = file('pd-eu2.csv', `${semi(PD).replace('Deal - Owner', 'Deal - Besitzer')}\r\n`);
    expect(await refusal(run(s, 'pipedrive', missing))).toBe(
      "pd-eu2.csv:1: the header looks semicolon-separated, and read so it still lacks a column (set `delimiter: ';'` " +
        'in a mapping, --mapping):\npd-eu2.csv:1: column "Deal - Owner" (mapped to owner) is not in the file\'s header',
    );
  });

  it("names the missing column on the header's line under a report's title block", async () => {
    const s = await store(dialect);
    const path = file(
      'sf-title.csv',
      [
        '"Opportunity Pipeline report"',
        '"Northwind"',
        '',
        SF.replace('Created Date', 'Created Dat'),
        '"Anna Schmidt","A","A","Prospecting","EUR 1,000.00","3/15/2026","1/30/2025","006A"',
      ].join('\n'),
    );
    expect(await refusal(run(s, 'salesforce', path))).toBe(
      'sf-title.csv:4: column "Created Date" (mapped to created_at) is not in the file\'s header',
    );
  });

  it('reads a quote inside an unquoted value as text', async () => {
    const s = await store(dialect);
    const row = '7,Acme 24" screens,Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00';
    expect(await run(s, 'pipedrive', file('pd-inch.csv', `${PD}\r\n${row}\r\n`))).toMatchObject({ written: 1 });
    expect((await leads(s)).map((l) => l['name'])).toEqual(['Acme 24" screens']);
  });

  it('ends a record at any line end, CRLF, LF or CR, whichever the first line used, keeping line numbers', async () => {
    const s = await store(dialect);
    // Rows appended with LF (and a CR) to a CRLF export: each is a record, a quoted line break is text.
    const text =
      `${PD}\r\n${deal(1, '100')}\r\n${deal(2, '100')}\n` +
      `${deal(3, '100').replace('Deal 3', '"Deal\n3"')}\n${deal(4, '100')}\r` +
      `${deal(5, '100', 'Zed')}\r\n${deal(6, '100')}\n`;
    const r = await run(s, 'pipedrive', file('pd-mixed.csv', text), { skipInvalid: true });
    expect(r).toMatchObject({ records: 6, valid: 5, written: 5 });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-mixed.csv:7: Deal - Owner: unknown owner "Zed" (not a user id, name or email of the process)',
    ]);
    expect((await leads(s)).map((l) => l['name'])).toEqual(['Deal 1', 'Deal 2', 'Deal\n3', 'Deal 4', 'Deal 6']);
  });

  it('names the line and column where an unclosed quote opens', async () => {
    const s = await store(dialect);
    const rows = [PD];
    for (let i = 1; i <= 50; i++)
      rows.push(`${i},${i === 5 ? '"unclosed' : `Deal ${i}`},Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00`);
    const e = await run(s, 'pipedrive', file('pd-quote.csv', `${rows.join('\r\n')}\r\n`)).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(e?.message).toBe(
      'pd-quote.csv:6: Deal - Title: a quoted value opened here is never closed (a " missing, or a stray one)',
    );
    expect(await leads(s)).toEqual([]);
  });
});

describe.each(dialects)('owners by name on %s', (dialect) => {
  it('refuses a name two users share, naming both, and matches names however spaced or composed', async () => {
    const s = await store(dialect);
    const twin = fixtureText('process.yaml').replace(
      '  - { id: ben, name: Ben Okafor, email: ben@acme.example }',
      '  - { id: ben, name: Ben Okafor, email: ben@acme.example }\n' +
        '  - { id: anna2, name: Anna Schmidt, email: anna.schmidt@acme.example }\n' +
        '  - { id: ines, name: Inés Navarro, email: ines@acme.example }',
    );
    await applyProcess(s, twin, IMPORT_NOW - 3_600_000, 'test');
    const path = file(
      'pd-owners.csv',
      [
        PD,
        deal(1, '100'),
        deal(2, '100', 'anna.schmidt@acme.example'),
        deal(3, '100', 'Ben  Okafor'),
        deal(4, '100', 'Inés Navarro'.normalize('NFD')),
      ].join('\n'),
    );
    const r = await run(s, 'pipedrive', path, { skipInvalid: true });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-owners.csv:2: Deal - Owner: "Anna Schmidt" names 2 users (anna, anna2): give the owner\'s email or id',
    ]);
    expect((await leads(s)).map((l) => [l['id'], l['owner']])).toEqual([
      ['pipedrive:2', 'anna2'],
      ['pipedrive:3', 'ben'],
      ['pipedrive:4', 'ines'],
    ]);
  });
});

describe.each(dialects)('a re-run on %s', (dialect) => {
  it('counts the leads it updated apart from the new ones', async () => {
    const s = await store(dialect);
    const first = await run(s, 'pipedrive', file('pd-a.csv', [PD, deal(1, '100'), deal(2, '100')].join('\n')));
    expect(first).toMatchObject({ written: 2, created: 2, updated: 0 });
    const again = await run(s, 'pipedrive', file('pd-b.csv', [PD, deal(1, '100'), deal(3, '100')].join('\n')));
    expect(again).toMatchObject({ written: 2, created: 1, updated: 1 });
  });
});

describe("a mapping's stage targets", () => {
  it('are checked against the process before any record, naming the mapping line', async () => {
    const s = await store('sqlite');
    const path = file('pd-stages.csv', [PD, deal(1, '100'), deal(2, '100')].join('\n'));
    const mapping = {
      text: 'pipeline: nb\nstages:\n  Demo Scheduled: demoo\n  Gewonnen: won\n',
      label: 'typo.yaml',
    };
    expect(await refusal(run(s, 'pipedrive', path, { mapping, dryRun: true }))).toBe(
      'typo.yaml: stages.Demo Scheduled: unknown stage "demoo" (not a stage id or name of pipeline nb; known: ' +
        'qualified, contact, demo, proposal, negotiation, won, lost) (line 3)',
    );
  });
});

describe.each(dialects)('a cell of several email addresses on %s', (dialect) => {
  it("imports the deal with the first as the lead's email, and a warning", async () => {
    const s = await store(dialect);
    const head = `${PD},Person - Email`;
    const row = `${deal(1, '100')},"Jane@acme.example, jane.doe@gmail.example"`;
    const r = await run(s, 'pipedrive', file('pd-mail.csv', `${head}\n${row}\n`));
    expect(r.problems.map(formatImportProblem)).toEqual([
      "pd-mail.csv:2: Person - Email: warning: 2 addresses: the first, jane@acme.example, is the lead's email; " +
        'the others are not imported',
    ]);
    const lead = await s.db.selectFrom('leads').select('email').executeTakeFirstOrThrow();
    expect(lead.email).toBe('jane@acme.example');
  });
});
