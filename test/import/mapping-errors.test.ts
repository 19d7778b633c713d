import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { IMPORT_NOW, importStores } from './support.js';

/** A mapping file's mistakes say the file, the key, what is wrong with it and the key's own line. */

const store = importStores();

function importWith(mapping: string, format: 'generic' | 'pipedrive' = 'generic'): Promise<unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-mapping-'));
  writeFileSync(join(dir, 'gen.csv'), 'Ref,Betrag\nR1,10\n');
  return store('sqlite').then((s) =>
    runImport(s, {
      format,
      path: join(dir, 'gen.csv'),
      mapping: { text: mapping, label: 'm.yaml' },
      dryRun: true,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    }),
  );
}

async function messageOf(run: Promise<unknown>): Promise<string> {
  const e = await run.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(Error);
  return (e as Error).message;
}

describe('mapping file errors', () => {
  it('names a missing source, and an unknown key on its own line with the known ones', async () => {
    const message = await messageOf(importWith('columns:\n  id: Ref\n  valeu: Betrag\n'));
    expect(message.split('\n')).toEqual([
      'm.yaml: source: is required (the name of the system the file came from, e.g. legacy-crm; with the record id it keys re-imports)',
      'm.yaml: columns.valeu: unknown key "valeu" (did you mean "value"?); known: id, name, contact_name, email, phone, company, owner, ' +
        'value, currency, product, territory, source, pipeline, stage, status, created_at, closed_at, won_at, lost_at, ' +
        'expected_close, close_reason, last_stage_change (line 3)',
    ]);
  });

  it('names a misplaced top-level key and a bad value of a built-in format refinement by their lines', async () => {
    const message = await messageOf(
      importWith('stages:\n  Demo: demo\nnumbers:\n  decimal: ";"\ndelimeter: ";"\n', 'pipedrive'),
    );
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/^m\.yaml: numbers\.decimal: .* \(line 4\)$/),
      'm.yaml: delimeter: unknown key "delimeter" (did you mean "delimiter"?); known: source, pipeline, currency, columns, ' +
        'optional_columns, fields, stage_dates, stage_date_pattern, aliases, stages, status_values, dates, numbers, footer, ' +
        'delimiter (line 5)',
    ]);
  });
});
