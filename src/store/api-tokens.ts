import { noteAuthChange } from './auth-changes.js';
import type { Tx } from './db.js';
import { memberOf, type Member } from './members.js';
import type { ApiTokensTable } from './schema.js';

/** API tokens for integrations: stored as a hash, scoped, expiring, revocable. */

export interface ApiToken {
  id: string;
  memberId: string;
  name: string;
  scopes: string[];
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

function tokenOf(r: ApiTokensTable): ApiToken {
  return {
    id: r.id,
    memberId: r.member_id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
  };
}

export async function insertToken(tx: Tx, t: Omit<ApiToken, 'revokedAt' | 'lastUsedAt'>, hash: string): Promise<void> {
  await tx
    .insertInto('api_tokens')
    .values({
      id: t.id,
      member_id: t.memberId,
      name: t.name,
      token_hash: hash,
      scopes: JSON.stringify(t.scopes),
      created_at: t.createdAt,
      expires_at: t.expiresAt,
      revoked_at: null,
      last_used_at: null,
    })
    .execute();
}

export async function findTokenByHash(tx: Tx, hash: string): Promise<ApiToken | null> {
  const r = await tx.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  return r ? tokenOf(r) : null;
}

/** A token and its owner in one query: every token-authenticated request starts here. */
export async function findTokenWithMember(tx: Tx, hash: string): Promise<{ token: ApiToken; member: Member } | null> {
  const r = await tx
    .selectFrom('api_tokens')
    .innerJoin('members', 'members.id', 'api_tokens.member_id')
    .selectAll('api_tokens')
    .select([
      'members.email',
      'members.name as member_name',
      'members.role',
      'members.can_edit_process',
      'members.disabled_at',
      'members.created_at as member_created_at',
      'members.updated_at',
      'members.version',
    ])
    .where('api_tokens.token_hash', '=', hash)
    .executeTakeFirst();
  if (!r) return null;
  return {
    token: tokenOf(r),
    member: memberOf({
      id: r.member_id,
      email: r.email,
      name: r.member_name,
      role: r.role,
      password_hash: null,
      can_edit_process: r.can_edit_process,
      disabled_at: r.disabled_at,
      created_at: r.member_created_at,
      updated_at: r.updated_at,
      version: r.version,
    }),
  };
}

export async function findToken(tx: Tx, id: string): Promise<ApiToken | null> {
  const r = await tx.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? tokenOf(r) : null;
}

export async function listTokens(tx: Tx, memberId: string | null): Promise<ApiToken[]> {
  let q = tx.selectFrom('api_tokens').selectAll();
  if (memberId !== null) q = q.where('member_id', '=', memberId);
  return (await q.orderBy('created_at', 'desc').orderBy('id').execute()).map(tokenOf);
}

export async function revokeToken(tx: Tx, id: string, now: number): Promise<void> {
  // Before and after: a lookup overlapping the write is not cached as current.
  noteAuthChange();
  await tx
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
  noteAuthChange();
}

/** Recorded at most once a minute per token, so a busy integration does not write on every request. */
export async function touchToken(tx: Tx, id: string, now: number): Promise<void> {
  await tx
    .updateTable('api_tokens')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now - 60_000)]))
    .execute();
}
