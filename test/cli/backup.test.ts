import SqliteDatabase from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { openStore } from '../../src/store/db.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, stageflow } from './helpers.js';

/**
 * `stageflow backup FILE` copies a live SQLite database whole, commits still in its write-ahead
 * log included, while another connection goes on writing; PostgreSQL is pointed to pg_dump.
 */

const NOW = Date.parse('2026-03-02T09:00:00Z');

function backupPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'stageflow-backup-')), 'copy.db');
}

describe('stageflow backup', () => {
  it('copies every committed lead while writes go on, into a file that opens', async () => {
    const db = await freshDatabaseUrl('sqlite');
    // The store stays open throughout, as a server's does: its commits sit in the -wal file.
    const store = await openStore(db);
    try {
      // No checkpoint in this test: every lead stays in the -wal file, where a file copy misses it.
      store.sqlite?.pragma('wal_autocheckpoint = 0');
      await applyProcess(store, PROCESS_YAML, NOW, 'test');
      const engine = new Engine(store);
      const committed: string[] = [];
      const create = async (): Promise<void> => {
        const id = `L${committed.length + 1}`;
        const out = await engine.handle({ type: 'lead.created', lead: id, fields: { name: id } }, NOW);
        expect(out.ok).toBe(true);
        committed.push(id);
      };
      for (let i = 0; i < 20; i++) await create();
      const before = [...committed];

      const target = backupPath();
      let running = true;
      const backup = stageflow(['--db', db, 'backup', target]).finally(() => {
        running = false;
      });
      let during = 0;
      while (running) {
        await create();
        during++;
        // A server's writes come between other work: the child's answer needs the event loop too.
        await new Promise((r) => setTimeout(r, 10));
      }
      const r = await backup;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^backed up ${db} to ${target} \\(\\d+\\.\\d MB\\)\\n$`));
      expect(during).toBeGreaterThan(0);

      const copy = new SqliteDatabase(target, { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        const ids = (copy.prepare('select id from leads').all() as { id: string }[]).map((l) => l.id);
        // Every lead committed before the backup began, and only whole leads of those after.
        expect(ids).toEqual(expect.arrayContaining(before));
        expect(committed).toEqual(expect.arrayContaining(ids));
        const stays = copy.prepare('select count(distinct lead_id) as n from stage_stays').get() as { n: number };
        expect(stays.n).toBe(ids.length);
      } finally {
        copy.close();
      }
      // Nothing but the backup is left in its folder (no temporary file, no -wal).
      expect(readdirSync(join(target, '..'))).toEqual(['copy.db']);
    } finally {
      await store.close();
    }
  });

  it('refuses to overwrite a file, and leaves it as it was', async () => {
    const db = await freshDatabaseUrl('sqlite');
    expect((await stageflow(['--db', db, 'migrate'])).code).toBe(0);
    const target = backupPath();
    writeFileSync(target, 'keep me');
    const r = await stageflow(['--db', db, 'backup', target]);
    expect(r).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `stageflow: ${target} already exists: give a new file name (nothing was written)\n`,
    });
    expect(readFileSync(target, 'utf8')).toBe('keep me');
  });

  it('on PostgreSQL, points to pg_dump and writes nothing', async () => {
    const db = await freshDatabaseUrl('postgres');
    const target = backupPath();
    const r = await stageflow(['--db', db, 'backup', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'stageflow: backup copies a SQLite database; for PostgreSQL use pg_dump ' +
        '(pg_dump --format=custom --file=FILE "$DATABASE_URL", restored with pg_restore)\n',
    );
    expect(existsSync(target)).toBe(false);
  });
});
