import type { Tx } from './db.js';
import type { AccountsTable } from './schema.js';

/** Reads of the companies (accounts) leads belong to; imports write them through catalog.ts. */

export async function accountPage(db: Tx, limit: number, afterName: string | undefined): Promise<AccountsTable[]> {
  let q = db.selectFrom('accounts').selectAll();
  if (afterName !== undefined) q = q.where('name', '>', afterName);
  return q.orderBy('name').limit(limit).execute();
}

export async function findAccount(db: Tx, id: string): Promise<AccountsTable | null> {
  return (await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}
