import type { FastifyRequest } from 'fastify';
import { secretHash, SESSION_PREFIX, TOKEN_PREFIX } from '../auth/secrets.js';
import { findTokenWithMember, touchToken } from '../store/api-tokens.js';
import { DatabaseBusy, withTransaction, type Store, type Tx } from '../store/db.js';
import { findMember } from '../store/members.js';
import { deleteSession, findSession, touchSession } from '../store/sessions.js';
import type { Caller } from './access.js';
import { Problem } from './problem.js';
import type { TokenCache } from './token-cache.js';

/**
 * Who is calling: a bearer API token, else a session cookie, else nobody. A token or cookie that
 * is present but no longer valid is an error (401), not an anonymous call, so a client learns its
 * credential has expired instead of being told that a record does not exist.
 */

export const SESSION_COOKIE_SECURE = '__Host-stageflow_session';
/** Plain http (a laptop): browsers refuse `__Host-` cookies without Secure, so the name drops the prefix. */
export const SESSION_COOKIE_PLAIN = 'stageflow_session';

export interface SessionPolicy {
  idleMs: number;
  absoluteMs: number;
}

export async function authenticate(
  store: Store,
  req: FastifyRequest,
  policy: SessionPolicy,
  now: number,
  tokens: TokenCache,
): Promise<Caller | null> {
  const auth = req.headers.authorization;
  if (auth !== undefined) return tokenCaller(store, auth, now, tokens);
  const cookie = req.cookies[SESSION_COOKIE_SECURE] ?? req.cookies[SESSION_COOKIE_PLAIN];
  if (cookie === undefined) return null;
  return sessionCaller(store, cookie, policy, now);
}

/**
 * A mark of last use is bookkeeping: while another writer holds SQLite's write lock (an import's
 * batch) it is skipped, and a later request writes it. Written directly, it waited SQLite's busy
 * timeout with the whole server blocked, then failed the request with a 500.
 */
async function markUse(store: Store, write: (tx: Tx) => Promise<void>): Promise<void> {
  if (store.dialect === 'postgres') return write(store.db);
  try {
    await withTransaction({ ...store, writeWaitMs: 0 }, write);
  } catch (e) {
    if (!(e instanceof DatabaseBusy)) throw e;
  }
}

async function tokenCaller(store: Store, header: string, now: number, tokens: TokenCache): Promise<Caller> {
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m?.[1] || !m[1].startsWith(TOKEN_PREFIX))
    throw new Problem('unauthenticated', `Authorization must be "Bearer ${TOKEN_PREFIX}…"`);
  const hash = secretHash(m[1]);
  const found = await tokens.lookup(hash, () => findTokenWithMember(store.db, hash));
  if (!found) throw new Problem('unauthenticated', 'unknown API token');
  const { token, member } = found;
  if (token.revokedAt !== null) throw new Problem('unauthenticated', 'this API token has been revoked');
  if (token.expiresAt <= now) throw new Problem('unauthenticated', 'this API token has expired');
  if (member.disabledAt !== null) throw new Problem('unauthenticated', "the token's user is disabled");
  // At most one write a minute per token, and none on a request that finds a recent mark.
  if (token.lastUsedAt === null || now - token.lastUsedAt > 60_000) {
    // Marked first: the requests sharing this cached token then do not write it too.
    token.lastUsedAt = now;
    await markUse(store, (tx) => touchToken(tx, token.id, now));
  }
  return { member, via: 'token', scopes: new Set(token.scopes), tokenId: token.id };
}

async function sessionCaller(store: Store, cookie: string, policy: SessionPolicy, now: number): Promise<Caller> {
  if (!cookie.startsWith(SESSION_PREFIX)) throw new Problem('unauthenticated', 'unknown session; sign in again');
  const hash = secretHash(cookie);
  const session = await findSession(store.db, hash);
  if (!session) throw new Problem('unauthenticated', 'your session has ended; sign in again');
  if (session.expiresAt <= now || session.lastSeenAt + policy.idleMs <= now) {
    await withTransaction(store, (tx) => deleteSession(tx, hash));
    throw new Problem('unauthenticated', 'your session has expired; sign in again');
  }
  const member = await findMember(store.db, session.memberId);
  if (!member || member.disabledAt !== null) {
    await withTransaction(store, (tx) => deleteSession(tx, hash));
    throw new Problem('unauthenticated', 'this user is disabled');
  }
  // Idle time is counted in minutes, so one write a minute keeps it exact enough.
  if (now - session.lastSeenAt > 60_000) await markUse(store, (tx) => touchSession(tx, hash, now));
  return { member, via: 'session', scopes: 'all', session: { hash, csrf: session.csrfToken } };
}
