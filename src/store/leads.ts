import type { Fields, FieldValue } from '../domain/conditions.js';
import { nextOutboxSeries, type LeadState, type StayState, type TaskState } from '../domain/lead.js';
import { sql, type RawBuilder } from 'kysely';
import type { Tx } from './db.js';
import type { LeadsTable, TasksTable } from './schema.js';
import { leadKeys } from './lead-keys.js';
import type { LeadReach } from './lead-reach.js';
import { prepared, type Connection } from './sqlite-statements.js';

/** Reads a lead's engine state and writes one decision's rows. */

/**
 * The lead's working set, kept on its row so that one read loads everything decide() needs: the
 * open stay, its tasks (and reopened older ones), signals and lists. The tasks table holds the
 * same tasks as rows, for queries, history and reports.
 */
interface LeadBookkeeping {
  stay: StayState;
  tasks: TaskState[];
  signals: Record<string, number>;
  lists: string[];
  listTags?: Record<string, string[]>;
  /** Absent on rows written before outbox series existed: the engine finds it at the next event. */
  outboxSeries?: number;
}

export class VersionConflict extends Error {
  constructor(readonly leadId: string) {
    super(`lead ${leadId} was changed by another writer`);
  }
}

/**
 * The lead columns a batch loads: those the working state is read from, and every other indexed
 * column the engine writes. The row is kept as loaded, so the engine's UPDATE sets only the indexed
 * columns an event changed (an UPDATE that sets an indexed column rewrites that index's entry,
 * changed or not); columns not loaded are always set, which costs no index.
 */
export const LOADED_LEAD_COLUMNS = [
  'id',
  'process_version',
  'pipeline',
  'status',
  'owner',
  'fields',
  'created_at',
  'closed_at',
  'close_reason',
  'state',
  'seq',
  'version',
  'error',
  // Indexed, and read only to compare:
  'stage',
  'email_key', // in leads_contact_email
  'company_key', // in leads_company_key (the accounts' index)
  'value_minor',
  'product',
  'territory',
  'source',
  'furthest_index',
  'other_pipelines',
  'updated_at', // in leads_updated; it moves with nearly every write, but two events in one millisecond leave it
] as const satisfies readonly (keyof LeadsTable)[];
const STATE_COLUMNS = LOADED_LEAD_COLUMNS;
type StateRow = Pick<LeadsTable, (typeof STATE_COLUMNS)[number]>;

/** A lead as a batch loaded it: its working state, its version, and the row it was read from. */
export interface LoadedLead {
  state: LeadState;
  version: number;
  row: Readonly<StateRow>;
}
/** The order lead rows are locked in on PostgreSQL: the id's bytes, as JavaScript sorts ASCII ids. */
export const LOCK_ORDER = sql<string>`"id" collate "C"`;
const SELECT_BY_ID = `select ${STATE_COLUMNS.map((c) => `"${c}"`).join(', ')} from "leads" where "id" = ?`;

/**
 * The working state of several leads at once (a group-committed batch), keyed by id. With
 * `sqlite` (the raw connection of the transaction `tx` runs on), one prepared point lookup per
 * lead, which costs less than compiling and parsing an IN list of a new length each batch.
 */
export async function loadLeads(
  tx: Tx,
  ids: readonly string[],
  lock: boolean,
  sqlite?: Connection,
): Promise<Map<string, LoadedLead>> {
  const out = new Map<string, LoadedLead>();
  if (sqlite) {
    const byId = prepared(sqlite, SELECT_BY_ID);
    for (const id of ids) {
      const row = byId.get(id) as StateRow | undefined;
      if (row) out.set(row.id, fromRow(row));
    }
    return out;
  }
  // Locked in one order (byte order of the id, as `process apply` locks open leads), so two
  // writers locking several of the same leads wait for each other instead of deadlocking.
  const ordered = lock ? [...ids].sort() : ids;
  for (let i = 0; i < ordered.length; i += 500) {
    const query = tx
      .selectFrom('leads')
      .select(STATE_COLUMNS)
      .where('id', 'in', ordered.slice(i, i + 500));
    const rows = await (lock ? query.orderBy(LOCK_ORDER).forUpdate() : query).execute();
    for (const row of rows) out.set(row.id, fromRow(row));
  }
  return out;
}

function fromRow(row: StateRow): LoadedLead {
  const book = JSON.parse(row.state) as LeadBookkeeping;
  return {
    row,
    version: row.version,
    state: {
      id: row.id,
      processVersion: row.process_version,
      pipeline: row.pipeline,
      status: row.status as LeadState['status'],
      owner: row.owner,
      fields: JSON.parse(row.fields) as Fields,
      createdAt: row.created_at,
      closedAt: row.closed_at,
      closeReason: row.close_reason,
      stay: book.stay,
      tasks: book.tasks,
      signals: book.signals,
      lists: book.lists,
      ...(book.listTags !== undefined ? { listTags: book.listTags } : {}),
      seq: row.seq,
      error: row.error,
      ...(book.outboxSeries !== undefined ? { outboxSeries: book.outboxSeries } : {}),
    },
  };
}

export function taskFromRow(r: TasksTable): TaskState {
  return {
    id: r.id,
    stayId: r.stay_id,
    template: r.template,
    title: r.title,
    kind: r.kind,
    status: r.status as TaskState['status'],
    assigneeRule: r.assignee_rule as TaskState['assigneeRule'],
    assignee: r.assignee,
    dueAt: r.due_at,
    overdueAt: r.overdue_at,
    createdAt: r.created_at,
    completedAt: r.completed_at,
    skippedAt: r.skipped_at,
    skipReason: r.skip_reason,
    dueFired: r.due_fired === 1,
    overdueFired: r.overdue_fired === 1,
    ...(r.ad_hoc === 1 ? { adHoc: true as const, note: r.note } : {}),
  };
}

