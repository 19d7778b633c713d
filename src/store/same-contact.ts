import type { Tx } from './db.js';
import { normaliseEmail } from './personal-data.js';

/** How many of a contact's open leads routing looks at: plenty for one person, bounded for a shared inbox. */
const MAX_LEADS = 20;

/**
 * The other open leads whose contact has this address, newest first (compared as contact lookups
 * compare it, ignoring case and surrounding spaces: its email_key, through `leads_contact_email`), for
 * routing a new lead under `same_contact: owner`.
 */
export async function openLeadsOfContact(
  tx: Tx,
  email: string,
  except: string,
): Promise<{ lead: string; owner: string | null; createdAt: number }[]> {
  const rows = await tx
    .selectFrom('leads')
    .select(['id', 'owner', 'created_at'])
    .where('email_key', '=', normaliseEmail(email))
    .where('status', '=', 'open')
    .where('id', '<>', except)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(MAX_LEADS)
    .execute();
  return rows.map((r) => ({ lead: r.id, owner: r.owner, createdAt: Number(r.created_at) }));
}
