import { sql, type RawBuilder } from 'kysely';
import type { Change, Effect, LogEntry } from '../domain/decide.js';
import type { Actor, EngineEvent } from '../domain/events.js';
import { activityId, type LeadState, type StayState, type TaskState } from '../domain/lead.js';
import { retractNotes, retractNotesSqlite, type NoteRetraction } from './activity-note-history.js';
import type { Tx } from './db.js';
import { prepared, runChangedUpdate, runRows, runUpdates, upsertTail, type Connection } from './sqlite-statements.js';
import { reachAfter, type LeadReach, type StayPlace } from './lead-reach.js';
import { leadRow, taskFromRow, taskRow, VersionConflict } from './leads.js';
import type {
  ActivitiesTable,
  EventsTable,
  FieldHistoryTable,
  LeadsTable,
  OutboxTable,
  OwnerHistoryTable,
  RunLogTable,
  StageStaysTable,
  TasksTable,
} from './schema.js';

/**
 * Collects the rows of one or many decisions and writes them with one multi-row statement per
 * table. Group commit is where the engine's speed comes from: a batch of events costs a dozen
 * statements instead of a dozen per event. Each row keeps only its last state (a lead touched by
 * three events in a batch is written once), and nothing is written until flush(), inside the
 * caller's transaction, so a refused or failed event leaves no trace.
 */

export interface DecisionRows {
  /** The lead's version when the batch loaded it; null for a lead this batch creates. */
  loadedVersion: number | null;
  /** The lead's row as the batch loaded it (null for a new lead): the UPDATE sets what differs. */
  loadedRow: Readonly<Partial<LeadsTable>> | null;
  lead: LeadState;
  changes: Change[];
  effects: Effect[];
  log: LogEntry[];
  event: EngineEvent;
  actor: Actor;
  /** When the event is recorded as happening: decide()'s time, never before the lead's last change. */
  now: number;
  /**
   * When the engine received it, if earlier than `now`: its effects are due then, not at a lead's
   * last change that lies ahead of the clock (a stay dated in the future must not hold a mail).
   */
  receivedAt?: number;
}

// Both databases take at least 32,766 parameters per statement.
const MAX_PARAMS = 30_000;

function stayRow(s: StayState, leadId: string): StageStaysTable {
  return {
    id: s.id,
    lead_id: leadId,
    seq: s.seq,
    pipeline: s.pipeline,
    stage: s.stage,
    stage_index: s.stageIndex,
    process_version: s.processVersion,
    entered_at: s.enteredAt,
    exited_at: null,
    exit_kind: null,
    entered_via: s.via,
    stall_at: s.stallAt,
    stalled_at: s.stalledAt,
    imported: 0,
  };
}

/** `col = excluded.col` for an upsert's update part. */
function fromExcluded(cols: readonly string[]): Record<string, RawBuilder<unknown>> {
  return Object.fromEntries(cols.map((c) => [c, sql`excluded.${sql.ref(c)}`]));
}

// A stay changes after insert only by being left or stalled; a task by its status and assignee,
// and one a person added also by its title, kind and due time (task.updated).
const STAY_UPDATES: readonly (keyof StageStaysTable)[] = ['exited_at', 'exit_kind', 'stalled_at'];
const STAY_KEYED_UPDATES = ['id', ...STAY_UPDATES] as const;
const TASK_UPDATES: readonly (keyof TasksTable)[] = [
  'title',
  'kind',
  'due_at',
  'overdue_at',
  'status',
  'assignee',
  'assignee_rule',
  'completed_at',
  'skipped_at',
  'skip_reason',
  'due_fired',
  'overdue_fired',
];
const TASK_KEYED_UPDATES = ['id', ...TASK_UPDATES] as const;

function pick<T extends object, K extends keyof T>(row: T, keys: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const k of keys) out[k] = row[k];
  return out;
}

function chunks<T extends object>(rows: readonly T[]): T[][] {
  if (rows.length === 0) return [];
  const per = Math.max(1, Math.floor(MAX_PARAMS / Object.keys(rows[0] as object).length));
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += per) out.push(rows.slice(i, i + per));
  return out;
}

/** A lead this batch writes: its last state, its next version, and its row as the batch loaded it. */
interface PendingLead {
  lead: LeadState;
  version: number;
  now: number;
  isNew: boolean;
  loadedRow: Readonly<Partial<LeadsTable>> | null;
}

