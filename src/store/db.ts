import SqliteDatabase from 'better-sqlite3';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type RawBuilder,
  type SqliteDatabase as KyselySqlite,
} from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

/**
 * The dialect seam: everything that differs between SQLite and PostgreSQL is decided here,
 * behind capability flags, so the rest of the store writes one query for both.
 */

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Where the data lives, for messages (a file path or a redacted URL). */
  location: string;
  /**
   * SQLite only: the connection under Kysely, for bulk writers that run one prepared statement
   * per row (Kysely compiles every query anew, which costs more than SQLite's insert itself).
   * Use it only inside `withTransaction`, which holds this same connection.
   */
  sqlite?: SqliteDatabase.Database;
  /** SQLite: how long `withTransaction` waits for another writer (default SQLITE_WRITE_WAIT_MS). */
  writeWaitMs?: number;
  close(): Promise<void>;
}

// BIGINT (epoch ms, minor units) fits in a double for every value we store.
pg.types.setTypeParser(20, (v) => Number(v));

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

export async function openStore(url: string, opts: { migrate?: boolean } = {}): Promise<Store> {
  const store = isPostgresUrl(url) ? openPostgres(url) : openSqlite(url);
  if (opts.migrate !== false) {
    try {
      await migrate(store);
    } catch (e) {
      await store.close();
      throw e;
    }
  }
  return store;
}

function openPostgres(url: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: url.replace(/\/\/[^@/]*@/, '//***@'),
    close: () => db.destroy(),
  };
}

/**
 * SQLite as shipped: WAL, fsync on every commit, a busy timeout, foreign keys enforced, and a page
 * cache of 64 MiB instead of SQLite's 2 MiB default (pages are allocated as used, so a small file
 * costs little): at 1,000,000 leads the reports re-read index pages the default cache had
 * dropped, and adoption took 6.0 s with it against 11.6 s without (bench/README.md).
 */
export const SQLITE_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = FULL',
  'busy_timeout = 5000',
  'foreign_keys = ON',
  'cache_size = -65536',
];

/** A SQLite file that cannot be opened, named with what is wrong (the system's errors name neither). */
export class DatabaseUnavailable extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`cannot open the SQLite database ${path}: ${reason}`);
  }
}

function openSqlite(path: string): Store {
  let raw: SqliteDatabase.Database | null = null;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    raw = new SqliteDatabase(path);
    for (const p of SQLITE_PRAGMAS) raw.pragma(p);
    // SQLite's own lower() folds ASCII letters only ("ZÜRICH" to "zÜrich"); this one folds as
    // PostgreSQL's does in a UTF-8 database, so a caseless comparison finds the same rows on both.
    raw.function('unicode_lower', { deterministic: true }, (v: unknown) =>
      typeof v === 'string' ? v.toLowerCase() : v,
    );
  } catch (e) {
    raw?.close();
    throw new DatabaseUnavailable(path, whyNotOpened(path, e));
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(raw) }) });
  return { db, dialect: 'sqlite', location: path, sqlite: raw, close: () => db.destroy() };
}

/** A text folded to lower case, every letter (not ASCII alone, as SQLite's lower() does). */
export function unicodeLower(dialect: DialectName, text: RawBuilder<unknown>): RawBuilder<string | null> {
  return dialect === 'postgres' ? sql<string | null>`lower(${text})` : sql<string | null>`unicode_lower(${text})`;
}

function whyNotOpened(path: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  const dir = dirname(path);
  // mkdir's EEXIST or ENOTDIR: a part of the path that should be a folder is a file.
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(d)) {
      if (!statSync(d).isDirectory()) return `${d} is a file, not a folder`;
      break;
    }
    if (dirname(d) === d) break;
  }
  if (existsSync(path) && statSync(path).isDirectory()) return `${path} is a folder, not a database file`;
  // SQLite says only "unable to open database file": most often the file cannot be created there.
  if ((e as { code?: unknown }).code === 'SQLITE_CANTOPEN') return `${message} (is the folder ${dir} writable?)`;
  return message;
}

