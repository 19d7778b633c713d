import type { Store, Tx } from './db.js';
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

export async function startRun(tx: Tx, run: ImportRun): Promise<void> {
  await tx.insertInto('import_runs').values(run).execute();
}

export async function advanceRun(
  tx: Tx,
  id: string,
  progress: { checkpointLine: number; read: number; written: number; skipped: number },
): Promise<void> {
  await tx
    .updateTable('import_runs')
    .set({
      checkpoint_line: progress.checkpointLine,
      rows_read: progress.read,
      rows_written: progress.written,
      rows_skipped: progress.skipped,
    })
    .where('id', '=', id)
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

/**
 * Duplicate record ids in a file, found in the database rather than a memory set so that a file
 * of millions of rows costs no memory: the caller writes every id here inside a transaction it
 * rolls back afterwards.
 */
export class SeenIds {
  private pending: { source_id: string; line: number }[] = [];

  constructor(
    private readonly store: Store,
    private readonly tx: Tx,
  ) {}

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
    const out = new Map<string, number[]>();
    for (const r of rows) out.set(r.source_id, [...(out.get(r.source_id) ?? []), r.line]);
    return [...out].map(([sourceId, lines]) => ({ sourceId, lines }));
  }

  private async flush(): Promise<void> {
    const rows = this.pending;
    this.pending = [];
    if (rows.length === 0) return;
    const raw = this.store.sqlite;
    if (raw) {
      const stmt = raw.prepare('insert into import_seen (source_id, line) values (?, ?)');
      for (const r of rows) stmt.run(r.source_id, r.line);
      return;
    }
    for (let i = 0; i < rows.length; i += 10_000)
      await this.tx
        .insertInto('import_seen')
        .values(rows.slice(i, i + 10_000))
        .execute();
  }
}