export class DecisionWriter {
  /** The last state of each lead and its next version; the row is built once, at flush. */
  private readonly leads = new Map<string, PendingLead>();
  private readonly stays = new Map<string, StageStaysTable>();
  /** Stays entered in this batch: not in the database yet. */
  private readonly newStays = new Set<string>();
  /** Where each lead's stays of this batch are, in the order it entered them. */
  private readonly entered = new Map<string, StayPlace[]>();
  private readonly tasks = new Map<string, TasksTable>();
  private readonly events: EventsTable[] = [];
  private readonly runLog: RunLogTable[] = [];
  private readonly owners: OwnerHistoryTable[] = [];
  private readonly fields: FieldHistoryTable[] = [];
  /** Activities logged in this batch, by id, as the batch's last event left them. */
  private readonly activities = new Map<string, ActivitiesTable>();
  /** Notes corrected, and activities deleted, of activities logged before this batch. */
  private readonly activityNotes = new Map<string, string | null>();
  private readonly deletedActivities = new Set<string>();
  /** Activities whose earlier note texts leave the event log (corrected or deleted in this batch). */
  private readonly noteRetractions: NoteRetraction[] = [];
  private readonly outbox = new Map<string, OutboxTable>();

  /** A task written by an earlier event of this batch, as that event left it. */
  pendingTask(id: string): TaskState | null {
    const row = this.tasks.get(id);
    return row ? taskFromRow(row) : null;
  }

  /** An activity as this batch left it: its row if logged in it, 'deleted' if deleted in it. */
  pendingActivity(id: string): ActivitiesTable | 'deleted' | null {
    if (this.deletedActivities.has(id)) return 'deleted';
    return this.activities.get(id) ?? null;
  }

  add(d: DecisionRows): void {
    const { lead, now } = d;
    const seq = lead.seq;
    const id = lead.id;
    // The version is a concurrency token per write, not an event count (that is `seq`): one
    // batch moves a lead from the version it loaded to the next, however many events it applied.
    this.leads.set(id, {
      lead,
      version: (d.loadedVersion ?? 0) + 1,
      now,
      isNew: d.loadedVersion == null,
      // The row as loaded, not as an earlier event of this batch left it: that one is unwritten.
      loadedRow: this.leads.get(id)?.loadedRow ?? d.loadedRow,
    });

    let owner = 0;
    let field = 0;
    let activity = 0;
    for (const c of d.changes) {
      switch (c.kind) {
        case 'stay.entered': {
          this.stays.set(c.stay.id, stayRow(c.stay, id));
          this.newStays.add(c.stay.id);
          const places = this.entered.get(id) ?? [];
          places.push({ pipeline: c.stay.pipeline, stage_index: c.stay.stageIndex });
          this.entered.set(id, places);
          break;
        }
        case 'stay.exited': {
          const row = this.stays.get(c.stay.id) ?? stayRow(c.stay, id);
          this.stays.set(c.stay.id, { ...row, exited_at: c.exitedAt, exit_kind: c.exit });
          break;
        }
        case 'stay.stalled': {
          const row = this.stays.get(c.stay.id) ?? stayRow(c.stay, id);
          this.stays.set(c.stay.id, { ...row, stalled_at: c.stay.stalledAt });
          break;
        }
        case 'task.saved':
          this.tasks.set(c.task.id, taskRow(id, c.task));
          break;
        case 'owner.changed':
          this.owners.push({
            lead_id: id,
            seq,
            idx: owner++,
            at: now,
            from_owner: c.from,
            to_owner: c.to,
            reason: c.reason,
            rule: c.rule,
          });
          break;
        case 'field.changed':
          this.fields.push({
            lead_id: id,
            seq,
            idx: field++,
            at: now,
            field: c.field,
            old_value: c.from === null ? null : JSON.stringify(c.from),
            new_value: c.to === null ? null : JSON.stringify(c.to),
          });
          break;
        case 'activity.logged': {
          const idx = activity++;
          const key = activityId(id, lead.outboxSeries ?? 1, seq, idx);
          this.activities.set(key, {
            id: key,
            lead_id: id,
            seq,
            idx,
            at: c.at,
            stay_id: c.stayId,
            kind: c.activity,
            note: c.note,
            actor: d.actor.id ?? d.actor.kind,
          });
          break;
        }
        case 'activity.edited': {
          this.noteRetractions.push({ activity: c.id, lead: id, before: seq });
          const row = this.activities.get(c.id);
          if (row) row.note = c.note;
          else this.activityNotes.set(c.id, c.note);
          break;
        }
        case 'activity.deleted':
          this.noteRetractions.push({ activity: c.id, lead: id, before: seq });
          // One logged in this batch is never written; an older one is deleted at flush.
          if (!this.activities.delete(c.id)) {
            this.activityNotes.delete(c.id);
            this.deletedActivities.add(c.id);
          }
          break;
        case 'status.changed':
          break; // the lead row carries status, closed_at and close_reason
      }
    }
    this.events.push({
      lead_id: id,
      seq,
      type: d.event.type,
      at: now,
      actor: JSON.stringify(d.actor),
      payload: JSON.stringify(d.event),
      process_version: lead.processVersion,
    });
    d.log.forEach((l, idx) =>
      this.runLog.push({
        lead_id: id,
        seq,
        idx,
        at: now,
        kind: l.kind,
        rule: l.rule,
        message: l.message,
        inputs: l.inputs ? JSON.stringify(l.inputs) : null,
      }),
    );
    for (const e of d.effects)
      this.outbox.set(e.key, {
        id: e.key,
        lead_id: id,
        kind: e.kind,
        payload: JSON.stringify(e.payload),
        status: 'pending',
        attempts: 0,
        next_attempt_at: d.receivedAt ?? now,
        created_at: d.receivedAt ?? now,
        last_error: null,
        last_attempt_at: null,
        detail: null,
      });
  }

