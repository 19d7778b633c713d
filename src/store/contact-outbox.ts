import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { subscriberHash } from './personal-data.js';

/** A contact's messages when they are erased: which are cancelled, and the list erasures queued for them. */

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
 * One list erasure for an address that is not the lead's current one (an earlier address of the
 * contact, or the contact's address on a lead that is now someone else's or deleted): its own row
 * `erase:<lead>:<list>:<md5>`, so the short key stays free for the lead's current contact.
 */
export function otherAddressErasure(lead: string, list: string, address: string): PlannedErasure {
  const hash = subscriberHash(address);
  const id = `erase:${lead}:${list}:${hash}`;
  return { row: { id, lead, list }, hash };
}

/**
 * Cancels the rows that may still be delivered: pending, failed and dead (an admin can replay a
 * dead one), and `sending` rows whose lease ran out (their worker died; the next would deliver
 * them). A row under a live lease is left to its worker, whose delivery checks the suppression
 * list. Never a list erasure: that is the erase's own work. The status test is in the statement,
 * so a row delivered meanwhile stays delivered.
 */
export async function cancelUndelivered(
  tx: Tx,
  where: { leads: readonly string[] } | { rows: readonly string[] },
  now: number,
): Promise<number> {
  const ids = 'leads' in where ? where.leads : where.rows;
  if (ids.length === 0) return 0;
  const r = await tx
    .updateTable('outbox')
    .set({ status: 'cancelled', last_error: CANCELLED_ERASED })
    .where('leads' in where ? 'lead_id' : 'id', 'in', ids)
    .where(
      sql<SqlBool>`(status in ('pending', 'failed', 'dead') or (status = 'sending' and next_attempt_at <= ${now}))`,
    )
    .where('kind', '!=', LIST_ERASE)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}
