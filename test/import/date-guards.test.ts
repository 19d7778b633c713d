import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportRejected, runImport, type ImportOptions, type ImportReport } from '../../src/import/import-service.js';
import { compileMapping } from '../../src/import/map-row.js';
import { buildMapping } from '../../src/import/mapping.js';
import { formatImportProblem } from '../../src/import/record.js';
import { parseDate } from '../../src/import/values.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores, utc } from './support.js';

/**
 * Dates that must never reach the store: an unknown time zone (a typo such as Europe/Berln made
 * every time NaN, stored as NULL half-way through a run), a year before 1970 (0001 became 1901),
 * a close after the import's time, an expected close decades ahead. IMPORT_NOW is 2 March 2026,
 * 10:00 in Berlin, the organisation's zone.
 */

const store = importStores();

function file(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-dates-')), name);
  writeFileSync(path, text);
  return path;
}

function importAt(
  s: Store,
  opts: Partial<ImportOptions> & Pick<ImportOptions, 'format' | 'path'>,
): Promise<ImportReport> {
  return runImport(s, { dryRun: false, skipInvalid: false, now: IMPORT_NOW, actor: { kind: 'import' }, ...opts });
}

async function count(s: Store, table: 'leads' | 'import_runs'): Promise<number> {
  const r = await s.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

const PIPEDRIVE_HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';

describe('the date reader', () => {
  it('refuses a time it cannot place in an unknown zone, instead of giving NaN', () => {
    const r = parseDate('01.02.2026 10:00', ['dd.MM.yyyy HH:mm'], 'Mars/Base', 'Europe/Berlin');
    expect(r).toEqual({
      ok: false,
      message: '"01.02.2026 10:00" cannot be placed in time: unknown time zone "Mars/Base"',
    });
    // Luxon's formats (a month name) refuse it too.
    expect(parseDate('1 Feb 2026 10:00', ['d MMM yyyy HH:mm'], 'Mars/Base').ok).toBe(false);
  });

  it('reads the year 0001 as 0001, not 1901', () => {
    const r = parseDate('0001-01-01', ['iso'], 'UTC');
    expect(r.ok && new Date(r.value).toISOString()).toBe('0001-01-01T00:00:00.000Z');
  });

  it('makes a time in an unknown zone an error of the row naming its column', () => {
    const mapping = buildMapping({
      source: 'x',
      columns: { id: 'Ref', created_at: 'Angelegt' },
      dates: { formats: ['dd.MM.yyyy HH:mm'] },
    });
    const row = compileMapping(mapping, ['Ref', 'Angelegt'], 'x.csv', 'Mars/Base').mapRow(
      ['R1', '01.02.2026 10:00'],
      2,
    );
    expect(row.problems.map(formatImportProblem)).toEqual([
      'x.csv:2: Angelegt: "01.02.2026 10:00" cannot be placed in time: unknown time zone "Mars/Base"',
    ]);
    expect(row.record.createdAt).toBeNull();
  });
});

describe.each(dialects)('date guards on %s', (dialect) => {
  it('refuses a mapping with an unknown zone when it is read: nothing written, no run left open', async () => {
    const s = await store(dialect);
    const mapping =
      'source: x\ncolumns:\n  id: Ref\n  created_at: Angelegt\ndelimiter: ";"\n' +
      'dates: {zone: Europe/Berln, formats: [dd.MM.yyyy HH:mm, dd.MM.yyyy]}\n';
    const data = file('gen.csv', 'Ref;Angelegt\nR1;01.02.2026\nR2;01.02.2026 10:00\n');
    for (const dryRun of [true, false]) {
      const run = importAt(s, { format: 'generic', path: data, dryRun, mapping: { text: mapping, label: 'm.yaml' } });
      await expect(run).rejects.toThrow(ImportRejected);
      await expect(run).rejects.toThrow(
        'm.yaml: dates.zone: unknown time zone "Europe/Berln" (an IANA name such as Europe/Berlin or America/New_York) (line 6)',
      );
    }
    expect(await count(s, 'leads')).toBe(0);
    expect(await count(s, 'import_runs')).toBe(0);
  });

  it('refuses a close after now and years before 1970 or far ahead, as written', async () => {
    const s = await store(dialect);
    const data = file(
      'pd.csv',
      [
        PIPEDRIVE_HEADER,
        '1,Future,100,EUR,Demo Scheduled,New business,Anna Schmidt,won,2026-01-01,2027-06-01,,,,,Org,,',
        '2,Year one,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,0001-01-01,,,,,,Org,,',
        '3,Far ahead,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-01,,,,2062-01-31,,Org,,',
        '4,Later today,100,EUR,Demo Scheduled,New business,Anna Schmidt,lost,2026-01-01,,2026-03-02 11:00:00,,,,Org,,',
        '5,Fine,100,EUR,Demo Scheduled,New business,Anna Schmidt,won,2026-01-01,2026-03-02,,,2031-12-31,,Org,,',
        // A stage change or a creation after now would put every later event on the lead there too.
        '6,Moved later,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-01,,,,,2027-06-01 14:00:00,Org,,',
        '7,Made later,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-04-01,,,,,,Org,,',
      ].join('\n'),
    );
    const r = await importAt(s, { format: 'pipedrive', path: data, skipInvalid: true });
    expect(r.problems.map(formatImportProblem)).toEqual([
      `pd.csv:2: Deal - Won time: closes on "2027-06-01", after the import's current time (2026-03-02 10:00): a close date cannot be in the future`,
      'pd.csv:3: Deal - Deal created: "0001-01-01" is before 1970: not a plausible date (fix or empty the cell)',
      'pd.csv:4: Deal - Expected close date: "2062-01-31" is after 2031, more than 5 years ahead: not a plausible expected close (a typo in the year?)',
      `pd.csv:5: Deal - Lost time: closes on "2026-03-02 11:00:00", after the import's current time (2026-03-02 10:00): a close date cannot be in the future`,
      `pd.csv:7: Deal - Last stage change: changed stage on "2027-06-01 14:00:00", after the import's current time (2026-03-02 10:00): a stage change cannot be in the future`,
      `pd.csv:8: Deal - Deal created: created on "2026-04-01", after the import's current time (2026-03-02 10:00): a creation date cannot be in the future`,
    ]);
    expect(r).toMatchObject({ outcome: 'imported', records: 7, valid: 1, written: 1 });
    const leads = await s.db.selectFrom('leads').select(['id', 'closed_at']).execute();
    expect(leads.map((l) => [l.id, Number(l.closed_at)])).toEqual([['pipedrive:5', utc('2026-03-01T23:00')]]);
  });
});
