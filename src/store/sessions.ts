import type { Tx } from './db.js';

/** Signed-in browser sessions, by the hash of the cookie's secret. */

export interface SessionRow {
  tokenHash: string;
  memberId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export async function insertSession(tx: Tx, s: SessionRow): Promise<void> {
  await tx
    .insertInto('sessions')
    .values({
      token_hash: s.tokenHash,
      member_id: s.memberId,
      csrf_token: s.csrfToken,
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
    })
    .execute();
}

export async function findSession(tx: Tx, tokenHash: string): Promise<SessionRow | null> {
  const r = await tx.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  return r
    ? {
        tokenHash: r.token_hash,
        memberId: r.member_id,
        csrfToken: r.csrf_token,
        createdAt: r.created_at,
        lastSeenAt: r.last_seen_at,
        expiresAt: r.expires_at,
      }
    : null;
}

export async function touchSession(tx: Tx, tokenHash: string, now: number): Promise<void> {
  await tx.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
}

export async function deleteSession(tx: Tx, tokenHash: string): Promise<void> {
  await tx.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

export async function deleteSessionsOf(tx: Tx, memberId: string): Promise<void> {
  await tx.deleteFrom('sessions').where('member_id', '=', memberId).execute();
}

export async function purgeSessions(tx: Tx, idleBefore: number, now: number): Promise<void> {
  await tx
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<', idleBefore), eb('expires_at', '<=', now)]))
    .execute();
}
