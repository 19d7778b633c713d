import { contactKeys } from './contact-keys.js';
import type { Tx } from './db.js';

/**
 * The suppression list: keyed hashes of addresses that automation must never write to again
 * (erased contacts). Only the contact hash (HMAC with the installation's secret, contact-keys.ts)
 * is kept, so the list itself holds no address and a guessed address cannot be checked against it
 * without the secret; Stageflow, which has the secret, can check any address. Migration 0020
 * converted the unkeyed hashes earlier versions stored.
 */

export async function isSuppressed(tx: Tx, email: string): Promise<boolean> {
  const keys = await contactKeys(tx);
  const row = await tx
    .selectFrom('suppressions')
    .select('email_hash')
    .where('email_hash', '=', keys.hash(email))
    .executeTakeFirst();
  return row !== undefined;
}

/** Adds a contact hash (ContactKeys.hash); suppressing an address twice keeps the first time and reason. */
export async function suppress(tx: Tx, hash: string, reason: string, at: number): Promise<void> {
  await tx
    .insertInto('suppressions')
    .values({ email_hash: hash, at, reason })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
}

/** Erased contacts, for checks of many addresses (an import, an engine batch). */
export interface SuppressedContacts {
  has(email: string): boolean;
  /** The pseudonym an erased contact's name becomes. */
  pseudonym(email: string): string;
}

/** Loaded once; the list holds erased contacts only, so it stays small. With nobody erased a check costs nothing. */
export async function suppressedContacts(tx: Tx): Promise<SuppressedContacts> {
  const [keys, rows] = await Promise.all([
    contactKeys(tx),
    tx.selectFrom('suppressions').select('email_hash').execute(),
  ]);
  const hashes = new Set(rows.map((r) => r.email_hash));
  return {
    has: hashes.size === 0 ? () => false : (email) => hashes.has(keys.hash(email)),
    pseudonym: keys.pseudonym,
  };
}

/** A check for decide(), which is pure: the shell loads the list and hashes the addresses. */
export async function suppressionCheck(tx: Tx): Promise<(email: string) => boolean> {
  return (await suppressedContacts(tx)).has;
}
