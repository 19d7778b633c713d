import type { Fields } from '../domain/conditions.js';
import type { Actor } from '../domain/events.js';
import type { LeadStatus, TaskState, TaskStatus } from '../domain/lead.js';
import { currentSeriesRows, rowSeries } from './contact-outbox.js';
import { taskFromRow } from './leads.js';
import type { Tx } from './db.js';
import type { LeadsTable, OutboxTable, StageStaysTable, TasksTable } from './schema.js';

/**
 * Read-only queries for the command line (and later the API): lists, a lead's page, its run log,
 * the board. Nothing here writes; the engine is the only writer of lead data.
 */

export interface LeadRecord {
  id: string;
  name: string | null;
  processVersion: number;
  pipeline: string;
  stage: string;
  stageEnteredAt: number;
  status: LeadStatus;
  owner: string | null;
  fields: Fields;
  createdAt: number;
  closedAt: number | null;
  closeReason: string | null;
  error: string | null;
  updatedAt: number;
}

/** A lead row as the CLI and the engine's readers see it. */
export function leadRecord(r: LeadsTable): LeadRecord {
  return {
    id: r.id,
    name: r.name,
    processVersion: r.process_version,
    pipeline: r.pipeline,
    stage: r.stage,
    stageEnteredAt: r.stage_entered_at,
    status: r.status as LeadStatus,
    owner: r.owner,
    fields: JSON.parse(r.fields) as Fields,
    createdAt: r.created_at,
    closedAt: r.closed_at,
    closeReason: r.close_reason,
    error: r.error,
    updatedAt: r.updated_at,
  };
}

export async function findLead(db: Tx, id: string): Promise<LeadRecord | null> {
  const row = await db.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? leadRecord(row) : null;
}

/** Whether the database holds any lead (the demo fills only an empty one). */
export async function hasLeads(db: Tx): Promise<boolean> {
  return (await db.selectFrom('leads').select('id').limit(1).executeTakeFirst()) !== undefined;
}

/** A task as the engine knows it, with its lead and stage for listing. */
export type TaskRecord = TaskState & { lead: string; stage: string };

type TaskRow = TasksTable & Pick<StageStaysTable, 'stage'>;

function taskRecord(r: TaskRow): TaskRecord {
  return { ...taskFromRow(r), lead: r.lead_id, stage: r.stage };
}

function tasksWithStage(db: Tx) {
  return db
    .selectFrom('tasks')
    .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
    .selectAll('tasks')
    .select('stage_stays.stage');
}

export interface TaskFilter {
  lead?: string;
  assignee?: string;
  status?: TaskStatus;
  /** Only open tasks whose overdue time (due + the organisation's grace hours) is at or before this. */
  overdueAt?: number;
  /** Due in [dueFrom, dueTo). */
  dueFrom?: number;
  dueTo?: number;
  limit: number;
}

/** Earliest due first: the order a rep works through them. */
export async function listTasks(db: Tx, f: TaskFilter): Promise<TaskRecord[]> {
  let q = tasksWithStage(db);
  if (f.lead) q = q.where('tasks.lead_id', '=', f.lead);
  if (f.assignee) q = q.where('tasks.assignee', '=', f.assignee);
  if (f.status) q = q.where('tasks.status', '=', f.status);
  if (f.overdueAt !== undefined) q = q.where('tasks.status', '=', 'open').where('tasks.overdue_at', '<=', f.overdueAt);
  if (f.dueFrom !== undefined) q = q.where('tasks.due_at', '>=', f.dueFrom);
  if (f.dueTo !== undefined) q = q.where('tasks.due_at', '<', f.dueTo);
  const rows = await q.orderBy('tasks.due_at').orderBy('tasks.id').limit(f.limit).execute();
  return rows.map(taskRecord);
}

export async function findTask(db: Tx, id: string): Promise<TaskRecord | null> {
  const row = await tasksWithStage(db).where('tasks.id', '=', id).executeTakeFirst();
  return row ? taskRecord(row) : null;
}

export interface StayRecord {
  id: string;
  seq: number;
  pipeline: string;
  stage: string;
  processVersion: number;
  enteredAt: number;
  exitedAt: number | null;
  exit: string | null;
  via: string;
  stalledAt: number | null;
}

/** One page of a lead's history: rows after a keyset position, at most `limit` of them. */
export interface HistoryPage<K> {
  after?: K | undefined;
  limit: number;
}

