import type { Tx } from './db.js';

/** One-time links that let the first admin be created from a browser. */

export async function insertSetupToken(tx: Tx, hash: string, now: number, expiresAt: number): Promise<void> {
  await tx
    .insertInto('setup_tokens')
    .values({ token_hash: hash, created_at: now, expires_at: expiresAt, used_at: null })
    .execute();
}

/** Marks the token used; true only for the one caller that found it unused and unexpired. */
export async function useSetupToken(tx: Tx, hash: string, now: number): Promise<boolean> {
  const r = await tx
    .updateTable('setup_tokens')
    .set({ used_at: now })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
