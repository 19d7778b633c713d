import type { Tx } from './db.js';
import { contactHash, pseudonymOf } from './personal-data.js';

/**
 * The installation's secret for contact hashes, made once by migration 0020 and kept in the
 * database. Every path that names an erased contact (suppression checks in the engine, the
 * import, the CLI and the API; erase; audit entries) goes through here, so they all agree.
 */

export const CONTACT_HASH_KEY = 'contact_hash_key';

export interface ContactKeys {
  /** The contact's keyed hash: the suppression list's key and audit target. */
  hash(email: string): string;
  /** What the contact's name becomes when erased. */
  pseudonym(email: string): string;
}

export async function contactKeys(tx: Tx): Promise<ContactKeys> {
  const row = await tx
    .selectFrom('installation_secrets')
    .select('value')
    .where('name', '=', CONTACT_HASH_KEY)
    .executeTakeFirst();
  if (!row) throw new Error(`installation secret ${CONTACT_HASH_KEY} is missing: the database was not migrated`);
  const secret = Buffer.from(row.value, 'base64url');
  return {
    hash: (email) => contactHash(secret, email),
    pseudonym: (email) => pseudonymOf(contactHash(secret, email)),
  };
}
