import type { Tx } from './db.js';

/** Failed logins per account address, for throttling; rows older than the window are purged. */

export async function recordLoginFailure(tx: Tx, email: string, at: number): Promise<void> {
  await tx.insertInto('login_failures').values({ email, at }).execute();
}

export async function loginFailuresSince(tx: Tx, email: string, since: number): Promise<number> {
  const r = await tx
    .selectFrom('login_failures')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('email', '=', email)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function purgeLoginFailures(tx: Tx, before: number): Promise<void> {
  await tx.deleteFrom('login_failures').where('at', '<=', before).execute();
}
