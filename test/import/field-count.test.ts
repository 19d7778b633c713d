import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * A CSV row with more or fewer fields than the header: a truncated export (imported as an undated
 * deal with no owner) or an unquoted "1,500" that shifts every later cell (five errors about the
 * wrong columns). Each is one error that counts both.
 */

const store = importStores();

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';

describe.each(dialects)('field count on %s', (dialect) => {
  it('makes a row of another width than the header one error naming both counts', async () => {
    const s = await store(dialect);
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-width-')), 'pd-shift.csv');
    writeFileSync(
      path,
      [
        HEADER,
        '1,Shifted,1,500,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-05,,,,,,Org,a@x.example,',
        '2,Short,100,EUR,Demo Scheduled',
        '3,Fine,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-05,,,,,,Org,b@x.example,',
      ].join('\n'),
    );
    const r = await runImport(s, {
      format: 'pipedrive',
      path,
      dryRun: false,
      skipInvalid: true,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-shift.csv:2: the row has 18 fields, the header has 17: a value holding the delimiter "," must be in double quotes',
      'pd-shift.csv:3: the row has 5 fields, the header has 17: the row is cut short',
    ]);
    expect(r).toMatchObject({ records: 3, valid: 1, invalid: 2, written: 1, createdAtImport: 0 });
    expect(r.skipped.map((x) => [x.line, x.sourceId])).toEqual([
      [2, '1'],
      [3, '2'],
    ]);
    const ids = await s.db.selectFrom('leads').select('id').execute();
    expect(ids.map((l) => l.id)).toEqual(['pipedrive:3']);
  });

  it('names the separator the file was read with, not the default comma', async () => {
    const s = await store(dialect);
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-width-')), 'pd-eu.csv');
    const semi = (t: string): string => t.replaceAll(',', ';');
    writeFileSync(
      path,
      [
        semi(HEADER),
        semi(
          '1,Müller GmbH,100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-05,,,,,,Org,a@x.example,',
        ).replace('Müller GmbH', 'Müller GmbH; Lizenz'),
      ].join('\n'),
    );
    const r = await runImport(s, {
      format: 'pipedrive',
      path,
      dryRun: true,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect(r.problems.map(formatImportProblem)).toEqual([
      'pd-eu.csv:2: the row has 18 fields, the header has 17: a value holding the delimiter ";" must be in double quotes',
    ]);
  });
});
