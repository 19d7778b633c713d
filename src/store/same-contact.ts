import { sql } from 'kysely';
import type { Tx } from './db.js';

/**
 * The newest other open lead whose contact has this address (compared as contact lookups compare
 * it, ignoring case and surrounding spaces, through the `leads_contact_email` index), for routing a
 * new lead under `same_contact: owner`.
 */
export async function openLeadOfContact(
  tx: Tx,
  email: string,
  except: string,
): Promise<{ lead: string; owner: string | null } | null> {
  const row = await tx
    .selectFrom('leads')
    .select(['id', 'owner'])
    .where(sql<boolean>`lower(trim(email)) = ${email.trim().toLowerCase()}`)
    .where('status', '=', 'open')
    .where('id', '<>', except)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { lead: row.id, owner: row.owner } : null;
}
