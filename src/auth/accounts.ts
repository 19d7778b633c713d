import { randomBytes } from 'node:crypto';
import { withTransaction, type Store } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { emailTaken, findMember, insertMember, type Member, type Role } from '../store/members.js';
import { hashPassword, passwordProblem } from './passwords.js';

/**
 * Creating sign-in accounts, shared by the CLI (`stageflow user create`), the setup link and the
 * API. A rep's or manager's id is the process user id they act as, so leads the rules give to
 * "anna" are the leads Anna sees.
 */

export class AccountError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export interface NewAccount {
  id?: string | undefined;
  email: string;
  name: string;
  role: Role;
  password?: string | undefined;
  canEditProcess?: boolean | undefined;
}

export async function createAccount(store: Store, a: NewAccount, now: number, by: string): Promise<Member> {
  if (a.password !== undefined) {
    const problem = passwordProblem(a.password);
    if (problem) throw new AccountError('password', problem);
  }
  const hash = a.password === undefined ? null : await hashPassword(a.password);
  const id =
    a.id ??
    a.email
      .split('@')[0]
      ?.toLowerCase()
      .replace(/[^a-z0-9_-]/g, '') +
      '-' +
      randomBytes(3).toString('hex');
  return withTransaction(store, async (tx) => {
    if (await findMember(tx, id)) throw new AccountError('id', `a user with id "${id}" already exists`);
    if (await emailTaken(tx, a.email)) throw new AccountError('email', `a user with email ${a.email} already exists`);
    const member = await insertMember(
      tx,
      { id, email: a.email, name: a.name, role: a.role, passwordHash: hash, canEditProcess: a.canEditProcess ?? false },
      now,
    );
    await appendAudit(tx, { actor: by, action: 'member.created', target: id, details: { role: a.role } }, now);
    return member;
  });
}