  /**
   * Writes everything collected, parents before children. Throws VersionConflict on a lost race.
   * With `sqlite` (the raw connection of the transaction `tx` runs on), one prepared statement per
   * row; otherwise one Kysely multi-row statement per table.
   */
  async flush(tx: Tx, sqlite?: Connection): Promise<void> {
    if (sqlite) this.flushSqlite(sqlite);
    else await this.flushKysely(tx);
  }

  private leadRows(which: (isNew: boolean) => boolean = () => true): LeadsTable[] {
    return [...this.leads.values()].filter((l) => which(l.isNew)).map((l) => this.leadRowOf(l));
  }

  /**
   * A lead's row, with how far it got: its reach as loaded, moved on by the stays this batch
   * entered.
   */
  private leadRowOf(l: PendingLead): LeadsTable {
    const entered = this.entered.get(l.lead.id) ?? [];
    const row = l.loadedRow;
    if (l.isNew) return leadRow(l.lead, l.version, l.now, reachAfter(l.lead.pipeline, null, entered));
    if (!row || row.pipeline === undefined) throw new Error(`lead ${l.lead.id} was loaded without its row`);
    const before: LeadReach & { pipeline: string } = {
      pipeline: row.pipeline,
      furthest_index: row.furthest_index ?? null,
      other_pipelines: row.other_pipelines ?? 0,
    };
    // updated_at never goes back, even for an event dated before the last one (handled as of then):
    // a client syncing by updated_since would otherwise miss the change.
    const updatedAt = Math.max(l.now, Number(row.updated_at ?? 0));
    return leadRow(l.lead, l.version, updatedAt, reachAfter(l.lead.pipeline, before, entered));
  }