/** A lead's stays in order (seq, then id); with `page`, only those after its position. */
export async function leadStays(
  db: Tx,
  lead: string,
  page?: HistoryPage<readonly [number, string]>,
): Promise<StayRecord[]> {
  let q = db.selectFrom('stage_stays').selectAll().where('lead_id', '=', lead);
  const after = page?.after;
  if (after !== undefined)
    q = q.where((eb) => eb.or([eb('seq', '>', after[0]), eb.and([eb('seq', '=', after[0]), eb('id', '>', after[1])])]));
  if (page) q = q.limit(page.limit);
  const rows = await q.orderBy('seq').orderBy('id').execute();
  return rows.map((s) => ({
    id: s.id,
    seq: s.seq,
    pipeline: s.pipeline,
    stage: s.stage,
    processVersion: s.process_version,
    enteredAt: s.entered_at,
    exitedAt: s.exited_at,
    exit: s.exit_kind,
    via: s.entered_via,
    stalledAt: s.stalled_at,
  }));
}

export interface RunLogEntry {
  kind: string;
  rule: string | null;
  message: string;
  inputs: Record<string, unknown> | null;
}

export interface RunLogEvent {
  seq: number;
  at: number;
  type: string;
  actor: Actor;
  payload: Record<string, unknown>;
  processVersion: number;
  entries: RunLogEntry[];
}

/**
 * Every event applied to a lead with what the rules did about it (the answer to "why is it here?"),
 * oldest first; with `page`, only the events after seq `after`, at most `limit`, and the run-log
 * entries of those alone (a busy lead's history is read a page at a time, not whole for each page).
 */
export async function leadRunLog(db: Tx, lead: string, page?: HistoryPage<number>): Promise<RunLogEvent[]> {
  let eq = db.selectFrom('events').selectAll().where('lead_id', '=', lead);
  if (page?.after !== undefined) eq = eq.where('seq', '>', page.after);
  if (page) eq = eq.limit(page.limit);
  const events = await eq.orderBy('seq').execute();
  const first = events[0]?.seq;
  const last = events.at(-1)?.seq;
  if (first === undefined || last === undefined) return [];
  const log = await db
    .selectFrom('run_log')
    .selectAll()
    .where('lead_id', '=', lead)
    .where('seq', '>=', first)
    .where('seq', '<=', last)
    .orderBy('seq')
    .orderBy('idx')
    .execute();
  const bySeq = new Map<number, RunLogEntry[]>();
  for (const l of log) {
    const list = bySeq.get(l.seq) ?? [];
    list.push({
      kind: l.kind,
      rule: l.rule,
      message: l.message,
      inputs: l.inputs === null ? null : (JSON.parse(l.inputs) as Record<string, unknown>),
    });
    bySeq.set(l.seq, list);
  }
  return events.map((e) => ({
    seq: e.seq,
    at: e.at,
    type: e.type,
    actor: JSON.parse(e.actor) as Actor,
    payload: JSON.parse(e.payload) as Record<string, unknown>,
    processVersion: e.process_version,
    entries: bySeq.get(e.seq) ?? [],
  }));
}

export interface OutboxRecord {
  id: string;
  lead: string;
  kind: string;
  status: string;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  lastError: string | null;
  /** When a worker last tried it (null: never tried). */
  lastAttemptAt: number | null;
  /** What the far side said when it took the row. */
  detail: string | null;
  payload: Record<string, unknown>;
  /**
   * The row's outbox series (1, 2, …): a lead created again under a deleted lead's id writes a new
   * series, so rows of an earlier one are the deleted lead's. Null for a list erasure.
   */
  series: number | null;
}

export interface OutboxFilter {
  status?: string;
  kind?: string;
  lead?: string;
  limit: number;
  /** Keyset position: rows after this (created at, id), the order the list is in. */
  after?: { createdAt: number; id: string } | undefined;
  /**
   * With `lead`: 'current' (the default) lists only the rows of the lead now under that id (its
   * current series); 'all' adds the rows of deleted leads that had the id before, and list
   * erasures. When no lead has the id now, its rows are all former leads' and all are listed.
   */
  series?: 'current' | 'all' | undefined;
}

