import type { Tx } from './db.js';
import { emailHash } from './personal-data.js';

/**
 * The suppression list: hashes of addresses that automation must never write to again (erased
 * contacts). Only the SHA-256 of the trimmed, lowercased address is kept, so the list itself
 * holds no address, yet any address can be checked against it.
 */

export async function isSuppressed(tx: Tx, email: string): Promise<boolean> {
  const row = await tx
    .selectFrom('suppressions')
    .select('email_hash')
    .where('email_hash', '=', emailHash(email))
    .executeTakeFirst();
  return row !== undefined;
}

/** Adds a hash; suppressing an address twice keeps the first time and reason. */
export async function suppress(tx: Tx, hash: string, reason: string, at: number): Promise<void> {
  await tx
    .insertInto('suppressions')
    .values({ email_hash: hash, at, reason })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
}

/** Every suppressed hash, for a bulk check (an import); the list holds erased contacts only, so it stays small. */
export async function suppressedHashes(tx: Tx): Promise<Set<string>> {
  const rows = await tx.selectFrom('suppressions').select('email_hash').execute();
  return new Set(rows.map((r) => r.email_hash));
}

/** A check for decide(): loaded once per transaction; with nobody erased it costs nothing per address. */
export async function suppressionCheck(tx: Tx): Promise<(email: string) => boolean> {
  const hashes = await suppressedHashes(tx);
  return hashes.size === 0 ? () => false : (email) => hashes.has(emailHash(email));
}