export function taskRow(leadId: string, t: TaskState): TasksTable {
  return {
    id: t.id,
    lead_id: leadId,
    stay_id: t.stayId,
    template: t.template,
    title: t.title,
    kind: t.kind,
    status: t.status,
    assignee_rule: t.assigneeRule,
    assignee: t.assignee,
    due_at: t.dueAt,
    overdue_at: t.overdueAt,
    created_at: t.createdAt,
    completed_at: t.completedAt,
    skipped_at: t.skippedAt,
    skip_reason: t.skipReason,
    due_fired: t.dueFired ? 1 : 0,
    overdue_fired: t.overdueFired ? 1 : 0,
    ad_hoc: t.adHoc ? 1 : 0,
    note: t.note ?? null,
  };
}

const text = (v: FieldValue | undefined): string | null => (v === undefined || v === null ? null : String(v));

function minorUnits(v: FieldValue | undefined): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.round(n * 100) : null;
}

function epochOf(v: FieldValue | undefined): number | null {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v === '') return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : ms;
}

/** The lead's columns but its two JSON texts: what the API presents a lead from without a read back. */
export type LeadColumns = Omit<LeadsTable, 'fields' | 'state' | keyof LeadReach>;

export function leadColumns(s: LeadState, version: number, now: number): LeadColumns {
  const contact = {
    name: text(s.fields['name']),
    email: text(s.fields['email']),
    company: text(s.fields['company']),
  };
  return {
    id: s.id,
    process_version: s.processVersion,
    pipeline: s.pipeline,
    stage: s.stay.stage,
    stage_index: s.stay.stageIndex,
    stay_id: s.stay.id,
    stage_entered_at: s.stay.enteredAt,
    status: s.status,
    owner: s.owner,
    ...contact,
    phone: text(s.fields['phone']),
    ...leadKeys({ ...contact, fields: s.fields }),
    value_minor: minorUnits(s.fields['value']),
    source: text(s.fields['source']),
    product: text(s.fields['product']),
    territory: text(s.fields['territory']),
    expected_close: epochOf(s.fields['expected_close']),
    created_at: s.createdAt,
    closed_at: s.closedAt,
    close_reason: s.closeReason,
    seq: s.seq,
    version,
    error: s.error,
    updated_at: now,
  };
}

/**
 * The lead row: engine state plus the reported fields copied into typed columns, and how far the
 * lead got (which its stays tell, not its state: the writer passes it in).
 */
export function leadRow(s: LeadState, version: number, now: number, reach: LeadReach): LeadsTable {
  const book: LeadBookkeeping = {
    stay: s.stay,
    tasks: s.tasks,
    signals: s.signals,
    lists: s.lists,
    ...(s.listTags !== undefined ? { listTags: s.listTags } : {}),
    ...(s.outboxSeries !== undefined ? { outboxSeries: s.outboxSeries } : {}),
  };
  return Object.assign(leadColumns(s, version, now), {
    fields: JSON.stringify(s.fields),
    state: JSON.stringify(book),
    ...reach,
  });
}

const KEPT_OUTBOX_IDS = 'select "id" from "outbox" where "lead_id" = ?';

/**
 * For leads whose state has no outbox series yet: the first series free under each id, from the
 * outbox rows kept under it (a deleted lead's delivered and cancelled messages stay). Indexed by
 * lead; nearly always no row at all.
 */
export async function freeOutboxSeries(
  tx: Tx,
  ids: readonly string[],
  sqlite?: Connection,
): Promise<Map<string, number>> {
  const kept = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (sqlite) {
    const byLead = prepared(sqlite, KEPT_OUTBOX_IDS);
    for (const id of ids)
      kept.set(
        id,
        (byLead.all(id) as { id: string }[]).map((r) => r.id),
      );
  } else
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await tx
        .selectFrom('outbox')
        .select(['id', 'lead_id'])
        .where('lead_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) kept.get(r.lead_id)?.push(r.id);
    }
  return new Map([...kept].map(([id, rows]) => [id, nextOutboxSeries(id, rows)]));
}

/** One task of a lead by id, whatever its stay: a done task of an earlier stage can be reopened. */
export async function loadTask(tx: Tx, leadId: string, taskId: string): Promise<TaskState | null> {
  const row = await tx
    .selectFrom('tasks')
    .selectAll()
    .where('lead_id', '=', leadId)
    .where('id', '=', taskId)
    .executeTakeFirst();
  return row ? taskFromRow(row) : null;
}

/** The stage of one stay, by its id: what a refusal about that stay's tasks names. */
export async function stayStage(tx: Tx, stayId: string): Promise<string | null> {
  const row = await tx.selectFrom('stage_stays').select('stage').where('id', '=', stayId).executeTakeFirst();
  return row?.stage ?? null;
}

/**
 * `updated_at` moved on to `now`, never back: a write dated before the lead's last one (a clock set
 * back, a --now typed by hand) must not hide the change from a client syncing by updated_since.
 */
export function updatedAtNoEarlierThan(now: number): RawBuilder<number> {
  return sql<number>`case when updated_at > ${now} then updated_at else ${now} end`;
}
