import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { withTransaction } from '../store/db.js';
import { claimKey, completeKey, releaseKey } from '../store/idempotency.js';
import { callerKey } from './access.js';
import type { AppContext } from './app.js';
import { Problem } from './problem.js';

/**
 * Idempotency-Key on creating and transitioning requests (the IETF httpapi draft's semantics):
 * the first request with a key runs and its answer is kept; a retry with the same key and body
 * gets that answer again (Idempotent-Replayed: true) and no second effect; the same key with a
 * different body is 422; a retry while the first still runs is 409. Keys are per user or token.
 * An answer of 5xx frees the key so that the retry runs for real. The key's writes go through
 * withTransaction: on SQLite they wait for another process's write lock without freezing the server.
 */

const claims = new WeakMap<FastifyRequest, { scope: string; key: string }>();
const KEPT_HEADERS = ['content-type', 'etag', 'location'];

export async function startIdempotent(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const raw = req.headers['idempotency-key'];
  if (raw === undefined || !req.caller) return;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (!key || key.length > 255 || !/^[\x21-\x7e]+$/.test(key))
    throw new Problem('validation-failed', 'Idempotency-Key must be 1 to 255 visible ASCII characters', {
      errors: [{ field: 'header.idempotency-key', message: 'must be 1 to 255 visible ASCII characters' }],
    });
  const scope = callerKey(req.caller);
  const hash = requestHash(req);
  const claim = await withTransaction(ctx.store, (tx) => claimKey(tx, scope, key, hash, ctx.now()));
  if (claim.kind === 'claimed') {
    claims.set(req, { scope, key });
    return;
  }
  if (claim.requestHash !== hash)
    throw new Problem(
      'idempotency-key-reused',
      'this Idempotency-Key was first sent with a different request; use a new key',
    );
  if (claim.kind === 'running')
    throw new Problem(
      'idempotency-key-in-use',
      'the first request with this Idempotency-Key is still running; retry later',
      {
        headers: { 'retry-after': '1' },
      },
    );
  void reply.headers({ ...claim.answer.headers, 'idempotent-replayed': 'true' });
  await reply.code(claim.answer.statusCode).send(claim.answer.body);
}

/** The request as the key binds it: method, URL and body. */
function requestHash(req: FastifyRequest): string {
  let body: string;
  try {
    body = JSON.stringify(req.body ?? null);
  } catch {
    // Nesting deep enough to overflow the stack: no client needs that.
    throw new Problem('malformed-request', 'the body is nested too deeply');
  }
  return createHash('sha256').update(`${req.method} ${req.url}\n${body}`).digest('hex');
}

export async function finishIdempotent(
  ctx: AppContext,
  req: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
): Promise<void> {
  const claim = claims.get(req);
  if (!claim) return;
  claims.delete(req);
  if (reply.statusCode >= 500 || typeof payload !== 'string') {
    await withTransaction(ctx.store, (tx) => releaseKey(tx, claim.scope, claim.key));
    return;
  }
  const headers: Record<string, string> = {};
  for (const h of KEPT_HEADERS) {
    const v = reply.getHeader(h);
    if (v !== undefined) headers[h] = String(v);
  }
  const answer = { statusCode: reply.statusCode, headers, body: payload };
  await withTransaction(ctx.store, (tx) => completeKey(tx, claim.scope, claim.key, answer));
}
