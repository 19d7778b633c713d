import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportInterrupted, runImport, type ImportProgress } from '../../src/import/import-service.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * A stop (Ctrl-C's abort) arriving as a signal does, from the event loop, is acted on after the
 * batch in flight: records from the parser's buffer and SQLite's synchronous writes never wait for
 * I/O, so the import yields a turn between batches.
 */

const store = importStores();

const HEADER = 'Deal - ID,Deal - Title,Deal - Owner,Deal - Value,Deal - Stage,Deal - Status,Deal - Deal created';
const BATCH = 100;

function dealsFile(count: number): string {
  const rows = [HEADER];
  for (let i = 1; i <= count; i++) rows.push(`${i},Deal ${i},Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00`);
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-interrupt-')), 'deals.csv');
  writeFileSync(path, `${rows.join('\n')}\n`);
  return path;
}

/** Imports `path`, aborting from the event loop (as a signal handler would) once `phase` starts. */
async function stoppedIn(s: Parameters<typeof runImport>[0], path: string, phase: ImportProgress['phase']) {
  const stop = new AbortController();
  let scheduled = false;
  return runImport(s, {
    format: 'pipedrive',
    path,
    dryRun: false,
    skipInvalid: false,
    batchSize: BATCH,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
    signal: stop.signal,
    onProgress: (p) => {
      if (p.phase !== phase || scheduled) return;
      scheduled = true;
      setImmediate(() => stop.abort());
    },
  }).then(
    () => null,
    (e: unknown) => e,
  );
}

describe.each(dialects)('a stop during an import on %s', (dialect) => {
  it('writes no batch after the one in flight when the stop came', async () => {
    const s = await store(dialect);
    const e = await stoppedIn(s, dealsFile(10 * BATCH), 'writing');
    expect(e).toBeInstanceOf(ImportInterrupted);
    expect((e as ImportInterrupted).written).toBe(BATCH);
    expect(await s.db.selectFrom('leads').select('id').execute()).toHaveLength(BATCH);
  });
});
