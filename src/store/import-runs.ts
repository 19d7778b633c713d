import SqliteDatabase from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { sql } from 'kysely';
import { jsonField, withTransaction, type Store, type Tx } from './db.js';
import type { ImportRunsTable } from './schema.js';

/**
 * Import runs: one row per real (not dry) run, with a checkpoint advanced in the same
 * transaction as each batch, so an interrupted run resumes exactly after its last commit.
 */

export type ImportRun = ImportRunsTable;

/** By checksum, not path: the same file resumes under another name or temporary upload path. */
export async function findUnfinishedRun(tx: Tx, format: string, checksum: string): Promise<ImportRun | null> {
  return (
    (await tx
      .selectFrom('import_runs')
      .selectAll()
      .where('format', '=', format)
      .where('checksum', '=', checksum)
      .where('status', '=', 'writing')
      .orderBy('started_at', 'desc')
      .executeTakeFirst()) ?? null
  );
}

/**
 * A run being written is leased to the process writing it, so a second run of the same file (a
 * double click, a retried upload) sees it is live and stops, instead of "resuming" it and writing
 * its leads a second time beside it. The lease lives in the run's `options` (`leaseOwner`,
 * `leaseUntil`, wall-clock ms); the writer renews it with every batch and on a timer. A run whose
 * lease lapsed (its process died on another machine), or whose owner is a process of this machine
 * that no longer exists (SIGKILL, a crash), is interrupted: the same command resumes it.
 */
export const LEASE_MS = 60_000;
export const LEASE_RENEW_MS = 15_000;

export interface RunLease {
  runId: string;
  owner: string;
  /** The run's options without the lease, as the run was started with them. */
  options: Record<string, unknown>;
}

export type RunClaim = { lease: RunLease; resumed: ImportRun | null } | { live: ImportRun };

/**
 * Claims the unfinished run of this file, or starts `fresh` when there is none, unless that run is
 * live. One claim at a time (SQLite's BEGIN IMMEDIATE; a table lock on PostgreSQL), so two runs
 * started together never both take the same run nor both start one.
 */
export async function claimRun(store: Store, fresh: ImportRun): Promise<RunClaim> {
  const owner = `${hostname()}/${process.pid}/${randomUUID()}`;
  return withTransaction(store, async (tx) => {
    if (store.dialect === 'postgres') await sql`lock table import_runs in share row exclusive mode`.execute(tx);
    const found = await findUnfinishedRun(tx, fresh.format, fresh.checksum);
    if (found && leaseIsLive(found)) return { live: found };
    const lease: RunLease = { runId: found?.id ?? fresh.id, owner, options: withoutLease(found ?? fresh) };
    const options = leasedOptions(lease);
    if (found) await tx.updateTable('import_runs').set({ options }).where('id', '=', found.id).execute();
    else
      await tx
        .insertInto('import_runs')
        .values({ ...fresh, options })
        .execute();
    return { lease, resumed: found };
  });
}

/** The lease as a writer would see it: live while unexpired and its process (on this machine) exists. */
export function leaseIsLive(run: ImportRun, now = Date.now()): boolean {
  const { leaseOwner, leaseUntil } = parsedOptions(run);
  if (typeof leaseOwner !== 'string' || typeof leaseUntil !== 'number' || leaseUntil <= now) return false;
  const [host, pid] = leaseOwner.split('/');
  return host !== hostname() || processExists(Number(pid));
}