export async function listOutbox(db: Tx, f: OutboxFilter): Promise<OutboxRecord[]> {
  let q = db.selectFrom('outbox').selectAll();
  if (f.status) q = q.where('status', '=', f.status);
  if (f.kind) q = q.where('kind', '=', f.kind);
  if (f.lead) q = q.where('lead_id', '=', f.lead);
  const after = f.after;
  if (after)
    q = q.where((eb) =>
      eb.or([
        eb('created_at', '>', after.createdAt),
        eb.and([eb('created_at', '=', after.createdAt), eb('id', '>', after.id)]),
      ]),
    );
  q = q.orderBy('created_at').orderBy('id');
  let rows: OutboxTable[];
  if (f.lead && f.series !== 'all') {
    // A series is told by the row id's shape, not by a column: one lead's rows are few enough to
    // filter here, and the limit applies to what is left.
    const lead = await db.selectFrom('leads').select(['id', 'state']).where('id', '=', f.lead).executeTakeFirst();
    rows = lead ? currentSeriesRows(lead, await q.execute()).slice(0, f.limit) : await q.limit(f.limit).execute();
  } else rows = await q.limit(f.limit).execute();
  return rows.map((o) => ({
    id: o.id,
    lead: o.lead_id,
    kind: o.kind,
    status: o.status,
    attempts: o.attempts,
    nextAttemptAt: o.next_attempt_at,
    createdAt: o.created_at,
    lastError: o.last_error,
    lastAttemptAt: o.last_attempt_at,
    detail: o.detail,
    payload: JSON.parse(o.payload) as Record<string, unknown>,
    series: rowSeries(o),
  }));
}

export interface ProcessVersionRecord {
  version: number;
  name: string;
  checksum: string;
  appliedAt: number;
  appliedBy: string | null;
  /** Leads whose current (or final) state follows this version. */
  leads: number;
}

export async function processHistory(db: Tx): Promise<ProcessVersionRecord[]> {
  const [versions, counts] = await Promise.all([
    db
      .selectFrom('process_versions')
      .select(['version', 'name', 'checksum', 'applied_at', 'applied_by'])
      .orderBy('version')
      .execute(),
    db
      .selectFrom('leads')
      .select(['process_version', (eb) => eb.fn.countAll<number | string>().as('n')])
      .groupBy('process_version')
      .execute(),
  ]);
  const byVersion = new Map(counts.map((c) => [c.process_version, Number(c.n)]));
  return versions.map((v) => ({
    version: v.version,
    name: v.name,
    checksum: v.checksum,
    appliedAt: v.applied_at,
    appliedBy: v.applied_by,
    leads: byVersion.get(v.version) ?? 0,
  }));
}

export interface BoardData {
  leads: {
    id: string;
    name: string | null;
    pipeline: string;
    stage: string;
    status: LeadStatus;
    owner: string | null;
  }[];
  openTasks: { lead: string; template: string; assignee: string | null; dueAt: number }[];
  outboxByKind: Record<string, number>;
}

/** Everything the live board shows; open tasks only, since closed ones are history. */
export async function boardData(db: Tx): Promise<BoardData> {
  const [leads, tasks, outbox] = await Promise.all([
    db
      .selectFrom('leads')
      .select(['id', 'name', 'pipeline', 'stage', 'status', 'owner'])
      .orderBy('stage_entered_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('tasks')
      .select(['lead_id', 'template', 'assignee', 'due_at'])
      .where('status', '=', 'open')
      .orderBy('due_at')
      .orderBy('id')
      .execute(),
    outboxCountsByKind(db),
  ]);
  return {
    leads: leads.map((l) => ({ ...l, status: l.status as LeadStatus })),
    openTasks: tasks.map((t) => ({ lead: t.lead_id, template: t.template, assignee: t.assignee, dueAt: t.due_at })),
    outboxByKind: outbox,
  };
}

/**
 * Undelivered outbox rows by kind: what is still waiting (pending, being sent, failed and due
 * again), given up on (dead) or kept for an admin (mail while SMTP is unset). Delivered rows are
 * history, and a cancelled effect (its contact erased, its lead deleted) will never happen.
 */
export async function outboxCountsByKind(db: Tx): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('outbox')
    .select(['kind', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('status', 'not in', ['sent', 'cancelled'])
    .groupBy('kind')
    .execute();
  return Object.fromEntries(rows.map((o) => [o.kind, Number(o.n)]));
}
