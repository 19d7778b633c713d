import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImportAlreadyRunning, runImport, type ImportOptions } from '../../src/import/import-service.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore, type Store } from '../../src/store/db.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';
import { fixtureText, IMPORT_NOW, importStores } from './support.js';

/**
 * Two runs of one file at once: the second sees the first is live (its lease) and stops, naming
 * it, on SQLite and PostgreSQL alike; a run whose writer is gone is resumed.
 */

const store = importStores();
const root = join(import.meta.dirname, '..', '..');

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';
const row = (id: number): string =>
  `${id},Deal ${id},100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-05,,,,,,Org,,`;

function csv(n: number): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-runs-')), 'pd.csv');
  writeFileSync(path, [HEADER, ...Array.from({ length: n }, (_, i) => row(i + 1))].join('\n'));
  return path;
}

function importAt(s: Store, path: string, opts: Partial<ImportOptions> = {}): ReturnType<typeof runImport> {
  return runImport(s, {
    format: 'pipedrive',
    path,
    dryRun: false,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
    ...opts,
  });
}

/** The real CLI in another process, run to its end while this one waits (its import stays live meanwhile). */
function cliImportNow(db: string, path: string): { status: number | null; stderr: string } {
  const env = { ...process.env };
  delete env['DATABASE_URL'];
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), '--db', db, 'import', 'pipedrive', path],
    { cwd: root, env, encoding: 'utf8', timeout: 120_000 },
  );
  return { status: r.status, stderr: r.stderr };
}

async function setLease(s: Store, runId: string, owner: string, until: number): Promise<void> {
  const options = JSON.stringify({ skipInvalid: false, leaseOwner: owner, leaseUntil: until });
  await s.db.updateTable('import_runs').set({ options }).where('id', '=', runId).execute();
}

describe.each(dialects)('two runs of one import on %s', (dialect) => {
  it('refuses the second while the first is writing, naming it, and the first writes each lead once', async () => {
    // The URL itself, password included (a store names PostgreSQL without it), for the other process.
    const url = await freshDatabaseUrl(dialect);
    const s = await openStore(url);
    try {
      await applyProcess(s, fixtureText('process.yaml'), IMPORT_NOW - 86_400_000, 'test');
      const path = csv(6);
      let second: { status: number | null; stderr: string } | null = null;
      const first = await importAt(s, path, {
        batchSize: 2,
        onProgress: (p) => {
          // Once, as the first run starts writing: its run is claimed, no batch is open.
          if (p.phase === 'writing' && !second) second = cliImportNow(url, path);
        },
      });
      expect(first).toMatchObject({ outcome: 'imported', written: 6, created: 6, resumedFromLine: null });
      expect(second).toEqual({
        status: 1,
        stderr:
          `stageflow: pd.csv is being imported right now by run ${first.runId} (started 2026-03-02T09:00:00.000Z, ` +
          '0 leads written so far): wait for it to finish; nothing was written\n',
      });
      const leads = await s.db.selectFrom('leads').select(['id', 'version']).execute();
      expect(leads).toHaveLength(6);
      expect(leads.every((l) => Number(l.version) === 1)).toBe(true);
      const runs = await s.db.selectFrom('import_runs').select(['id', 'status']).execute();
      expect(runs).toEqual([{ id: first.runId, status: 'done' }]);
    } finally {
      await s.close();
    }
  });

  /** A run stopped before its first batch (Ctrl-C): unfinished at line 0. */
  async function stoppedRun(s: Store, path: string): Promise<string> {
    const stop = new AbortController();
    const stopped = await importAt(s, path, {
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'writing') stop.abort();
      },
    }).catch((e: unknown) => e);
    expect((stopped as Error).message).toMatch(/^the import stopped: interrupted\. nothing was saved \(run /);
    const [run] = await s.db.selectFrom('import_runs').select('id').execute();
    if (!run) throw new Error('no run was started');
    return run.id;
  }

  it('refuses a run leased elsewhere until its lease lapses, then resumes it', async () => {
    const s = await store(dialect);
    const path = csv(4);
    const runId = await stoppedRun(s, path);
    await setLease(s, runId, 'another-host/4242/x', Date.now() + 60_000);
    const refused = await importAt(s, path).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ImportAlreadyRunning);
    expect((refused as Error).message).toBe(
      `pd.csv is being imported right now by run ${runId} (started 2026-03-02T09:00:00.000Z, 0 leads written so far): ` +
        'wait for it to finish; nothing was written',
    );
    expect(await s.db.selectFrom('leads').select('id').execute()).toEqual([]);

    await setLease(s, runId, 'another-host/4242/x', Date.now() - 1);
    const resumed = await importAt(s, path);
    expect(resumed).toMatchObject({ outcome: 'imported', runId, resumedFromLine: 0, written: 4 });
  });

  it('resumes at once a run stopped in this process, or by a process of this machine that is gone', async () => {
    const s = await store(dialect);
    const path = csv(3);
    const runId = await stoppedRun(s, path);
    const again = await stoppedRun(s, path);
    expect(again).toBe(runId);
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    await setLease(s, runId, `${hostname()}/${gone}/x`, Date.now() + 60_000);
    const resumed = await importAt(s, path);
    expect(resumed).toMatchObject({ outcome: 'imported', runId, resumedFromLine: 0, written: 3 });
  });
});
