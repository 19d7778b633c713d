import type { RememberedOptOut } from '../domain/consent.js';
import { appendAudit } from './audit.js';
import { contactKeys } from './contact-keys.js';
import type { Tx } from './db.js';

/**
 * Remembered opt-outs: an address that opted out of marketing mail stays opted out after the leads
 * that carried the opt-out are gone, and a lead created, imported or re-addressed to it later
 * starts opted out (CAN-SPAM and GDPR: an unsubscribe is honoured for good). Kept as the keyed
 * contact hash (contact-keys.ts), like the suppression list: the table holds no address. Written
 * in the transaction of the opt-out itself (the engine's, when a lead's `unsubscribed` turns true;
 * an unsubscribe link's or Mailchimp's, for an address no lead has); cleared when a person sets
 * `unsubscribed` back to false, which the audit log records.
 */

export const OPT_IN_AUDIT = 'contact.opted_in';

/** Remembers an opt-out; an address remembered already keeps its first date and source. */
export async function rememberOptOut(tx: Tx, hash: string, at: number, source: string): Promise<void> {
  await tx
    .insertInto('opt_outs')
    .values({ email_hash: hash, at, source })
    .onConflict((oc) => oc.column('email_hash').doNothing())
    .execute();
}

/** The remembered opt-out of one address, or null. */
export async function rememberedOptOut(tx: Tx, email: string): Promise<RememberedOptOut | null> {
  const keys = await contactKeys(tx);
  const row = await tx
    .selectFrom('opt_outs')
    .select(['at', 'source'])
    .where('email_hash', '=', keys.hash(email))
    .executeTakeFirst();
  return row ? { at: Number(row.at), source: row.source } : null;
}

/** A lookup for decide(), which is pure: the addresses a batch may give its leads, read in one query. */
export async function rememberedOptOuts(
  tx: Tx,
  emails: readonly string[],
): Promise<(email: string) => RememberedOptOut | null> {
  if (emails.length === 0) return () => null;
  const keys = await contactKeys(tx);
  const rows = await tx
    .selectFrom('opt_outs')
    .select(['email_hash', 'at', 'source'])
    .where('email_hash', 'in', [...new Set(emails.map(keys.hash))])
    .execute();
  const byHash = new Map(rows.map((r) => [r.email_hash, { at: Number(r.at), source: r.source }]));
  return byHash.size === 0 ? () => null : (email) => byHash.get(keys.hash(email)) ?? null;
}

/** Every remembered opt-out, for a bulk check (an import); one row per address that opted out. */
export async function allRememberedOptOuts(tx: Tx): Promise<(email: string) => RememberedOptOut | null> {
  const [keys, rows] = await Promise.all([
    contactKeys(tx),
    tx.selectFrom('opt_outs').select(['email_hash', 'at', 'source']).execute(),
  ]);
  const byHash = new Map(rows.map((r) => [r.email_hash, { at: Number(r.at), source: r.source }]));
  return byHash.size === 0 ? () => null : (email) => byHash.get(keys.hash(email)) ?? null;
}

/** A lead's opt-out turned on or off by an event, to be remembered or forgotten with its rows. */
export interface OptOutTurn {
  email: string;
  optedOut: boolean;
  lead: string;
  at: number;
  /** Who did it, as the log and the audit name them: 'unsubscribe link', 'mailchimp', 'user katrin'. */
  by: string;
}

/** Writes a batch's turns in its transaction; an opt-in that cleared a remembered opt-out is audited. */
export async function writeOptOutTurns(tx: Tx, turns: readonly OptOutTurn[]): Promise<void> {
  if (turns.length === 0) return;
  const keys = await contactKeys(tx);
  for (const turn of turns) {
    const hash = keys.hash(turn.email);
    if (turn.optedOut) {
      await rememberOptOut(tx, hash, turn.at, turn.by);
      continue;
    }
    const cleared = await tx.deleteFrom('opt_outs').where('email_hash', '=', hash).executeTakeFirst();
    if (Number(cleared.numDeletedRows) > 0)
      await appendAudit(
        tx,
        { actor: turn.by, action: OPT_IN_AUDIT, target: hash, details: { lead: turn.lead } },
        turn.at,
      );
  }
}
