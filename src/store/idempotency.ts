import type { Tx } from './db.js';

/**
 * Idempotency keys: the first request with a key claims it ('running'), and its answer is kept
 * ('done') to be replayed to retries. The primary key (scope, key) makes the claim atomic.
 */

export interface StoredAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Far longer than any request runs; a 'running' key older than this was abandoned by a crash. */
export const ABANDONED_AFTER_MS = 5 * 60_000;

export type Claim =
  | { kind: 'claimed' }
  | { kind: 'running'; requestHash: string }
  | { kind: 'done'; requestHash: string; answer: StoredAnswer };

export async function claimKey(tx: Tx, scope: string, key: string, requestHash: string, now: number): Promise<Claim> {
  const inserted = await tx
    .insertInto('idempotency_keys')
    .values({
      scope,
      key,
      request_hash: requestHash,
      state: 'running',
      status_code: null,
      headers: null,
      body: null,
      created_at: now,
    })
    .onConflict((oc) => oc.columns(['scope', 'key']).doNothing())
    .returning('key')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed' };
  // A first request that never finished (the process died) frees its key after a while.
  const reclaimed = await tx
    .updateTable('idempotency_keys')
    .set({ request_hash: requestHash, created_at: now })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('state', '=', 'running')
    .where('created_at', '<', now - ABANDONED_AFTER_MS)
    .returning('key')
    .executeTakeFirst();
  if (reclaimed) return { kind: 'claimed' };
  const r = await tx
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('scope', '=', scope)
    .where('key', '=', key)
    .executeTakeFirstOrThrow();
  if (r.state !== 'done') return { kind: 'running', requestHash: r.request_hash };
  return {
    kind: 'done',
    requestHash: r.request_hash,
    answer: {
      statusCode: r.status_code ?? 200,
      headers: JSON.parse(r.headers ?? '{}') as Record<string, string>,
      body: r.body ?? '',
    },
  };
}

export async function completeKey(tx: Tx, scope: string, key: string, answer: StoredAnswer): Promise<void> {
  await tx
    .updateTable('idempotency_keys')
    .set({ state: 'done', status_code: answer.statusCode, headers: JSON.stringify(answer.headers), body: answer.body })
    .where('scope', '=', scope)
    .where('key', '=', key)
    .execute();
}

/** A request that failed on our side frees its key, so the client's retry runs again. */
export async function releaseKey(tx: Tx, scope: string, key: string): Promise<void> {
  await tx
    .deleteFrom('idempotency_keys')
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('state', '=', 'running')
    .execute();
}

export async function purgeKeys(tx: Tx, before: number): Promise<void> {
  await tx.deleteFrom('idempotency_keys').where('created_at', '<', before).execute();
}
