import type { Change, Effect, LogEntry } from '../domain/decide.js';
import type { Fields, FieldValue } from '../domain/conditions.js';
import type { Actor, EngineEvent } from '../domain/events.js';
import type { LeadState, StayState, TaskState } from '../domain/lead.js';
import type { Tx } from './db.js';
import type { LeadsTable, TasksTable } from './schema.js';

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
}

export class VersionConflict extends Error {
  constructor(readonly leadId: string) {
    super(`lead ${leadId} was changed by another writer`);
  }
}

/**
 * `lock` takes the row lock on PostgreSQL (SELECT … FOR UPDATE) so that writers of one lead queue
 * instead of failing their version check; SQLite's BEGIN IMMEDIATE already serialises writers.
 */
export async function loadLead(
  tx: Tx,
  id: string,
  lock = false,
): Promise<{ state: LeadState; version: number } | null> {
  const query = tx.selectFrom('leads').selectAll().where('id', '=', id);
  const row = await (lock ? query.forUpdate() : query).executeTakeFirst();
  if (!row) return null;
  const book = JSON.parse(row.state) as LeadBookkeeping;
  return {
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
      seq: row.seq,
      error: row.error,
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
  };
}

function taskRow(leadId: string, t: TaskState): TasksTable {
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
  };
}

function isUniqueViolation(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
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

/** The lead row: engine state plus the reported fields copied into typed columns. */
function leadRow(s: LeadState, version: number, now: number): LeadsTable {
  const book: LeadBookkeeping = { stay: s.stay, tasks: s.tasks, signals: s.signals, lists: s.lists };
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
    name: text(s.fields['name']),
    email: text(s.fields['email']),
    value_minor: minorUnits(s.fields['value']),
    source: text(s.fields['source']),
    product: text(s.fields['product']),
    territory: text(s.fields['territory']),
    expected_close: epochOf(s.fields['expected_close']),
    created_at: s.createdAt,
    closed_at: s.closedAt,
    close_reason: s.closeReason,
    fields: JSON.stringify(s.fields),
    state: JSON.stringify(book),
    seq: s.seq,
    version,
    error: s.error,
    updated_at: now,
  };
}

export interface DecisionRows {
  before: { state: LeadState; version: number } | null;
  lead: LeadState;
  changes: Change[];
  effects: Effect[];
  log: LogEntry[];
  event: EngineEvent;
  actor: Actor;
  now: number;
}

