import type { Fields, FieldValue } from '../domain/conditions.js';
import { OPT_OUT_FIELD, optOutValue } from '../domain/consent.js';
import type { Actor } from '../domain/events.js';
import { appendAudit } from '../store/audit.js';
import { checkEmail, contactLeads } from '../store/contact.js';
import { contactKeys } from '../store/contact-keys.js';
import { withTransaction } from '../store/db.js';
import { findLeadRow } from '../store/lead-search.js';
import { rememberOptOut } from '../store/opt-outs.js';
import { BOUNCED_FIELD } from '../store/outbox-delivery.js';
import { sameAddress } from '../store/personal-data.js';
import type { Engine } from './engine.js';

/**
 * What an outside party says about an address, written to every lead whose contact has it (the
 * address compared as erasure and export compare it: without case or surrounding spaces), each
 * through the engine as a `lead.updated` by a system actor that names the source, so decide()
 * does what any opt-out does (marketing mail and list subscribes skipped, lists left) and the
 * timeline says who did it. Idempotent: a lead that already says so is left alone. One audit
 * entry per request, naming the contact by its keyed hash, never the address.
 *
 * - opt-out (an unsubscribe link, Mailchimp's `unsubscribe`): `unsubscribed = true`;
 * - bounced (Mailchimp's `cleaned`): the address in `email_bounced`, which stops contact mail to it.
 */

export interface AddressSource {
  /** Who asked, as the timeline and the audit log name it: 'unsubscribe link', 'mailchimp'. */
  actor: string;
  /** Safe extra facts for the audit entry (a list id, Mailchimp's reason); never an address. */
  details?: Record<string, string>;
  /** For a bounce: why, as the rep's note on each lead says it (an SMTP bounce's note says the server's refusal). */
  why?: string;
}

export interface AddressOutcome {
  /** Leads this request changed. */
  changed: string[];
  /** Leads that already said so. */
  unchanged: string[];
  /** Leads the engine refused to change, with why. */
  failed: { lead: string; reason: string }[];
}

export const OPT_OUT_AUDIT = 'contact.unsubscribed';
export const BOUNCED_AUDIT = 'contact.bounced';

const ATTEMPTS = 5;

/**
 * Every lead of the address opted out of marketing mail, and the address remembered as opted out
 * (store/opt-outs.ts) first, in its own transaction: a lead created meanwhile or later, or none at
 * all today, starts opted out. Each lead's own opt-out remembers it again, which changes nothing.
 */
export async function optOutAddress(engine: Engine, email: string, source: AddressSource, now: number) {
  const address = checkEmail(email);
  await withTransaction(engine.store, async (tx) =>
    rememberOptOut(tx, (await contactKeys(tx)).hash(address), now, source.actor),
  );
  return applyToAddress(engine, email, source, now, OPT_OUT_AUDIT, (fields) =>
    optOutValue(fields[OPT_OUT_FIELD]) === true ? null : { [OPT_OUT_FIELD]: true },
  );
}

/** The activity that tells the rep an address bounces for good: an SMTP hard bounce, Mailchimp's `cleaned`. */
export const BOUNCE_ACTIVITY = 'email_bounced';

/** The rep's bounce note: why, then what the bounce stops and how to undo it. */
export function bounceNote(why: string): string {
  return `${why} No automated mail goes to it until the address is corrected or ${BOUNCED_FIELD} is cleared.`;
}

/**
 * Every lead of the address told that it bounces for good (Mailchimp cleaned it): the address in
 * BOUNCED_FIELD, then a note for the rep on each lead it changed, as an SMTP hard bounce leaves
 * (server/follow-up.ts). A closed lead takes no activity: its field is marked all the same.
 */
export async function markAddressBounced(engine: Engine, email: string, source: AddressSource, now: number) {
  const outcome = await applyToAddress(engine, email, source, now, BOUNCED_AUDIT, (fields) =>
    sameAddress(fields[BOUNCED_FIELD], email) ? null : { [BOUNCED_FIELD]: contactEmail(fields) ?? email },
  );
  const note = bounceNote(source.why ?? `${source.actor} reports that the contact's address bounces for good.`);
  const actor: Actor = { kind: 'system', id: source.actor };
  for (const lead of outcome.changed)
    await engine.handle({ type: 'activity.logged', lead, kind: BOUNCE_ACTIVITY, note, actor }, now);
  return outcome;
}

/** `change` answers the fields to write on a lead as it stands, or null when it already says so. */
async function applyToAddress(
  engine: Engine,
  email: string,
  source: AddressSource,
  now: number,
  action: string,
  change: (fields: Fields) => Record<string, FieldValue> | null,
): Promise<AddressOutcome> {
  const address = checkEmail(email);
  const outcome: AddressOutcome = { changed: [], unchanged: [], failed: [] };
  const actor: Actor = { kind: 'system', id: source.actor };
  for (const row of await contactLeads(engine.store.db, address, false)) {
    const result = await applyToLead(engine, row, address, actor, now, change);
    if (result === 'changed') outcome.changed.push(row.id);
    else if (result === 'unchanged') outcome.unchanged.push(row.id);
    else outcome.failed.push({ lead: row.id, reason: result.failed });
  }
  // In a transaction, as every write of ours is: on SQLite it waits its turn without blocking the process.
  await withTransaction(engine.store, async (tx) => {
    const keys = await contactKeys(tx);
    await appendAudit(
      tx,
      {
        actor: source.actor,
        action,
        target: keys.hash(address),
        details: { ...source.details, changed: outcome.changed, unchanged: outcome.unchanged, failed: outcome.failed },
      },
      now,
    );
  });
  return outcome;
}

/** What a lead row must say for a change over its version. */
type LeadVersion = { id: string; fields: string; version: number };

/** One lead, over the version read; read again if it changed meanwhile, and skipped once it has another address. */
async function applyToLead(
  engine: Engine,
  first: LeadVersion,
  address: string,
  actor: Actor,
  now: number,
  change: (fields: Fields) => Record<string, FieldValue> | null,
): Promise<'changed' | 'unchanged' | { failed: string }> {
  let row: LeadVersion | null = first;
  for (let attempt = 0; attempt < ATTEMPTS && row; attempt++) {
    const fields = JSON.parse(row.fields) as Fields;
    if (!sameAddress(fields['email'], address)) return 'unchanged';
    const update = change(fields);
    if (update === null) return 'unchanged';
    const out = await engine.handle({ type: 'lead.updated', lead: row.id, fields: update, actor }, now, row.version);
    if (out.ok) return 'changed';
    if (out.error.code !== 'stale_version') return { failed: out.error.message };
    row = await findLeadRow(engine.store.db, row.id);
  }
  return row ? { failed: `the lead kept changing (${ATTEMPTS} tries)` } : 'unchanged';
}

function contactEmail(fields: Fields): string | null {
  const v = fields['email'];
  return typeof v === 'string' ? v.trim() : null;
}
