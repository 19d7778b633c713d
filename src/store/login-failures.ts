import type { Tx } from './db.js';

/** Failed logins per account address, for throttling; rows older than the window are purged. */

/**
 * An attempt is recorded as a failure before its password is checked, and taken back if it
 * succeeds or is refused unchecked: attempts in flight together then all count, so a burst of
 * concurrent guesses cannot slip past the limit while the slow hash runs.
 */
export async function recordLoginAttempt(tx: Tx, id: string, email: string, at: number): Promise<void> {
  await tx.insertInto('login_failures').values({ id, email, at }).execute();
}

export async function withdrawLoginAttempt(tx: Tx, id: string): Promise<void> {
  await tx.deleteFrom('login_failures').where('id', '=', id).execute();
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