/** Extends the lease; false when it is no longer this writer's (another run took the file over). */
export async function renewLease(store: Store, tx: Tx, lease: RunLease): Promise<boolean> {
  const r = await tx
    .updateTable('import_runs')
    .set({ options: leasedOptions(lease) })
    .where('id', '=', lease.runId)
    .where(jsonField(store.dialect, sql`options`, 'leaseOwner'), '=', lease.owner)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Ends the lease of a run that stopped in this process, so the same command may resume it at once. */
export async function releaseLease(store: Store, lease: RunLease): Promise<void> {
  await withTransaction(store, async (tx) => {
    await tx
      .updateTable('import_runs')
      .set({ options: JSON.stringify(lease.options) })
      .where('id', '=', lease.runId)
      .where(jsonField(store.dialect, sql`options`, 'leaseOwner'), '=', lease.owner)
      .execute();
  });
}

function leasedOptions(lease: RunLease): string {
  return JSON.stringify({ ...lease.options, leaseOwner: lease.owner, leaseUntil: Date.now() + LEASE_MS });
}

function parsedOptions(run: ImportRun): Record<string, unknown> {
  const parsed: unknown = JSON.parse(run.options);
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function withoutLease(run: ImportRun): Record<string, unknown> {
  const { leaseOwner: _owner, leaseUntil: _until, ...rest } = parsedOptions(run);
  return rest;
}

function processExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Saves the batch's progress with it, in its transaction, and renews the lease; throws if the lease was lost. */
export async function advanceRun(
  store: Store,
  tx: Tx,
  lease: RunLease,
  progress: { checkpointLine: number; read: number; written: number; skipped: number },
): Promise<void> {
  if (!(await renewLease(store, tx, lease)))
    throw new Error(`run ${lease.runId} was taken over by another import of the same file`);
  await tx
    .updateTable('import_runs')
    .set({
      checkpoint_line: progress.checkpointLine,
      rows_read: progress.read,
      rows_written: progress.written,
      rows_skipped: progress.skipped,
    })
    .where('id', '=', lease.runId)
    .execute();
}

export async function finishRun(
  tx: Tx,
  id: string,
  finishedAt: number,
  summary: Record<string, unknown>,
): Promise<void> {
  await tx
    .updateTable('import_runs')
    .set({ status: 'done', finished_at: finishedAt, summary: JSON.stringify(summary) })
    .where('id', '=', id)
    .execute();
}

export async function listRuns(store: Store, limit = 20): Promise<ImportRun[]> {
  return store.db.selectFrom('import_runs').selectAll().orderBy('started_at', 'desc').limit(limit).execute();
}

export interface SeenIds {
  add(sourceId: string, line: number): Promise<void>;
  /** Up to `limit` ids seen on more than one line, each with its lines in order. */
  duplicates(limit: number): Promise<{ sourceId: string; lines: number[] }[]>;
}

/**
 * Runs `fn` with scratch space for a file's record ids, kept on disk rather than in a memory set
 * so a file of millions of rows costs no memory, and gone afterwards. It must not hold the
 * database's write lock: a check pass reads the whole file, which takes minutes for millions of
 * rows, and a live server must go on writing meanwhile. SQLite has one write lock per database,
 * so the scratch rows go to a private temporary database of their own (an empty file name: on
 * disk, deleted on close); PostgreSQL locks rows, so they go to `import_seen` in a transaction
 * that is rolled back, which blocks no one.
 */
export async function withSeenIds<T>(store: Store, fn: (seen: SeenIds) => Promise<T>): Promise<T> {
  if (store.dialect === 'sqlite') {
    const scratch = new SqliteDatabase('');
    try {
      scratch.exec('create table seen (source_id text not null, line integer not null)');
      return await fn(new SqliteSeenIds(scratch));
    } finally {
      scratch.close();
    }
  }
  const out: { value: T }[] = [];
  try {
    await store.db.transaction().execute(async (tx) => {
      out.push({ value: await fn(new TableSeenIds(tx)) });
      throw new Rollback();
    });
  } catch (e) {
    if (!(e instanceof Rollback)) throw e;
  }
  const [done] = out;
  if (!done) throw new Error('unreachable: the scratch transaction ended without a result');
  return done.value;
}

class Rollback extends Error {}

class SqliteSeenIds implements SeenIds {
  private readonly insert: SqliteDatabase.Statement<[string, number]>;

  constructor(private readonly scratch: SqliteDatabase.Database) {
    this.insert = scratch.prepare('insert into seen (source_id, line) values (?, ?)');
  }

  add(sourceId: string, line: number): Promise<void> {
    this.insert.run(sourceId, line);
    return Promise.resolve();
  }

  duplicates(limit: number): Promise<{ sourceId: string; lines: number[] }[]> {
    // Indexed once, after the inserts: cheaper than keeping the index up to date row by row.
    this.scratch.exec('create index seen_id on seen (source_id)');
    const rows = this.scratch
      .prepare(
        `select source_id, line from seen where source_id in
           (select source_id from seen group by source_id having count(*) > 1 order by source_id limit ?)
         order by line`,
      )
      .all(limit) as { source_id: string; line: number }[];
    return Promise.resolve(grouped(rows));
  }
}

/** PostgreSQL: `import_seen`, in a transaction the caller rolls back. */
class TableSeenIds implements SeenIds {
  private pending: { source_id: string; line: number }[] = [];

  constructor(private readonly tx: Tx) {}

  async add(sourceId: string, line: number): Promise<void> {
    this.pending.push({ source_id: sourceId, line });
    if (this.pending.length >= 5000) await this.flush();
  }

  async duplicates(limit: number): Promise<{ sourceId: string; lines: number[] }[]> {
    await this.flush();
    const ids = await this.tx
      .selectFrom('import_seen')
      .select('source_id')
      .groupBy('source_id')
      .having((eb) => eb.fn.countAll(), '>', 1)
      .orderBy('source_id')
      .limit(limit)
      .execute();
    if (ids.length === 0) return [];
    const rows = await this.tx
      .selectFrom('import_seen')
      .select(['source_id', 'line'])
      .where(
        'source_id',
        'in',
        ids.map((i) => i.source_id),
      )
      .orderBy('line')
      .execute();
    return grouped(rows);
  }

  private async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    for (let i = 0; i < rows.length; i += 10_000)
      await this.tx
        .insertInto('import_seen')
        .values(rows.slice(i, i + 10_000))
        .execute();
  }
}

function grouped(rows: readonly { source_id: string; line: number }[]): { sourceId: string; lines: number[] }[] {
  const out = new Map<string, number[]>();
  for (const r of rows) out.set(r.source_id, [...(out.get(r.source_id) ?? []), r.line]);
  return [...out].map(([sourceId, lines]) => ({ sourceId, lines }));
}
