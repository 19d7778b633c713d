import type { LoggedActivity } from '../domain/decide.js';
import type { Tx } from './db.js';
import type { ActivitiesTable } from './schema.js';

/** Logged activities: one by its id (and its JSON), and a lead's in either order, a page at a time. */

export type ActivityRow = ActivitiesTable;

export async function findActivity(db: Tx, id: string): Promise<ActivityRow | null> {
  return (await db.selectFrom('activities').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

/**
 * An activity as the API and `stageflow activity show --json` give it: one shape for both, so
 * neither can drift (src/http/schemas/leads.ts activitySchema documents it).
 */
export function activityJson(a: ActivityRow) {
  return {
    id: a.id,
    lead: a.lead_id,
    kind: a.kind,
    note: a.note,
    at: new Date(a.at).toISOString(),
    actor: a.actor,
    stay: a.stay_id,
  };
}

/** What an edit or delete of the activity needs to know of it (decide's LoggedActivity). */
export function loggedActivity(row: ActivityRow): LoggedActivity {
  return { id: row.id, lead: row.lead_id, stayId: row.stay_id, kind: row.kind };
}

/**
 * A page of a lead's activities in the order they were logged (`asc`) or the reverse, after the
 * (seq, idx) key of the previous page's last row: the key is unique and never changes, so a page
 * boundary holds whatever is logged or deleted between two calls.
 */
export async function leadActivities(
  db: Tx,
  lead: string,
  order: 'asc' | 'desc',
  after: readonly [number, number] | undefined,
  limit: number,
): Promise<ActivityRow[]> {
  let q = db.selectFrom('activities').selectAll().where('lead_id', '=', lead);
  if (after) {
    const [seq, idx] = after;
    const past = order === 'asc' ? '>' : '<';
    q = q.where((eb) => eb.or([eb('seq', past, seq), eb.and([eb('seq', '=', seq), eb('idx', past, idx)])]));
  }
  return q.orderBy('seq', order).orderBy('idx', order).limit(limit).execute();
}
