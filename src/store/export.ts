import { presentCloseDate } from '../domain/close-date.js';
import { appendAudit } from './audit.js';
import type { Tx } from './db.js';
import type { Selectable } from 'kysely';
import type { ActivitiesTable, Database, StageStaysTable, TasksTable } from './schema.js';

/**
 * Bulk export of the tables reports are built from: leads, stage stays, tasks and activities.
 * Rows are read in pages ordered by primary key and resumed from the last key seen (keyset
 * pagination), so memory stays flat however large the table, and no page is skipped or read twice
 * when rows are added meanwhile. Each row is presented for people and tools alike: ISO times,
 * money in major units, JSON objects rather than JSON text, next to the raw columns reports use.
 */

export const EXPORT_KINDS = ['leads', 'stays', 'tasks', 'activities'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

/** A presented value: what JSON lines carry as is and CSV writes as text. */
export type ExportValue = string | number | boolean | null | Record<string, unknown> | unknown[];
export type ExportRow = Record<string, ExportValue>;

/**
 * Filters choose leads; the stays, tasks and activities exports carry the rows of those leads.
 * `updatedSince` compares with the lead's last change (epoch ms), which every new stay, task or
 * activity of the lead also moves, so an incremental export catches them.
 */
export interface ExportFilter {
  pipeline?: string;
  status?: string;
  updatedSince?: number;
}

export const DEFAULT_PAGE_SIZE = 2000;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const major = (minor: number | null): number | null => (minor === null ? null : minor / 100);

function parseJson(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}

/** Column order of each export: the CSV header and the key order of a JSON line. */
export const EXPORT_COLUMNS: Record<ExportKind, readonly string[]> = {
  leads: [
    'id',
    'name',
    'email',
    'phone',
    'company',
    'pipeline',
    'stage',
    'stage_index',
    'stage_entered_at',
    'status',
    'owner',
    'value',
    'value_minor',
    'source',
    'product',
    'territory',
    'expected_close',
    'created_at',
    'closed_at',
    'close_reason',
    'process_version',
    'import_source',
    'source_id',
    'updated_at',
    'fields',
  ],
  stays: [
    'id',
    'lead_id',
    'seq',
    'pipeline',
    'stage',
    'stage_index',
    'process_version',
    'entered_at',
    'exited_at',
    'duration_ms',
    'exit_kind',
    'entered_via',
    'stall_at',
    'stalled_at',
    'imported',
  ],
  tasks: [
    'id',
    'lead_id',
    'stay_id',
    'stage',
    'template',
    'title',
    'kind',
    'status',
    'assignee_rule',
    'assignee',
    'created_at',
    'due_at',
    'overdue_at',
    'completed_at',
    'skipped_at',
    'skip_reason',
    'ad_hoc',
    'note',
  ],
  activities: ['id', 'lead_id', 'seq', 'idx', 'stay_id', 'stage', 'kind', 'note', 'at', 'actor'],
};

/** A lead row as selected, import columns included. */
export type LeadRow = Selectable<Database['leads']>;

export function presentLead(r: LeadRow): ExportRow {
  const fields = parseJson(r.fields);
  return {
    id: r.id,
    name: r.name,
    email: r.email,
    phone: r.phone,
    company: r.company,
    pipeline: r.pipeline,
    stage: r.stage,
    stage_index: r.stage_index,
    stage_entered_at: iso(r.stage_entered_at),
    status: r.status,
    owner: r.owner,
    value: major(r.value_minor),
    value_minor: r.value_minor,
    source: r.source,
    product: r.product,
    territory: r.territory,
    // A calendar day: the instant with the organisation's offset, so it reads as that day there.
    expected_close: presentCloseDate(r.expected_close, fields['expected_close']),
    created_at: iso(r.created_at),
    closed_at: iso(r.closed_at),
    close_reason: r.close_reason,
    process_version: r.process_version,
    import_source: r.import_source,
    source_id: r.source_id,
    updated_at: iso(r.updated_at),
    fields,
  };
}

export function presentStay(r: StageStaysTable): ExportRow {
  return {
    id: r.id,
    lead_id: r.lead_id,
    seq: r.seq,
    pipeline: r.pipeline,
    stage: r.stage,
    stage_index: r.stage_index,
    process_version: r.process_version,
    entered_at: iso(r.entered_at),
    exited_at: iso(r.exited_at),
    // The figure cycle-time reports sum; an open stay has none yet.
    duration_ms: r.exited_at === null ? null : r.exited_at - r.entered_at,
    exit_kind: r.exit_kind,
    entered_via: r.entered_via,
    stall_at: iso(r.stall_at),
    stalled_at: iso(r.stalled_at),
    imported: r.imported === 1,
  };
}

export function presentTask(r: TasksTable & { stage: string }): ExportRow {
  return {
    id: r.id,
    lead_id: r.lead_id,
    stay_id: r.stay_id,
    stage: r.stage,
    template: r.template,
    title: r.title,
    kind: r.kind,
    status: r.status,
    assignee_rule: r.assignee_rule,
    assignee: r.assignee,
    created_at: iso(r.created_at),
    due_at: iso(r.due_at),
    overdue_at: iso(r.overdue_at),
    completed_at: iso(r.completed_at),
    skipped_at: iso(r.skipped_at),
    skip_reason: r.skip_reason,
    // A task a person added (POST /leads/{id}/tasks), not the stage's: adoption leaves it out.
    ad_hoc: r.ad_hoc === 1,
    note: r.note,
  };
}

export function presentActivity(r: ActivitiesTable & { stage: string | null }): ExportRow {
  return {
    id: r.id,
    lead_id: r.lead_id,
    seq: r.seq,
    idx: r.idx,
    stay_id: r.stay_id,
    stage: r.stage,
    kind: r.kind,
    note: r.note,
    at: iso(r.at),
    actor: r.actor,
  };
}

/** The ids of the leads the filter chooses, as a subquery for the child tables. */
function chosenLeads(db: Tx, f: ExportFilter) {
  let q = db.selectFrom('leads').select('leads.id');
  if (f.pipeline !== undefined) q = q.where('leads.pipeline', '=', f.pipeline);
  if (f.status !== undefined) q = q.where('leads.status', '=', f.status);
  if (f.updatedSince !== undefined) q = q.where('leads.updated_at', '>=', f.updatedSince);
  return q;
}

const filtered = (f: ExportFilter): boolean =>
  f.pipeline !== undefined || f.status !== undefined || f.updatedSince !== undefined;

async function* leadPages(db: Tx, f: ExportFilter, size: number): AsyncGenerator<ExportRow[]> {
  let after: string | null = null;
  for (;;) {
    let q = db.selectFrom('leads').selectAll();
    if (f.pipeline !== undefined) q = q.where('pipeline', '=', f.pipeline);
    if (f.status !== undefined) q = q.where('status', '=', f.status);
    if (f.updatedSince !== undefined) q = q.where('updated_at', '>=', f.updatedSince);
    if (after !== null) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(size).execute();
    if (rows.length === 0) return;
    yield rows.map(presentLead);
    after = rows[rows.length - 1]!.id;
    if (rows.length < size) return;
  }
}

async function* stayPages(db: Tx, f: ExportFilter, size: number): AsyncGenerator<ExportRow[]> {
  let after: string | null = null;
  for (;;) {
    let q = db.selectFrom('stage_stays').selectAll();
    if (filtered(f)) q = q.where('lead_id', 'in', chosenLeads(db, f));
    if (after !== null) q = q.where('id', '>', after);
    const rows = await q.orderBy('id').limit(size).execute();
    if (rows.length === 0) return;
    yield rows.map(presentStay);
    after = rows[rows.length - 1]!.id;
    if (rows.length < size) return;
  }
}

async function* taskPages(db: Tx, f: ExportFilter, size: number): AsyncGenerator<ExportRow[]> {
  let after: string | null = null;
  for (;;) {
    let q = db
      .selectFrom('tasks')
      .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
      .selectAll('tasks')
      .select('stage_stays.stage');
    if (filtered(f)) q = q.where('tasks.lead_id', 'in', chosenLeads(db, f));
    if (after !== null) q = q.where('tasks.id', '>', after);
    const rows = await q.orderBy('tasks.id').limit(size).execute();
    if (rows.length === 0) return;
    yield rows.map(presentTask);
    after = rows[rows.length - 1]!.id;
    if (rows.length < size) return;
  }
}

async function* activityPages(db: Tx, f: ExportFilter, size: number): AsyncGenerator<ExportRow[]> {
  // The key is (lead_id, seq, idx); a row-value comparison resumes after the last one on both databases.
  let after: { lead: string; seq: number; idx: number } | null = null;
  for (;;) {
    let q = db
      .selectFrom('activities')
      .leftJoin('stage_stays', 'stage_stays.id', 'activities.stay_id')
      .selectAll('activities')
      .select('stage_stays.stage');
    if (filtered(f)) q = q.where('activities.lead_id', 'in', chosenLeads(db, f));
    if (after !== null) {
      const { lead, seq, idx } = after;
      q = q.where((eb) =>
        eb(eb.refTuple('activities.lead_id', 'activities.seq', 'activities.idx'), '>', eb.tuple(lead, seq, idx)),
      );
    }
    const rows = await q
      .orderBy('activities.lead_id')
      .orderBy('activities.seq')
      .orderBy('activities.idx')
      .limit(size)
      .execute();
    if (rows.length === 0) return;
    yield rows.map(presentActivity);
    const last = rows[rows.length - 1]!;
    after = { lead: last.lead_id, seq: last.seq, idx: last.idx };
    if (rows.length < size) return;
  }
}

/**
 * Every row of one export, one at a time. Each page is its own short query, so neither database
 * holds a long transaction open (on SQLite that would block the engine); an export taken while
 * the engine runs is therefore not one point-in-time snapshot, but every row is read once.
 */
export async function* exportRows(
  db: Tx,
  kind: ExportKind,
  filter: ExportFilter = {},
  pageSize = DEFAULT_PAGE_SIZE,
): AsyncGenerator<ExportRow> {
  const pages = {
    leads: leadPages,
    stays: stayPages,
    tasks: taskPages,
    activities: activityPages,
  }[kind](db, filter, pageSize);
  for await (const page of pages) yield* page;
}

/** The audit entry of a bulk export: what was exported and how much, never a row's content. */
export async function auditExport(
  db: Tx,
  entry: { actor: string; kind: ExportKind; format: string; rows: number; filter: ExportFilter; complete: boolean },
  at: number,
): Promise<void> {
  const { actor, kind, format, rows, filter, complete } = entry;
  const details: Record<string, unknown> = { what: kind, format, rows, complete };
  if (filtered(filter)) details['filter'] = { ...filter };
  await appendAudit(db, { actor, action: 'export', target: kind, details }, at);
}
