import { sql } from 'kysely';
import type { Fields } from '../domain/conditions.js';
import { optedOut } from '../domain/consent.js';
import type { OutboxItem } from '../domain/outbox.js';
import { CANCELLED_ERASED } from './contact-outbox.js';
import { withTransaction, type Store, type Tx } from './db.js';
import { sameAddress } from './personal-data.js';
import type { OutboxTable } from './schema.js';
import { isSuppressed } from './suppressions.js';

/**
 * The worker's side of the outbox: claim due rows, then record each delivery's outcome. A claim
 * marks rows 'sending' with a lease; a worker that dies mid-delivery leaves the lease to run out and
 * the rows are claimed again (at least once). On PostgreSQL, workers claim with FOR UPDATE SKIP
 * LOCKED, so several never take the same row; SQLite has one writer at a time anyway.
 */

export const LEASE_MS = 5 * 60_000;
/**
 * Tries before a row is parked as dead. With backoffMs the waits are 30 s, 1, 2, 4 … min up to
 * 4 h 16 min (8.5 h in all), then 6 h each: the last try comes about 3 days after the first (2¼ to
 * 3½ with the jitter), so an SMTP relay, Mailchimp or a webhook receiver down for a night or a
 * weekend day loses nothing, as webhook providers retry for days.
 */
export const MAX_ATTEMPTS = 21;

function itemOf(r: OutboxTable): OutboxItem {
  return {
    id: r.id,
    lead: r.lead_id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    attempts: r.attempts,
    createdAt: r.created_at,
  };
}

/**
 * Up to `limit` due rows of the given kinds, oldest due first, leased to this worker. A lead's
 * mailing-list rows go one at a time: while one is being sent, the lead's others wait, so a
 * subscribe still in flight cannot land after the unsubscribe or the erase that followed it.
 *
 * The worker's writes here all go through withTransaction: on SQLite it waits for another
 * process's write lock (an import's batch) without freezing the server that runs the worker.
 */
