import type { Tx } from './db.js';
import { prepared, type Connection } from './sqlite-statements.js';

/**
 * A corrected or deleted activity note leaves the event log too. The note was written into the
 * payload of the event that logged it (and of each correction since); the timeline shows payloads
 * to everyone who works the lead, so a note deleted because it was logged on the wrong lead, about
 * another customer, would stay readable there. The events keep who did what and when; only the
 * earlier texts go.
 */

/** An activity whose earlier note texts go: its id, its lead, and the event that changed it. */
export interface NoteRetraction {
  activity: string;
  lead: string;
  /** The seq of the correcting or deleting event: it and later events are left as they are. */
  before: number;
}

interface EventRow {
  seq: number;
  type: string;
  payload: string;
}

/** The seq of the event that logged an activity, from its id (`lead:seq.idx`, then `.N`). */
function loggedSeq(activity: string): number | null {
  const m = /:(\d+)\.\d+(?:\.\d+)?$/.exec(activity);
  return m ? Number(m[1]) : null;
}

/** The payload without the note when it carries one of this activity's earlier texts, else null. */
function withoutNote(row: EventRow, r: NoteRetraction, logged: number): string | null {
  const payload = JSON.parse(row.payload) as Record<string, unknown>;
  if (typeof payload['note'] !== 'string' || payload['note'] === '') return null;
  if (row.type === 'activity.logged' && row.seq === logged) {
    delete payload['note'];
    return JSON.stringify(payload);
  }
  // A correction's note is required by its schema: the empty note, which reads as "cleared".
  if (row.type === 'activity.updated' && payload['activity'] === r.activity)
    return JSON.stringify({ ...payload, note: '' });
  return null;
}

const SELECT = `select "seq", "type", "payload" from "events" where "lead_id" = ? and "seq" < ?
  and (("type" = 'activity.logged' and "seq" = ?) or "type" = 'activity.updated')`;

export function retractNotesSqlite(db: Connection, retractions: Iterable<NoteRetraction>): void {
  for (const r of retractions) {
    const logged = loggedSeq(r.activity);
    if (logged === null) continue;
    const rows = prepared(db, SELECT).all(r.lead, r.before, logged) as EventRow[];
    for (const row of rows) {
      const payload = withoutNote(row, r, logged);
      if (payload !== null)
        prepared(db, 'update "events" set "payload" = ? where "lead_id" = ? and "seq" = ?').run(
          payload,
          r.lead,
          row.seq,
        );
    }
  }
}

export async function retractNotes(tx: Tx, retractions: Iterable<NoteRetraction>): Promise<void> {
  for (const r of retractions) {
    const logged = loggedSeq(r.activity);
    if (logged === null) continue;
    const rows = await tx
      .selectFrom('events')
      .select(['seq', 'type', 'payload'])
      .where('lead_id', '=', r.lead)
      .where('seq', '<', r.before)
      .where((eb) =>
        eb.or([
          eb.and([eb('type', '=', 'activity.logged'), eb('seq', '=', logged)]),
          eb('type', '=', 'activity.updated'),
        ]),
      )
      .execute();
    for (const row of rows) {
      const payload = withoutNote(row, r, logged);
      if (payload !== null)
        await tx
          .updateTable('events')
          .set({ payload })
          .where('lead_id', '=', r.lead)
          .where('seq', '=', row.seq)
          .execute();
    }
  }
}
