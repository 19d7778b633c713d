import { sql } from 'kysely';
import type { OutboxItem } from '../domain/outbox.js';
import type { Store } from './db.js';
import type { OutboxTable } from './schema.js';

/**
 * The worker's side of the outbox: claim due rows, then record each delivery's outcome. A claim
 * marks rows 'sending' with a lease; a worker that dies mid-delivery leaves the lease to run out and
 * the rows are claimed again (at least once). On PostgreSQL, workers claim with FOR UPDATE SKIP
 * LOCKED, so several never take the same row; SQLite has one writer at a time anyway.
 */

export const LEASE_MS = 5 * 60_000;
export const MAX_ATTEMPTS = 8;

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
  const { rows } = await sql<OutboxTable>`
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
    returning *`.execute(store.db);
  return rows.map(itemOf).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
}

/** Exponential backoff with jitter: 30 s, 1 min, 2 min, … capped at 6 h, each ±20%. */
export function backoffMs(attempts: number, random: () => number): number {
  const base = Math.min(30_000 * 2 ** attempts, 6 * 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

export type Recorded = 'sent' | 'failed' | 'dead';

export async function recordSent(store: Store, id: string, detail: string | null, now: number): Promise<void> {
  await store.db
    .updateTable('outbox')
    .set((eb) => ({
      status: 'sent',
      attempts: eb('attempts', '+', 1),
      last_error: null,
      last_attempt_at: now,
      detail: detail === null ? null : detail.slice(0, 1000),
    }))
    .where('id', '=', id)
    .execute();
}

/** A failed try: another later, or dead after the last one (or at once, for a final answer). */
export async function recordFailure(
  store: Store,
  item: OutboxItem,
  error: string,
  final: boolean,
  now: number,
  random: () => number,
): Promise<Recorded> {
  const attempts = item.attempts + 1;
  const dead = final || attempts >= MAX_ATTEMPTS;
  await store.db
    .updateTable('outbox')
    .set({
      status: dead ? 'dead' : 'failed',
      attempts,
      last_error: error.slice(0, 1000),
      last_attempt_at: now,
      next_attempt_at: dead ? now : now + backoffMs(item.attempts, random),
    })
    .where('id', '=', item.id)
    .execute();
  return dead ? 'dead' : 'failed';
}
