import { sql } from 'kysely';
import type { Store, Tx } from './db.js';
import type { LeadImportColumns, LeadsTable, StageStaysTable } from './schema.js';

/**
 * Writes imported leads a batch at a time, inside the caller's transaction. A record already
 * imported is replaced (its rebuilt stays with it), unless the lead has been worked in Stageflow
 * since (it has an event: imported leads start at seq 0): then the import leaves it alone and
 * says so. On SQLite each row is one cached prepared statement, which is several times
 * cheaper than compiling a multi-row query; PostgreSQL gets one multi-row statement per table.
 */

export type ImportedLeadRow = LeadsTable & {
  [K in keyof LeadImportColumns]: K extends 'imported_at' ? number : string | null;
};

export interface ImportedLeadRows {
  lead: ImportedLeadRow;
  stays: StageStaysTable[];
}

export interface ImportBatchResult {
  written: number;
  /** Of those written, the leads an earlier import had written: replaced, not new. */
  replaced: number;
  /** Leads worked in Stageflow since their import: not overwritten. */
  kept: string[];
}

const CHILD_TABLES = ['stage_stays'] as const;
const MAX_PARAMS = 30_000;

export async function writeImportBatch(
  store: Store,
  tx: Tx,
  batch: readonly ImportedLeadRows[],
): Promise<ImportBatchResult> {
  if (batch.length === 0) return { written: 0, replaced: 0, kept: [] };
  return store.sqlite ? writeSqlite(store.sqlite, batch) : writeKysely(tx, batch);
}

type RawDb = NonNullable<Store['sqlite']>;
type RawStatement = ReturnType<RawDb['prepare']>;

/** Prepared statements per connection: built from the first row's columns, reused for every batch. */
const statements = new WeakMap<RawDb, Map<string, RawStatement>>();

function prepared(db: RawDb, key: string, build: () => string): RawStatement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let stmt = cache.get(key);
  if (!stmt) cache.set(key, (stmt = db.prepare(build())));
  return stmt;
}

function insertSql(table: string, row: object, upsert: string | null = null): string {
  const cols = Object.keys(row);
  const head = `insert into ${table} (${cols.join(', ')}) values (${cols.map((c) => `@${c}`).join(', ')})`;
  return upsert ? `${head} ${upsert}` : head;
}

/** Columns a re-import replaces: all but the key, the version, and when the lead was first imported. */
const replacedColumns = (row: ImportedLeadRow): string[] =>
  Object.keys(row).filter((c) => c !== 'id' && c !== 'version' && c !== 'imported_at');

function leadUpsert(row: ImportedLeadRow): string {
  const cols = replacedColumns(row);
  // A replaced lead gets a new version, so an ETag taken before the re-import is stale; it has
  // been in Stageflow since its first import (adoption counts its open stay from then).
  return `on conflict (id) do update set ${cols.map((c) => `${c} = excluded.${c}`).join(', ')}, version = leads.version + 1, imported_at = coalesce(leads.imported_at, excluded.imported_at)`;
}

function writeSqlite(db: RawDb, batch: readonly ImportedLeadRows[]): ImportBatchResult {
  const first = batch[0] as ImportedLeadRows;
  const seqOf = prepared(db, 'seq', () => 'select seq from leads where id = ?');
  const deletes = CHILD_TABLES.map((t) => prepared(db, `del:${t}`, () => `delete from ${t} where lead_id = ?`));
  // A new lead gets a plain INSERT: SQLite skips the foreign-key scans of the seven tables that
  // refer to leads for a single-row insert, but not for an upsert (67 against 25 µs a lead).
  const newLead = prepared(db, 'lead:new', () => insertSql('leads', first.lead));
  const replacedLead = prepared(db, 'lead', () => insertSql('leads', first.lead, leadUpsert(first.lead)));
  const kept: string[] = [];
  let written = 0;
  let replaced = 0;
  for (const rows of batch) {
    const existing = seqOf.get(rows.lead.id) as { seq: number } | undefined;
    if (existing && existing.seq > 0) {
      kept.push(rows.lead.id);
      continue;
    }
    if (existing) {
      for (const d of deletes) d.run(rows.lead.id);
      replacedLead.run(rows.lead);
      replaced++;
    } else newLead.run(rows.lead);
    for (const s of rows.stays) prepared(db, 'stay', () => insertSql('stage_stays', s)).run(s);
    written++;
  }
  return { written, replaced, kept };
}

async function writeKysely(tx: Tx, batch: readonly ImportedLeadRows[]): Promise<ImportBatchResult> {
  const ids = batch.map((b) => b.lead.id);
  const existing = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await tx
      .selectFrom('leads')
      .select(['id', 'seq'])
      .where('id', 'in', ids.slice(i, i + 1000))
      .forUpdate()
      .execute();
    for (const r of rows) existing.set(r.id, r.seq);
  }
  const kept = batch.filter((b) => (existing.get(b.lead.id) ?? 0) > 0).map((b) => b.lead.id);
  const keptSet = new Set(kept);
  const todo = batch.filter((b) => !keptSet.has(b.lead.id));
  const replaced = todo.filter((b) => existing.has(b.lead.id)).map((b) => b.lead.id);
  for (const table of CHILD_TABLES)
    for (let i = 0; i < replaced.length; i += 1000)
      await tx
        .deleteFrom(table)
        .where('lead_id', 'in', replaced.slice(i, i + 1000))
        .execute();

  const leads = todo.map((b) => b.lead);
  const cols = leads[0] ? replacedColumns(leads[0]) : [];
  for (const part of chunk(leads))
    await tx
      .insertInto('leads')
      .values(part)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({
          ...Object.fromEntries(cols.map((c) => [c, sql`excluded.${sql.ref(c)}`])),
          version: sql`leads.version + 1`,
          imported_at: sql`coalesce(leads.imported_at, excluded.imported_at)`,
        }),
      )
      .execute();
  for (const part of chunk(todo.flatMap((b) => b.stays))) await tx.insertInto('stage_stays').values(part).execute();
  return { written: todo.length, replaced: replaced.length, kept };
}

function chunk<T extends object>(rows: readonly T[]): T[][] {
  if (rows.length === 0) return [];
  const per = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(rows[0] as object).length));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/** The stored created_at of those of `ids` already in the store (an earlier import's). */
export async function storedCreatedAt(tx: Tx, ids: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 1000) {
    const rows = await tx
      .selectFrom('leads')
      .select(['id', 'created_at'])
      .where('id', 'in', ids.slice(i, i + 1000))
      .execute();
    for (const r of rows) out.set(r.id, Number(r.created_at));
  }
  return out;
}

/** Open leads per owner, recounted after an import so that least-open routing and caps see them. */
export async function recountOpenLeads(tx: Tx): Promise<void> {
  await tx.deleteFrom('routing_load').execute();
  await tx
    .insertInto('routing_load')
    .columns(['user_id', 'open_leads'])
    .expression((eb) =>
      eb
        .selectFrom('leads')
        .select(['owner as user_id', (e) => e.fn.countAll<number>().as('open_leads')])
        .where('status', '=', 'open')
        .where('owner', 'is not', null)
        .groupBy('owner'),
    )
    .execute();
}
