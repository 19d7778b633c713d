import SqliteDatabase from 'better-sqlite3';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { runImport, type ImportProgress } from '../../src/import/import-service.js';
import { DatabaseBusy, withTransaction, type Store } from '../../src/store/db.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * An import shares the database with a live server: while it checks a file (a dry run, or the
 * first pass of a real run) another connection can write, and a SQLite writer that meets another's
 * write lock waits for it without freezing its process, rather than failing "database is locked".
 */

const store = importStores();

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Currency,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,' +
  'Deal - Deal created,Deal - Won time,Deal - Lost time,Deal - Lost reason,Deal - Expected close date,' +
  'Deal - Last stage change,Organization - Name,Person - Email,Person - Phone';
const row = (id: number): string =>
  `${id},Deal ${id},100,EUR,Demo Scheduled,New business,Anna Schmidt,open,2026-01-05,,,,,,Org,,`;

function csv(ids: number[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-writers-')), 'pd.csv');
  writeFileSync(path, [HEADER, ...ids.map(row)].join('\n'));
  return path;
}

/** Another process's connection to the same file, which waits for no one: a held lock fails it at once. */
function otherConnection(s: Store): SqliteDatabase.Database {
  const other = new SqliteDatabase(s.location);
  other.pragma('busy_timeout = 0');
  return other;
}

describe('writing beside an import on sqlite', () => {
  it.each([true, false])('another connection writes while the check pass runs (dry run: %s)', async (dryRun) => {
    const s = await store('sqlite');
    await sql`create table probe (n integer)`.execute(s.db);
    const other = otherConnection(s);
    const outcomes: string[] = [];
    const onProgress = (p: ImportProgress): void => {
      if (p.phase !== 'checking') return;
      try {
        other.exec(`begin immediate; insert into probe values (${outcomes.length}); commit`);
        outcomes.push('written');
      } catch (e) {
        outcomes.push((e as Error).message);
      }
    };
    // A duplicate id, so the pass has scratch rows to keep; a real run is then refused.
    const r = await runImport(s, {
      format: 'pipedrive',
      path: csv([1, 2, 2]),
      dryRun,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
      onProgress,
    });
    other.close();
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((o) => o === 'written')).toBe(true);
    expect(r.problems.map((p) => p.message)).toContain('duplicate record id "2" (also on line 4)');
    expect(r.outcome).toBe(dryRun ? 'checked' : 'refused');
    const probes = await sql<{ n: number }>`select count(*) as n from probe`.execute(s.db);
    expect(probes.rows[0]?.n).toBe(outcomes.length);
    const leads = await s.db.selectFrom('leads').select('id').execute();
    expect(leads).toEqual([]);
  });

  it('a transaction waits for another connection’s write lock without blocking the process', async () => {
    const s = await store('sqlite');
    await sql`create table probe (n integer)`.execute(s.db);
    const other = otherConnection(s);
    other.exec('begin immediate; insert into probe values (1)');
    // Only a free event loop runs this timer; the transaction can go on only after it.
    setTimeout(() => other.exec('commit'), 300);
    const n = await withTransaction(s, async (tx) => {
      await sql`insert into probe values (2)`.execute(tx);
      return (await sql<{ n: number }>`select count(*) as n from probe`.execute(tx)).rows[0]?.n;
    });
    other.close();
    expect(n).toBe(2);
  });

  it('gives up after its wait, saying the database is busy and why', async () => {
    const s = await store('sqlite');
    const other = otherConnection(s);
    other.exec('begin immediate');
    const waiting: Store = { ...s, writeWaitMs: 200 };
    const failed = await withTransaction(waiting, () => Promise.resolve(1)).catch((e: unknown) => e);
    other.exec('rollback');
    other.close();
    expect(failed).toBeInstanceOf(DatabaseBusy);
    expect((failed as Error).message).toBe(
      `the database ${s.location} is busy: another connection (an import, or another Stageflow process) ` +
        'has held its write lock for over 0.2 s; try again',
    );
  });
});

describe.each(dialects)('the check pass on %s', (dialect) => {
  it('finds duplicate ids and leaves no scratch rows', async () => {
    const s = await store(dialect);
    const r = await runImport(s, {
      format: 'pipedrive',
      path: csv([1, 2, 3, 2, 1]),
      dryRun: true,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import' },
    });
    expect(r.problems.map((p) => `${p.line}: ${p.message}`)).toEqual([
      '2: duplicate record id "1" (also on line 6)',
      '3: duplicate record id "2" (also on line 5)',
      '5: duplicate record id "2" (also on line 3)',
      '6: duplicate record id "1" (also on line 2)',
    ]);
    expect(await s.db.selectFrom('import_seen').selectAll().execute()).toEqual([]);
  });
});
