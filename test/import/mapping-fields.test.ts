import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { runImport } from '../../src/import/import-service.js';
import { fixtureText, IMPORT_NOW, importStores } from './support.js';

/**
 * Under a field catalogue (review r6, finding 11) a mapping's `fields` are held to it as a lead
 * write is: one naming an undeclared field is refused before any record, with its line.
 */

const store = importStores();
const MAPPING = 'source: legacy\ncolumns:\n  id: Ref\nfields:\n  seats: Plätze\n  decison_maker: Signer\n';

async function importWith(processSuffix: string): Promise<unknown> {
  const s = await store('sqlite', false);
  await applyProcess(s, fixtureText('process.yaml') + processSuffix, IMPORT_NOW - 86_400_000, 'test');
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-mapping-'));
  writeFileSync(join(dir, 'gen.csv'), 'Ref,Plätze,Signer\nR1,10,CFO\n');
  return runImport(s, {
    format: 'generic',
    path: join(dir, 'gen.csv'),
    mapping: { text: MAPPING, label: 'm.yaml' },
    dryRun: true,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
  });
}

describe('a mapping under a field catalogue', () => {
  it('refuses mapped fields the process does not declare, naming each and its line', async () => {
    const e = await importWith(
      '\nfields:\n  - { key: seats, label: Seats, type: number }\n  - { key: decision_maker, label: Signer, type: text }\n',
    ).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toBe(
      "m.yaml: fields.decison_maker: not a field of the process (did you mean decision_maker?): the process file's fields section lists those a lead may have (line 6)",
    );
  });

  it('takes any mapped field without a catalogue', async () => {
    await expect(importWith('')).resolves.toMatchObject({ errors: 0 });
  });
});