export async function claimDue(
  store: Store,
  kinds: readonly string[],
  now: number,
  limit: number,
): Promise<OutboxItem[]> {
  if (kinds.length === 0) return [];
  const lock = store.dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const kindList = sql.join(kinds.map((k) => sql`${k}`));
  const query = sql<OutboxTable>`
    update outbox set status = 'sending', next_attempt_at = ${now + LEASE_MS}
    where id in (
      select due.id from outbox due
      where due.status in ('pending', 'failed', 'sending') and due.next_attempt_at <= ${now} and due.kind in (${kindList})
        and not (due.kind like 'list.%' and exists (
          select 1 from outbox busy
          where busy.lead_id = due.lead_id and busy.kind like 'list.%' and busy.id <> due.id
            and busy.status = 'sending' and busy.next_attempt_at > ${now}))
      order by due.next_attempt_at, due.id
      limit ${limit}
      ${lock}
    )
    returning *`;
  const { rows } = await withTransaction(store, (tx) => query.execute(tx));
  return rows.map(itemOf).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 6 h, each ±20%. */
export function backoffMs(attempts: number, random: () => number): number {
  const base = Math.min(30_000 * 2 ** attempts, 6 * 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export type Recorded = 'sent' | 'kept' | 'failed' | 'dead';

export const CANCELLED_MOVED = 'cancelled: the lead has another address by now';
/**
 * The lead field that records a contact address the mail server refused for good (a hard bounce):
 * it holds that address, so contact mail to it is cancelled unsent while the lead still has it, and
 * mail flows again once the address is corrected or the field cleared.
 */
export const BOUNCED_FIELD = 'email_bounced';
export const CANCELLED_OPTED_OUT = 'cancelled: the contact opted out of marketing mail';
export const CANCELLED_BOUNCED = `cancelled: the address bounced (see ${BOUNCED_FIELD} on the lead)`;

/**
 * The contact address a row would write to: contact mail's `to`, a list subscribe's or an
 * enrichment's `email`. Null for rows that write to no contact: mail to users, webhooks, and list
 * unsubscribes and erasures, which only take an address off a list.
 */
export function contactAddressOf(item: OutboxItem): string | null {
  const p = item.payload;
  const address =
    item.kind === 'email' && p['recipient'] === 'contact'
      ? p['to']
      : item.kind === 'list.subscribe' || item.kind === 'enrich'
        ? p['email']
        : null;
  return typeof address === 'string' && address.trim() !== '' ? address : null;
}

/**
 * Why a claimed row must never go out, checked just before it would (null: deliver it). A row
 * queued before its contact was erased can outlive the erase (a lead the erase did not find, a row
 * in flight), so the suppression list is consulted here too, not only when effects are decided.
 * Contact mail or a list subscribe whose lead has another address by now is not sent either: the
 * address may be someone else's (a successor, a corrected typo); nor mail to an address that
 * hard-bounced (the lead's BOUNCED_FIELD holds it). Deliverers never read the database, so this is
 * the worker's check.
 */
export async function deliveryRefusal(
  tx: Tx,
  item: OutboxItem,
  lead: { fields: Record<string, unknown> } | null,
): Promise<string | null> {
  const address = contactAddressOf(item);
  if (address === null) return null;
  if (await isSuppressed(tx, address)) return CANCELLED_ERASED;
  const toContact = item.kind === 'email' || item.kind === 'list.subscribe';
  if (toContact && lead !== null && !sameAddress(lead.fields['email'], address)) return CANCELLED_MOVED;
  if (item.kind === 'email' && lead !== null && sameAddress(lead.fields[BOUNCED_FIELD], address))
    return CANCELLED_BOUNCED;
  // A subscribe queued before the contact opted out: the engine queued an unsubscribe with the
  // opt-out, and sending this first would put on the list, for a moment, someone who said no.
  if (item.kind === 'list.subscribe' && lead !== null && optedOut(lead.fields as Fields)) return CANCELLED_OPTED_OUT;
  return null;
}

/** A row that will never be delivered: cancelled, with why, and not counted as a try. */
export async function recordCancelled(store: Store, id: string, reason: string): Promise<void> {
  await withTransaction(store, (tx) =>
    tx.updateTable('outbox').set({ status: 'cancelled', last_error: reason }).where('id', '=', id).execute(),
  );
}

export async function recordSent(store: Store, id: string, detail: string | null, now: number): Promise<void> {
  await recordDone(store, id, 'sent', detail, now);
}

/**
 * A row written somewhere for an admin instead of sent (mail kept as an .eml file while SMTP_URL
 * is unset): done for the worker, which never takes it up again, but not delivered, so `outbox
 * retry` (one row, or every kept row) queues it again once SMTP is configured.
 */
export async function recordKept(store: Store, id: string, detail: string, now: number): Promise<void> {
  await recordDone(store, id, 'kept', detail, now);
}

async function recordDone(
  store: Store,
  id: string,
  status: 'sent' | 'kept',
  detail: string | null,
  now: number,
): Promise<void> {
  await withTransaction(store, (tx) =>
    tx
      .updateTable('outbox')
      .set((eb) => ({
        status,
        attempts: eb('attempts', '+', 1),
        last_error: null,
        last_attempt_at: now,
        detail: detail === null ? null : detail.slice(0, 1000),
      }))
      .where('id', '=', id)
      .execute(),
  );
}

/**
 * The detail of a row parked at once on a final answer (a recipient refused, a compliance refusal),
 * as opposed to one that ran out of tries: replay-dead leaves such rows dead unless told otherwise,
 * since sending them again would meet the same answer (and re-mail a bounced address).
 */
export const FINAL_ANSWER = 'final answer: sending it again cannot change it';

/** A failed try: another later, or dead after the last one (or at once, for a final answer). */
export async function recordFailure(
  store: Store,
  item: OutboxItem,
  error: string,
  final: boolean,
  now: number,
  random: () => number,
): Promise<'failed' | 'dead'> {
  const attempts = item.attempts + 1;
  const dead = final || attempts >= MAX_ATTEMPTS;
  await withTransaction(store, (tx) =>
    tx
      .updateTable('outbox')
      .set({
        status: dead ? 'dead' : 'failed',
        attempts,
        last_error: error.slice(0, 1000),
        last_attempt_at: now,
        next_attempt_at: dead ? now : now + backoffMs(item.attempts, random),
        detail: final ? FINAL_ANSWER : null,
      })
      .where('id', '=', item.id)
      .execute(),
  );
  return dead ? 'dead' : 'failed';
}
