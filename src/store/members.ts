import { noteAuthChange } from './auth-changes.js';
import type { Tx } from './db.js';
import type { MembersTable } from './schema.js';

/** People who sign in: a role, and for reps and managers the process user id they act as. */

export const ROLES = ['admin', 'manager', 'rep'] as const;
export type Role = (typeof ROLES)[number];

export interface Member {
  id: string;
  email: string;
  name: string;
  role: Role;
  canEditProcess: boolean;
  disabledAt: number | null;
  createdAt: number;
  updatedAt: number;
  version: number;
}

export function memberOf(r: MembersTable): Member {
  return {
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role as Role,
    canEditProcess: r.can_edit_process === 1,
    disabledAt: r.disabled_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface NewMember {
  id: string;
  email: string;
  name: string;
  role: Role;
  passwordHash: string | null;
  canEditProcess: boolean;
}

export async function insertMember(tx: Tx, m: NewMember, now: number): Promise<Member> {
  const row: MembersTable = {
    id: m.id,
    email: normaliseEmail(m.email),
    name: m.name,
    role: m.role,
    password_hash: m.passwordHash,
    can_edit_process: m.canEditProcess ? 1 : 0,
    disabled_at: null,
    created_at: now,
    updated_at: now,
    version: 1,
  };
  await tx.insertInto('members').values(row).execute();
  return memberOf(row);
}

export async function findMember(tx: Tx, id: string): Promise<Member | null> {
  const r = await tx.selectFrom('members').selectAll().where('id', '=', id).executeTakeFirst();
  return r ? memberOf(r) : null;
}

/** The member and their password hash, for login only. */
export async function findMemberForLogin(
  tx: Tx,
  email: string,
): Promise<{ member: Member; hash: string | null } | null> {
  const r = await tx.selectFrom('members').selectAll().where('email', '=', normaliseEmail(email)).executeTakeFirst();
  return r ? { member: memberOf(r), hash: r.password_hash } : null;
}

export async function emailTaken(tx: Tx, email: string, exceptId?: string): Promise<boolean> {
  let q = tx.selectFrom('members').select('id').where('email', '=', normaliseEmail(email));
  if (exceptId) q = q.where('id', '!=', exceptId);
  return (await q.executeTakeFirst()) !== undefined;
}

export async function listMembers(tx: Tx): Promise<Member[]> {
  const rows = await tx.selectFrom('members').selectAll().orderBy('id').execute();
  return rows.map(memberOf);
}

export async function memberCount(tx: Tx): Promise<number> {
  const r = await tx
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/**
 * Locks the active admins' rows until the transaction ends (PostgreSQL; SQLite's write lock is
 * already the whole database), so two admins demoting each other at once are checked in turn.
 */
export async function lockActiveAdmins(tx: Tx): Promise<void> {
  await tx
    .selectFrom('members')
    .select('id')
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .forUpdate()
    .execute();
}

/** Admins who can still sign in: there must always be one, or nobody could manage accounts. */
export async function activeAdminCount(tx: Tx): Promise<number> {
  const r = await tx
    .selectFrom('members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface MemberChanges {
  name?: string;
  email?: string;
  role?: Role;
  canEditProcess?: boolean;
  disabled?: boolean;
  passwordHash?: string;
}

/**
 * Applies the changes if the member is still at `version` (any version when undefined); false
 * when another writer got there first.
 */
export async function updateMember(
  tx: Tx,
  id: string,
  version: number | undefined,
  c: MemberChanges,
  now: number,
): Promise<boolean> {
  // Before and after: a token lookup overlapping the write is not cached as current.
  noteAuthChange();
  let q = tx
    .updateTable('members')
    .set({
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.email !== undefined ? { email: normaliseEmail(c.email) } : {}),
      ...(c.role !== undefined ? { role: c.role } : {}),
      ...(c.canEditProcess !== undefined ? { can_edit_process: c.canEditProcess ? 1 : 0 } : {}),
      ...(c.disabled !== undefined ? { disabled_at: c.disabled ? now : null } : {}),
      ...(c.passwordHash !== undefined ? { password_hash: c.passwordHash } : {}),
      updated_at: now,
      version: (eb) => eb('version', '+', 1),
    })
    .where('id', '=', id);
  if (version !== undefined) q = q.where('version', '=', version);
  const r = await q.executeTakeFirst();
  noteAuthChange();
  return Number(r.numUpdatedRows) === 1;
}
