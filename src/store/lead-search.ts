import { sql, type Expression, type SqlBool } from 'kysely';
import { jsonField, jsonFieldText, unicodeLower, type DialectName, type Tx } from './db.js';
import { nameKey } from '../domain/text-key.js';
import { searchPattern } from './lead-keys.js';
import { normaliseEmail } from './personal-data.js';
import type { LeadsTable } from './schema.js';

/**
 * Lead lists for the API: a filter on every reported field, a sort, and keyset (cursor)
 * pagination that stays correct while leads are written, plus the caller's reach (the owners
 * whose leads they may see) applied in SQL, so a page is never short because of filtering.
 */

export type LeadRow = LeadsTable & {
  company: string | null;
  phone: string | null;
  import_source: string | null;
  source_id: string | null;
} & LeadWorkTimes;

/** When work last happened on a lead and is next due: read with the lead (`WORK_TIME_COLUMNS`). */
export interface LeadWorkTimes {
  /** The latest activity logged on the lead, in any stage; null if none. */
  last_activity_at: number | null;
  /** The earliest due time of its open tasks; null if it has none. */
  next_task_due_at: number | null;
}

/**
 * The two work times of the lead row in `leads`, each one index seek per lead (activities_lead_at
 * and tasks_lead, migration 0030) rather than a column every writer would have to keep.
 */
const WORK_TIMES = {
  last_activity_at: sql<number | null>`(select max(a.at) from activities a where a.lead_id = leads.id)`,
  next_task_due_at: sql<
    number | null
  >`(select min(t.due_at) from tasks t where t.lead_id = leads.id and t.status = 'open')`,
} as const;

/** The work times as selections of a query from `leads`: `.select(WORK_TIME_COLUMNS)`. */
export const WORK_TIME_COLUMNS = [
  WORK_TIMES.last_activity_at.as('last_activity_at'),
  WORK_TIMES.next_task_due_at.as('next_task_due_at'),
] as const;

export const LEAD_SORTS = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  stage_entered_at: 'stage_entered_at',
  value: 'value_minor',
  expected_close: 'expected_close',
  closed_at: 'closed_at',
  last_activity_at: 'last_activity_at',
  next_task_due_at: 'next_task_due_at',
} as const;
export type LeadSort = keyof typeof LEAD_SORTS;

export interface FieldFilter {
  key: string;
  json: string;
  caseless: boolean;
}

export interface LeadSearch {
  status?: string | undefined;
  owner?: string | undefined;
  owners?: readonly string[] | undefined;
  pipeline?: string | undefined;
  stage?: string | undefined;
  source?: string | undefined;
  product?: string | undefined;
  territory?: string | undefined;
  email?: string | undefined;
  company?: string | undefined;
  /** Case-insensitive substring of name, email, company or the person's "first last" name. */
  q?: string | undefined;
  valueMin?: number | undefined;
  valueMax?: number | undefined;
  createdFrom?: number | undefined;
  createdTo?: number | undefined;
  closedFrom?: number | undefined;
  closedTo?: number | undefined;
  expectedCloseFrom?: number | undefined;
  expectedCloseTo?: number | undefined;
  /** The lead's last change (any event, stay, task or activity moves it), half-open like the others. */
  updatedFrom?: number | undefined;
  updatedTo?: number | undefined;
  /** Open leads whose current stay has stalled (true) or not (false): its stage's stall timer fired. */
  stalled?: boolean | undefined;
  /**
   * Lead fields equal to a value (`field.seats=40`): each as the JSON text the field would hold,
   * compared without regard to letter case when `caseless` (text, a select's legacy spellings).
   */
  fields?: readonly FieldFilter[] | undefined;
  /** The caller's reach: null for everyone's leads. */
  reach: readonly string[] | null;
  sort: LeadSort;
  order: 'asc' | 'desc';
  limit: number;
  after?: { value: number; id: string } | undefined;
}

/**
 * A lead without a value of the sort key (no expected close, no value) comes last whichever the
 * order, as Salesforce and HubSpot sort empty values, so "what closes soonest" starts with a date:
 * its key is the largest in ascending order and the smallest in descending. A number, not null, so
 * the keyset comparison has no gaps.
 */
export function nullKey(order: 'asc' | 'desc'): number {
  return order === 'asc' ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
}

export async function searchLeads(
  db: Tx,
  s: LeadSearch,
  dialect: DialectName,
): Promise<{ rows: LeadRow[]; next: { value: number; id: string } | null }> {
  const col = LEAD_SORTS[s.sort];
  const rows = (await leadSearchQuery(db, s, dialect).execute()) as LeadRow[];
  const page = rows.slice(0, s.limit);
  const last = page[page.length - 1];
  const next =
    rows.length > s.limit && last ? { value: (last[col] as number | null) ?? nullKey(s.order), id: last.id } : null;
  return { rows: page, next };
}

/**
 * The person's name as people type it, "first last": importers and forms keep it in the fields
 * first_name and last_name, while `name` is often the company or a deal's title. `q` finds it in
 * search_key (lead-keys.ts), where the writers put it folded; `q` is a substring match (a leading
 * %), which no B-tree index serves on either database: an index for it would be a trigram
 * (PostgreSQL) or FTS5 (SQLite) index on that column.
 */