  private flushSqlite(db: Connection): void {
    // New leads and stays get plain INSERTs: for a single-row insert SQLite skips scanning the
    // tables whose foreign keys point at the row (seven for a lead), for an upsert it does not,
    // which made a new lead's write 2.7 times dearer.
    const fresh = this.leadRows((isNew) => isNew);
    try {
      runRows(db, 'leads', fresh);
    } catch (e) {
      // The lead exists after all (a writer that did not load it first): a lost race, as below.
      if ((e as { code?: unknown }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw conflictIn(fresh);
      throw e;
    }
    // A loaded lead is updated over the version this batch loaded: a writer that lost a race
    // changes fewer rows than it has. An UPDATE, not an upsert, skips the insert attempt, and it
    // sets only the columns that differ from the row as loaded, so the indexes of the others
    // (owner, status, the reports' covering ones) are not rewritten by an event that left them.
    const loaded = [...this.leads.values()].filter((l) => !l.isNew);
    const rows = loaded.map((l) => this.leadRowOf(l));
    let written = 0;
    rows.forEach((row, i) => {
      written += runChangedUpdate(db, 'leads', 'id', row, loaded[i]?.loadedRow ?? null, '"version" = @version - 1');
    });
    if (written !== rows.length) throw conflictIn(rows);
    const stays = [...this.stays.values()];
    runRows(
      db,
      'stage_stays',
      stays.filter((s) => this.newStays.has(s.id)),
    );
    const older = stays.filter((s) => !this.newStays.has(s.id));
    const left = runUpdates(
      db,
      'stage_stays',
      'id',
      older.map((s) => pick(s, STAY_KEYED_UPDATES)),
    );
    // A lead whose current stay has no row (written by an older version) gets it now.
    if (left !== older.length) runRows(db, 'stage_stays', older, upsertTail('id', STAY_UPDATES));
    // A stay entered in this batch is new, and so are its tasks. A task of an older stay (done,
    // skipped, reopened or reassigned) exists: its changing columns are updated, which skips an
    // upsert's insert attempt; one without a row (written by an older version) is upserted.
    const tasks = [...this.tasks.values()];
    runRows(
      db,
      'tasks',
      tasks.filter((t) => this.newStays.has(t.stay_id)),
    );
    const known = tasks.filter((t) => !this.newStays.has(t.stay_id));
    const moved = runUpdates(
      db,
      'tasks',
      'id',
      known.map((t) => pick(t, TASK_KEYED_UPDATES)),
    );
    if (moved !== known.length) runRows(db, 'tasks', known, upsertTail('id', TASK_UPDATES));
    runRows(db, 'events', this.events);
    runRows(db, 'run_log', this.runLog);
    runRows(db, 'owner_history', this.owners);
    runRows(db, 'field_history', this.fields);
    runRows(db, 'activities', this.activities.values());
    runUpdates(
      db,
      'activities',
      'id',
      [...this.activityNotes].map(([id, note]) => ({ id, note })),
    );
    for (const id of this.deletedActivities) prepared(db, 'delete from "activities" where "id" = ?').run(id);
    retractNotesSqlite(db, this.noteRetractions);
    // No `on conflict do nothing`: keys are unique by construction (outboxKey), and a clash would
    // drop an effect without a word, as it once did for a lead re-created under a deleted one's id.
    runRows(db, 'outbox', this.outbox.values());
  }

  private async flushKysely(tx: Tx): Promise<void> {
    await this.writeLeads(tx);
    // Stays and tasks are inserted when new and updated when a later event changed them.
    for (const rows of chunks([...this.stays.values()]))
      await tx
        .insertInto('stage_stays')
        .values(rows)
        .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded(STAY_UPDATES)))
        .execute();
    for (const rows of chunks([...this.tasks.values()]))
      await tx
        .insertInto('tasks')
        .values(rows)
        .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded(TASK_UPDATES)))
        .execute();
    for (const rows of chunks(this.events)) await tx.insertInto('events').values(rows).execute();
    for (const rows of chunks(this.runLog)) await tx.insertInto('run_log').values(rows).execute();
    for (const rows of chunks(this.owners)) await tx.insertInto('owner_history').values(rows).execute();
    for (const rows of chunks(this.fields)) await tx.insertInto('field_history').values(rows).execute();
    for (const rows of chunks([...this.activities.values()])) await tx.insertInto('activities').values(rows).execute();
    for (const [id, note] of this.activityNotes)
      await tx.updateTable('activities').set({ note }).where('id', '=', id).execute();
    if (this.deletedActivities.size > 0)
      await tx
        .deleteFrom('activities')
        .where('id', 'in', [...this.deletedActivities])
        .execute();
    await retractNotes(tx, this.noteRetractions);
    // The outbox key is the effect's idempotency key, unique by construction (outboxKey); a clash
    // fails the batch rather than dropping an effect unseen.
    for (const rows of chunks([...this.outbox.values()])) await tx.insertInto('outbox').values(rows).execute();
  }

  /**
   * One upsert for all leads. The update applies only over the version this batch loaded, so a
   * writer that lost a race (or two batches creating one lead) updates fewer rows than it wrote,
   * and the batch is rolled back and retried.
   */
  private async writeLeads(tx: Tx): Promise<void> {
    const rows = this.leadRows();
    if (rows.length === 0) return;
    const cols = Object.keys(rows[0] as LeadsTable).filter((c) => c !== 'id');
    let written = 0;
    for (const part of chunks(rows)) {
      const res = await tx
        .insertInto('leads')
        .values(part)
        .onConflict((oc) =>
          oc
            .column('id')
            // Never SET the key: SQLite would re-check every foreign key that points at it.
            .doUpdateSet(fromExcluded(cols))
            .where(sql<boolean>`leads.version = excluded.version - 1`),
        )
        .executeTakeFirst();
      written += Number(res.numInsertedOrUpdatedRows ?? 0);
    }
    if (written !== rows.length) throw conflictIn(rows);
  }
}

/** The lead to name in a lost race: one this batch updated rather than created, if any. */
function conflictIn(rows: readonly LeadsTable[]): VersionConflict {
  return new VersionConflict(rows.find((r) => r.version > 1)?.id ?? rows[0]?.id ?? '');
}
