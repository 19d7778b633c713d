import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { subscriberHash } from './personal-data.js';
import type { OutboxTable } from './schema.js';

/**
 * A contact's messages when they are exported or erased: which rows of a lead are its current
 * contact's, which are cancelled, and the list erasures queued for them.
 */

export const LIST_ERASE = 'list.erase';
export const CANCELLED_ERASED = 'cancelled: contact erased';

export interface ListErasure {
  id: string;
  lead: string;
  list: string;
}

/** A permanent delete to queue, with the Mailchimp subscriber hash of the address that was used. */
export interface PlannedErasure {
  row: ListErasure;
  hash: string;
}

/**
 * The list erasure of one address on one lead and list: `erase:<lead>:<list>:<md5>`. The hash is
 * always in the key: two people can be erased from one lead id (a successor, a lead deleted and
 * created again under its id), and neither's erasure may take the other's place.
 */
export function addressErasure(lead: string, list: string, address: string): PlannedErasure {
  const hash = subscriberHash(address);
  return { row: { id: `erase:${lead}:${list}:${hash}`, lead, list }, hash };
}

/**
 * The outbox series of a row (domain/lead.ts `outboxKey`: `lead:seq:index:kind`, then `:N` from
 * the second series on), or null for a row of another shape (a list erasure).
 */
export function rowSeries(row: Pick<OutboxTable, 'id' | 'lead_id'>): number | null {
  if (!row.id.startsWith(`${row.lead_id}:`)) return null;
  const m = /^\d+:\d+:[a-z.]+(?::(\d+))?$/.exec(row.id.slice(row.lead_id.length + 1));
  if (!m) return null;
  return m[1] === undefined ? 1 : Number(m[1]);
}

/** The series a lead row's effects take now (its state's `outboxSeries`; 1 on rows from before series). */
export function leadSeries(state: string): number {
  const series = (JSON.parse(state) as { outboxSeries?: unknown }).outboxSeries;
  return typeof series === 'number' ? series : 1;
}

/**
 * The rows of a lead that are its own: those of its current series. Rows of an earlier series are
 * a deleted lead's whose id the lead took again: another person's, found by their own address
 * (contact.ts, deletedLeadMessages). A list erasure is an erased person's, never the lead's.
 */
export function currentSeriesRows<T extends Pick<OutboxTable, 'id' | 'lead_id'>>(
  lead: { id: string; state: string },
  rows: readonly T[],
): T[] {
  const series = leadSeries(lead.state);
  return rows.filter((r) => r.lead_id === lead.id && rowSeries(r) === series);
}

/**
 * Cancels the rows that may still be delivered: pending, failed and dead (an admin can replay a
 * dead one), kept (written to a file while SMTP was off, waiting to be sent), and `sending` rows
 * whose lease ran out (their worker died; the next would deliver them). A row under a live lease
 * is left to its worker, whose delivery checks the suppression list. Never a list erasure: that
 * is the erase's own work. The status test is in the statement, so a row delivered meanwhile
 * stays delivered.
 */
export async function cancelUndelivered(tx: Tx, rows: readonly string[], now: number): Promise<number> {
  let cancelled = 0;
  // In slices, far below either database's limit of bound parameters.
  for (let i = 0; i < rows.length; i += 500) {
    const r = await tx
      .updateTable('outbox')
      .set({ status: 'cancelled', last_error: CANCELLED_ERASED })
      .where('id', 'in', rows.slice(i, i + 500))
      .where(
        sql<SqlBool>`(status in ('pending', 'failed', 'dead', 'kept') or (status = 'sending' and next_attempt_at <= ${now}))`,
      )
      .where('kind', '!=', LIST_ERASE)
      .executeTakeFirst();
    cancelled += Number(r.numUpdatedRows);
  }
  return cancelled;
}