export function personName(dialect: DialectName): Expression<string | null> {
  const first = jsonField(dialect, sql`fields`, 'first_name');
  const last = jsonField(dialect, sql`fields`, 'last_name');
  return sql<string>`trim(coalesce(${first}, '') || ' ' || coalesce(${last}, ''))`;
}

/** The query behind `searchLeads` (one row more than the page, to know that another follows); tests read its plan. */
export function leadSearchQuery(db: Tx, s: LeadSearch, dialect: DialectName) {
  const col = LEAD_SORTS[s.sort];
  const sorted = col === 'last_activity_at' || col === 'next_task_due_at' ? WORK_TIMES[col] : sql.ref(col);
  const key = sql<number>`coalesce(${sorted}, ${nullKey(s.order)})`;
  let q = db.selectFrom('leads').selectAll().select(WORK_TIME_COLUMNS);
  if (s.reach !== null) q = s.reach.length === 0 ? q.where(sql<SqlBool>`1 = 0`) : q.where('owner', 'in', s.reach);
  if (s.status) q = q.where('status', '=', s.status);
  if (s.owner) q = q.where('owner', '=', s.owner);
  if (s.owners) q = s.owners.length === 0 ? q.where(sql<SqlBool>`1 = 0`) : q.where('owner', 'in', s.owners);
  if (s.pipeline) q = q.where('pipeline', '=', s.pipeline);
  if (s.stage) q = q.where('stage', '=', s.stage);
  if (s.source) q = q.where('source', '=', s.source);
  if (s.product) q = q.where('product', '=', s.product);
  if (s.territory) q = q.where('territory', '=', s.territory);
  // Keys the writers folded (lead-keys.ts), compared with the filter folded alike: every letter's
  // case, on both databases, through leads_contact_email and leads_company_key.
  if (s.email) q = q.where('email_key', '=', normaliseEmail(s.email));
  // As accounts match companies ("Acme Corp" and "ACME CORP " are one account).
  if (s.company) q = q.where('company_key', '=', nameKey(s.company));
  const text = s.q?.trim();
  if (text) q = q.where(sql<SqlBool>`search_key like ${searchPattern(text)} escape '\\'`);
  for (const f of s.fields ?? []) {
    const held = jsonFieldText(dialect, sql`fields`, f.key);
    q = q.where(
      // Both sides folded by the database, so the two databases agree whatever the letters.
      f.caseless
        ? sql<SqlBool>`${unicodeLower(dialect, held)} = ${unicodeLower(dialect, sql`${f.json}`)}`
        : sql<SqlBool>`${held} = ${f.json}`,
    );
  }
  if (s.valueMin !== undefined) q = q.where('value_minor', '>=', s.valueMin);
  if (s.valueMax !== undefined) q = q.where('value_minor', '<=', s.valueMax);
  if (s.createdFrom !== undefined) q = q.where('created_at', '>=', s.createdFrom);
  if (s.createdTo !== undefined) q = q.where('created_at', '<', s.createdTo);
  if (s.closedFrom !== undefined) q = q.where('closed_at', '>=', s.closedFrom);
  if (s.closedTo !== undefined) q = q.where('closed_at', '<', s.closedTo);
  if (s.expectedCloseFrom !== undefined) q = q.where('expected_close', '>=', s.expectedCloseFrom);
  if (s.expectedCloseTo !== undefined) q = q.where('expected_close', '<', s.expectedCloseTo);
  if (s.updatedFrom !== undefined) q = q.where('updated_at', '>=', s.updatedFrom);
  if (s.updatedTo !== undefined) q = q.where('updated_at', '<', s.updatedTo);
  if (s.stalled !== undefined) {
    // The stay the lead is in (stay_id) marked stalled when its stage's stall_after ran out.
    const stalled = sql<SqlBool>`exists (select 1 from stage_stays ss where ss.id = leads.stay_id and ss.stalled_at is not null)`;
    q = q.where('status', '=', 'open').where(s.stalled ? stalled : sql<SqlBool>`not ${stalled}`);
  }
  if (s.after) {
    const { value, id } = s.after;
    q =
      s.order === 'asc'
        ? q.where(sql<SqlBool>`(${key} > ${value} or (${key} = ${value} and id > ${id}))`)
        : q.where(sql<SqlBool>`(${key} < ${value} or (${key} = ${value} and id < ${id}))`);
  }
  return q
    .orderBy(key, s.order)
    .orderBy('id', s.order)
    .limit(s.limit + 1);
}

export async function findLeadRow(db: Tx, id: string): Promise<LeadRow | null> {
  return (
    ((await db.selectFrom('leads').selectAll().select(WORK_TIME_COLUMNS).where('id', '=', id).executeTakeFirst()) as
      LeadRow | undefined) ?? null
  );
}

/** Open leads whose contact has this address: inbound product signals find their leads this way. */
export async function openLeadsByEmail(db: Tx, email: string): Promise<LeadRow[]> {
  return (await db
    .selectFrom('leads')
    .selectAll()
    .select(WORK_TIME_COLUMNS)
    .where('email_key', '=', normaliseEmail(email))
    .where('status', '=', 'open')
    .orderBy('created_at')
    .execute()) as LeadRow[];
}
