import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore } from '../../src/store/db.js';
import { session, tempFile } from '../cli/helpers.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { fixture, fixtureText } from './support.js';

/**
 * What `stageflow import` says when it ends: how many leads were new and how many an earlier
 * import had written, and on Ctrl-C during the write pass what is saved and how to go on.
 */

let db: string;

beforeEach(async () => {
  db = await freshDatabaseUrl('sqlite');
  const store = await openStore(db);
  await applyProcess(store, fixtureText('process.yaml'), Date.parse('2026-03-01T09:00:00Z'), 'test');
  await store.close();
});

async function leadCount(): Promise<number> {
  const store = await openStore(db);
  try {
    const r = await store.db
      .selectFrom('leads')
      .select((e) => e.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  } finally {
    await store.close();
  }
}

describe('stageflow import summary', () => {
  it('says how many leads were new and how many a re-run updated', async () => {
    const cli = session(db);
    const first = await cli(['import', 'pipedrive', fixture('pipedrive-deals.csv')]);
    expect(first.stdout).toContain('imported 5 leads (5 new, 0 updated)');
    const again = await cli(['import', 'pipedrive', fixture('pipedrive-deals.csv')]);
    expect(again.stdout).toContain('imported 5 leads (0 new, 5 updated)');
    expect(await leadCount()).toBe(5);
  });

  it('on SIGINT during the write pass, says what is saved, and the same command resumes', async () => {
    const rows = ['Deal - ID,Deal - Title,Deal - Owner,Deal - Value,Deal - Stage,Deal - Status,Deal - Deal created'];
    for (let i = 1; i <= 20_000; i++)
      rows.push(`${i},Deal ${i},Anna Schmidt,100,Demo Scheduled,open,2026-01-05 10:00:00`);
    const path = tempFile('pd-big.csv', `${rows.join('\n')}\n`);
    const args = ['--db', db, '--now', '2026-03-02T09:00:00Z', 'import', 'pipedrive', path, '--batch', '200'];
    const root = join(import.meta.dirname, '..', '..');
    const env = { ...process.env };
    delete env['DATABASE_URL'];
    let stderr = '';
    let stdout = '';
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
      { cwd: root, env },
      (_e, out, err) => {
        stdout = out;
        stderr = err;
      },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupted once a batch is committed, so that something is saved.
    const store = await openStore(db);
    try {
      for (let i = 0; i < 1200; i++) {
        const run = await store.db.selectFrom('import_runs').select('rows_written').executeTakeFirst();
        if (run && run.rows_written > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await store.close();
    }
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    const m =
      /the import stopped: interrupted\. (\d+) leads up to line (\d+) are saved \(run [^)]+\); run the same command again to resume after the last saved line/.exec(
        stderr,
      );
    expect(m, `${stdout}\n${stderr}`).not.toBeNull();
    const saved = Number(m?.[1]);
    expect(saved).toBeGreaterThan(0);
    expect(saved).toBeLessThan(20_000);
    expect(await leadCount()).toBe(saved);
    const again = await session(db)(['import', 'pipedrive', path, '--batch', '200']);
    expect(again.stdout).toContain(`resumed after line ${m?.[2]}`);
    expect(await leadCount()).toBe(20_000);
  }, 180_000);
});