/** Kysely prepares every query anew; reusing statements by SQL text roughly halves the engine's cost on SQLite. */
function cachingStatements(raw: SqliteDatabase.Database): KyselySqlite {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = raw.prepare(text);
        if (cache.size > 500) cache.clear();
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

/** A database migrated by a newer release: nothing is wrong with it, this code is older. */
export class DatabaseNewer extends Error {}

export async function migrate(store: Store): Promise<string[]> {
  await refuseNewerDatabase(store);
  // A number given out before a later one landed (0029 after 0030) still runs on databases that
  // have the later one: migrations here do not depend on the ones numbered after them.
  const migrator = new Migrator({ db: store.db, provider: migrationProvider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Kysely calls a database with migrations it does not know "corrupted", which sends an admin to
 * their backups; after an upgrade rolled back, the database is simply newer than the code.
 */
async function refuseNewerDatabase(store: Store): Promise<void> {
  let applied: string[];
  try {
    const rows = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(store.db);
    applied = rows.rows.map((r) => r.name);
  } catch {
    return; // a new database: no migration table yet
  }
  const known = Object.keys(await migrationProvider.getMigrations()).sort();
  const unknown = applied.filter((name) => !known.includes(name));
  if (unknown.length === 0) return;
  throw new DatabaseNewer(
    `this database was upgraded by a newer Stageflow: it has migrations this version does not know ` +
      `(${unknown.join(', ')}; this version knows up to ${known.at(-1) ?? 'none'}). Run the newer version, ` +
      'or restore the backup taken before the upgrade',
  );
}

export type Tx = Kysely<Database>;

/** A text field of a JSON column: the one spelling that differs between the two databases. */
export function jsonField(dialect: DialectName, column: RawBuilder<unknown>, key: string): RawBuilder<string | null> {
  return dialect === 'postgres'
    ? sql<string | null>`(cast(${column} as json) ->> ${key})`
    : sql<string | null>`json_extract(${column}, ${`$.${key}`})`;
}

/**
 * A field of a JSON column as its JSON text (`"EMEA"`, `40`, `true`, or null without the field),
 * the same on both databases: where `jsonField` gives SQLite's 1 for true and PostgreSQL's 'true',
 * this lets a filter compare one spelling. `key` is a catalogue key (letters, digits, "_").
 */
export function jsonFieldText(
  dialect: DialectName,
  column: RawBuilder<unknown>,
  key: string,
): RawBuilder<string | null> {
  return dialect === 'postgres'
    ? sql<string | null>`cast((cast(${column} as json) -> ${key}) as text)`
    : sql<string | null>`(${column} -> ${`$.${key}`})`;
}

/**
 * How long a SQLite write waits for another connection's write transaction (an import's batch,
 * another process) before it gives up with DatabaseBusy.
 */
export const SQLITE_WRITE_WAIT_MS = 30_000;

/** A SQLite write that waited its whole time for another writer to finish. */
export class DatabaseBusy extends Error {}

/**
 * Runs `fn` in one transaction. SQLite takes the write lock up front (BEGIN IMMEDIATE) so two
 * processes never deadlock upgrading a read lock; PostgreSQL uses READ COMMITTED plus the
 * optimistic lead version, which turns a lost update into a retry.
 *
 * While another connection holds SQLite's write lock, the wait is asynchronous: BEGIN is tried
 * without SQLite's busy timeout (whose wait blocks the whole process, a server's every request
 * with it) and retried after short pauses that leave the connection and the event loop free. So
 * every write of the server and its worker goes through here, a single statement too (a session,
 * an audit line, a delivery record): written on `store.db` directly, it would wait in that timeout.
 */
export async function withTransaction<T>(store: Store, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (store.dialect === 'postgres') return store.db.transaction().execute(fn);
  const waitMs = store.writeWaitMs ?? SQLITE_WRITE_WAIT_MS;
  const deadline = Date.now() + waitMs;
  for (let pause = 5; ; pause = Math.min(pause * 2, 100)) {
    const attempt = await store.db.connection().execute(async (conn) => {
      if (!(await beganImmediate(store, conn))) return null;
      try {
        const out = await fn(conn);
        await sql`commit`.execute(conn);
        return { out };
      } catch (e) {
        await sql`rollback`.execute(conn);
        throw e;
      }
    });
    if (attempt) return attempt.out;
    if (Date.now() >= deadline)
      throw new DatabaseBusy(
        `the database ${store.location} is busy: another connection (an import, or another Stageflow ` +
          `process) has held its write lock for over ${waitMs / 1000} s; try again`,
      );
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/** BEGIN IMMEDIATE without waiting: false when another connection holds the write lock. */
async function beganImmediate(store: Store, conn: Tx): Promise<boolean> {
  const raw = store.sqlite;
  const timeout = raw?.pragma('busy_timeout', { simple: true });
  raw?.pragma('busy_timeout = 0');
  try {
    await sql`begin immediate`.execute(conn);
    return true;
  } catch (e) {
    if ((e as { code?: unknown }).code === 'SQLITE_BUSY') return false;
    throw e;
  } finally {
    if (raw && typeof timeout === 'number') raw.pragma(`busy_timeout = ${timeout}`);
  }
}