/** Writes everything one decision produced. Throws VersionConflict if the lead moved on meanwhile. */
export async function saveDecision(tx: Tx, d: DecisionRows): Promise<number> {
  const { lead, now } = d;
  const seq = lead.seq;
  const version = (d.before?.version ?? 0) + 1;
  const row = leadRow(lead, version, now);
  if (!d.before) {
    try {
      await tx.insertInto('leads').values(row).execute();
    } catch (e) {
      // Another writer created the same lead first: decide again, and the retry says it exists.
      if (isUniqueViolation(e)) throw new VersionConflict(lead.id);
      throw e;
    }
  } else {
    // Never SET the key: SQLite would re-check every foreign key that points at it.
    const { id, ...changed } = row;
    const res = await tx
      .updateTable('leads')
      .set(changed)
      .where('id', '=', lead.id)
      .where('version', '=', d.before.version)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) throw new VersionConflict(lead.id);
  }

  const entered = d.changes.flatMap((c) => (c.kind === 'stay.entered' ? [c] : []));
  const exits = new Map(d.changes.flatMap((c) => (c.kind === 'stay.exited' ? [[c.stayId, c] as const] : [])));
  for (const c of d.changes) {
    if (c.kind === 'stay.exited' && !entered.some((e) => e.stay.id === c.stayId))
      await tx
        .updateTable('stage_stays')
        .set({ exited_at: c.exitedAt, exit_kind: c.exit })
        .where('id', '=', c.stayId)
        .execute();
    if (c.kind === 'stay.stalled')
      await tx.updateTable('stage_stays').set({ stalled_at: c.at }).where('id', '=', c.stayId).execute();
  }
  // A stay entered and left within one event (a goal chain) is written with its exit.
  if (entered.length > 0)
    await tx
      .insertInto('stage_stays')
      .values(
        entered.map(({ stay, via }) => ({
          id: stay.id,
          lead_id: lead.id,
          seq: stay.seq,
          pipeline: stay.pipeline,
          stage: stay.stage,
          stage_index: stay.stageIndex,
          process_version: lead.processVersion,
          entered_at: stay.enteredAt,
          exited_at: exits.get(stay.id)?.exitedAt ?? null,
          exit_kind: exits.get(stay.id)?.exit ?? null,
          entered_via: via,
          stall_at: stay.stallAt,
          stalled_at: null,
          imported: 0,
        })),
      )
      .execute();

  const tasks = d.changes.flatMap((c) => (c.kind === 'task.saved' ? [taskRow(lead.id, c.task)] : []));
  if (tasks.length > 0)
    await tx
      .insertInto('tasks')
      .values(tasks)
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          assignee: eb.ref('excluded.assignee'),
          completed_at: eb.ref('excluded.completed_at'),
          skipped_at: eb.ref('excluded.skipped_at'),
          skip_reason: eb.ref('excluded.skip_reason'),
          due_fired: eb.ref('excluded.due_fired'),
          overdue_fired: eb.ref('excluded.overdue_fired'),
        })),
      )
      .execute();

  await tx
    .insertInto('events')
    .values({
      lead_id: lead.id,
      seq,
      type: d.event.type,
      at: now,
      actor: JSON.stringify(d.actor),
      payload: JSON.stringify(d.event),
      process_version: lead.processVersion,
    })
    .execute();

  const owners = d.changes.flatMap((c) => (c.kind === 'owner.changed' ? [c] : []));
  if (owners.length > 0)
    await tx
      .insertInto('owner_history')
      .values(
        owners.map((c, idx) => ({
          lead_id: lead.id,
          seq,
          idx,
          at: now,
          from_owner: c.from,
          to_owner: c.to,
          reason: c.reason,
          rule: c.rule,
        })),
      )
      .execute();
  const fields = d.changes.flatMap((c) => (c.kind === 'field.changed' ? [c] : []));
  if (fields.length > 0)
    await tx
      .insertInto('field_history')
      .values(
        fields.map((c, idx) => ({
          lead_id: lead.id,
          seq,
          idx,
          at: now,
          field: c.field,
          old_value: c.from === null ? null : JSON.stringify(c.from),
          new_value: c.to === null ? null : JSON.stringify(c.to),
        })),
      )
      .execute();
  const activities = d.changes.flatMap((c) => (c.kind === 'activity.logged' ? [c] : []));
  if (activities.length > 0)
    await tx
      .insertInto('activities')
      .values(
        activities.map((c, idx) => ({
          lead_id: lead.id,
          seq,
          idx,
          at: now,
          stay_id: c.stayId,
          kind: c.activity,
          note: c.note,
          actor: d.actor.id ?? d.actor.kind,
        })),
      )
      .execute();
  if (d.log.length > 0)
    await tx
      .insertInto('run_log')
      .values(
        d.log.map((l, idx) => ({
          lead_id: lead.id,
          seq,
          idx,
          at: now,
          kind: l.kind,
          rule: l.rule,
          message: l.message,
          inputs: l.inputs ? JSON.stringify(l.inputs) : null,
        })),
      )
      .execute();
  if (d.effects.length > 0)
    await tx
      .insertInto('outbox')
      .values(
        d.effects.map((e) => ({
          id: e.key,
          lead_id: lead.id,
          kind: e.kind,
          payload: JSON.stringify(e.payload),
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
          last_error: null,
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  return version;
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
