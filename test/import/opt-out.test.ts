import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runImport, type ImportReport } from '../../src/import/import-service.js';
import { compileMapping } from '../../src/import/map-row.js';
import { buildMapping } from '../../src/import/mapping.js';
import { formatImportProblem } from '../../src/import/record.js';
import type { Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * The marketing opt-out (`unsubscribed`) is imported as the yes or no it spells, as the API stores
 * it; a word that spells neither is an error on its line, never a silent opt-out.
 */

describe('mapRow: the opt-out column', () => {
  const mapping = buildMapping({
    source: 'sheet',
    columns: { id: 'Ref' },
    fields: { unsubscribed: 'Unsub' },
    aliases: { unsubscribed: { 'Opted out': 'yes' } },
  });
  const c = compileMapping(mapping, ['Ref', 'Unsub'], 'g.csv', 'UTC');

  it.each([
    ['Yes', true],
    ['TRUE', true],
    ['1', true],
    [' on ', true],
    ['no', false],
    ['FALSE', false],
    ['0', false],
    // An alias in the mapping translates another system's word.
    ['Opted out', true],
  ])('%j is stored as %s', (cell, stored) => {
    const r = c.mapRow(['1', cell], 2);
    expect(r.problems).toEqual([]);
    expect(r.record.fields).toEqual({ unsubscribed: stored });
  });

  it('leaves an empty cell unset', () => {
    const r = c.mapRow(['1', ''], 2);
    expect(r.problems).toEqual([]);
    expect(r.record.fields).toEqual({});
  });

  it('reports a word that spells neither yes nor no, naming the line, the column and the value', () => {
    const r = c.mapRow(['2', 'Subscribed'], 3);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'g.csv:3: Unsub: "Subscribed" is neither yes nor no: unsubscribed must be true or false ' +
        "(yes/no, 1/0, on/off; the mapping's aliases can translate other words)",
    ]);
    expect(r.record.fields).toEqual({});
  });
});

describe.each(dialects)('importing the opt-out on %s', (dialect) => {
  const store = importStores();
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-opt-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const csv = join(dir, 'g.csv');
  writeFileSync(
    csv,
    ['Ref,Deal,Unsub', '1,D1,Yes', '2,D2,Subscribed', '3,D3,TRUE', '4,D4,no', '5,D5,'].join('\n') + '\n',
  );
  const mapping = {
    text: 'source: sheet\ncolumns: { id: Ref, name: Deal }\nfields: { unsubscribed: Unsub }\n',
    label: 'gmap.yaml',
  };
  const run = (s: Store, skipInvalid: boolean): Promise<ImportReport> =>
    runImport(s, {
      format: 'generic',
      path: csv,
      mapping,
      dryRun: false,
      skipInvalid,
      now: IMPORT_NOW,
      actor: { kind: 'import', id: 'tester' },
    });
  const stored = async (s: Store) =>
    (await s.db.selectFrom('leads').select(['id', 'fields']).orderBy('id').execute()).map(
      (l) => [l.id, (JSON.parse(l.fields) as Record<string, unknown>)['unsubscribed']] as const,
    );

  it('refuses the file for a value that is neither yes nor no, and imports nothing', async () => {
    const s = await store(dialect);
    const r = await run(s, false);
    expect(r).toMatchObject({ outcome: 'refused', errors: 1, written: 0 });
    expect(r.problems.map(formatImportProblem)).toEqual([
      expect.stringMatching(/^g\.csv:3: Unsub: "Subscribed" is neither yes nor no/),
    ]);
    expect(await stored(s)).toEqual([]);
  });

  it('with --skip-invalid, skips that record and stores the others as true or false', async () => {
    const s = await store(dialect);
    const r = await run(s, true);
    expect(r).toMatchObject({ outcome: 'imported', errors: 1, written: 4 });
    expect(r.skipped).toEqual([
      { line: 3, sourceId: '2', reasons: [expect.stringMatching(/^"Subscribed" is neither yes nor no/)] },
    ]);
    expect(await stored(s)).toEqual([
      ['sheet:1', true],
      ['sheet:3', true],
      ['sheet:4', false],
      ['sheet:5', undefined],
    ]);
  });
});
