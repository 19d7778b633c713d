import { sql } from 'kysely';
import type { Tx } from './db.js';
import { FINAL_ANSWER } from './outbox-delivery.js';
import type { OutboxTable } from './schema.js';

/**
 * An admin's hand on the outbox: send a row again now, stop one for good, give dead rows another
 * round, or queue again the mail kept as files while SMTP_URL was unset. A row a worker holds
 * (status 'sending', lease not run out) is left alone: its delivery is under way and would
 * overwrite whatever was set here.
 */

/** Why an admin's action does not apply to a row: unknown, or in a state that rules it out. */
export type RowRefusal = { kind: 'unknown'; message: string } | { kind: 'state'; message: string };
export type AdminOutcome = { ok: true } | { ok: false; refusal: RowRefusal };

/** Rows not delivered: waiting, failing, dead, or kept as a file instead of sent (SMTP_URL unset). */
const UNDELIVERED = ['pending', 'failed', 'dead', 'kept'];

function refusalFor(row: OutboxTable | undefined, id: string, action: string, now: number): RowRefusal {
  if (!row) return { kind: 'unknown', message: `no outbox row "${id}"` };
  const at = (t: number | null) => (t === null ? 'an unknown time' : new Date(t).toISOString());
  switch (row.status) {
    case 'sending':
      return {
        kind: 'state',
        message: `outbox row "${id}" is being delivered now (lease until ${at(row.next_attempt_at)}); ${action} it after that, if it fails`,
      };
    case 'sent':
      return { kind: 'state', message: `outbox row "${id}" was already delivered at ${at(row.last_attempt_at)}` };
    case 'cancelled':
      return {
        kind: 'state',
        message: `outbox row "${id}" is cancelled (${row.last_error ?? 'no reason kept'}) and cannot be ${action === 'retry' ? 'retried' : 'cancelled again'}`,
      };
    default:
      return { kind: 'state', message: `outbox row "${id}" is ${row.status}; cannot ${action} it (now ${at(now)})` };
  }
}

/** A row a worker claimed and then lost (its lease ran out) counts as undelivered. */
function mayTouch(row: OutboxTable, now: number): boolean {
  return UNDELIVERED.includes(row.status) || (row.status === 'sending' && row.next_attempt_at <= now);
}

export async function retryOutboxRow(tx: Tx, id: string, now: number): Promise<AdminOutcome> {
  const row = await findOutboxRow(tx, id);
  if (!row || !mayTouch(row, now)) return { ok: false, refusal: refusalFor(row, id, 'retry', now) };
  const r = await tx
    .updateTable('outbox')
    .set({ status: 'pending', next_attempt_at: now, attempts: 0 })
    .where('id', '=', id)
    .where('status', '=', row.status)
    .where('next_attempt_at', '=', row.next_attempt_at)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) return { ok: true };
  return { ok: false, refusal: refusalFor(await findOutboxRow(tx, id), id, 'retry', now) };
}

/** Stops one queued, failing or dead row for good: it is never delivered; the reason says who. */
export async function cancelOutboxRow(tx: Tx, id: string, by: string, now: number): Promise<AdminOutcome> {
  const row = await findOutboxRow(tx, id);
  if (!row || !mayTouch(row, now)) return { ok: false, refusal: refusalFor(row, id, 'cancel', now) };
  const r = await tx
    .updateTable('outbox')
    .set({ status: 'cancelled', last_error: `cancelled by ${by} at ${new Date(now).toISOString()}` })
    .where('id', '=', id)
    .where('status', '=', row.status)
    .where('next_attempt_at', '=', row.next_attempt_at)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) return { ok: true };
  return { ok: false, refusal: refusalFor(await findOutboxRow(tx, id), id, 'cancel', now) };
}

/**
 * Every kept row (mail written to a file while SMTP_URL was unset) back to pending, for a worker
 * that has SMTP_URL now; a worker still without it keeps each as a file again. The detail naming
 * the file stays until the row is delivered, so the file can still be read (and erased) meanwhile.
 */
export async function retryKeptRows(tx: Tx, now: number, f: Omit<ReplayFilter, 'all'> = {}): Promise<number> {
  let q = tx.updateTable('outbox').set({ status: 'pending', next_attempt_at: now, attempts: 0 });
  q = q.where('status', '=', 'kept');
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.lead !== undefined) q = q.where('lead_id', '=', f.lead);
  return Number((await q.executeTakeFirst()).numUpdatedRows);
}

export interface ReplayFilter {
  kind?: string | undefined;
  lead?: string | undefined;
  /** Also the rows parked on a final answer (a bounced address, a compliance refusal). */
  all?: boolean | undefined;
}

/**
 * Dead rows back to pending. By default only those that may now succeed: rows that ran out of tries
 * (an outage) or that died of the configuration (their error says to fix something and replay);
 * rows parked on a final answer stay dead unless `all`. Answers how many were queued again and how
 * many final refusals matching the filter were left dead.
 */
export async function replayDeadRows(
  tx: Tx,
  now: number,
  f: ReplayFilter = {},
): Promise<{ replayed: number; skipped: number }> {
  let q = tx.updateTable('outbox').set({ status: 'pending', next_attempt_at: now, attempts: 0, detail: null });
  q = q.where('status', '=', 'dead');
  if (f.kind !== undefined) q = q.where('kind', '=', f.kind);
  if (f.lead !== undefined) q = q.where('lead_id', '=', f.lead);
  const refusal = sql<boolean>`(coalesce(detail, '') = ${FINAL_ANSWER} and coalesce(last_error, '') not like ${'%and replay%'})`;
  if (f.all !== true) q = q.where(sql<boolean>`not ${refusal}`);
  const r = await q.executeTakeFirst();
  let left = tx
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'dead');
  if (f.kind !== undefined) left = left.where('kind', '=', f.kind);
  if (f.lead !== undefined) left = left.where('lead_id', '=', f.lead);
  const skipped = f.all === true ? 0 : Number((await left.where(refusal).executeTakeFirst())?.n ?? 0);
  return { replayed: Number(r.numUpdatedRows), skipped };
}

export async function findOutboxRow(tx: Tx, id: string): Promise<OutboxTable | undefined> {
  return tx.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}
