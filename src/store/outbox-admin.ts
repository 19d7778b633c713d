import type { Tx } from './db.js';
import type { OutboxTable } from './schema.js';

/** An admin's hand on the outbox: send a row again now, or give every dead row another round. */

export async function retryOutboxRow(tx: Tx, id: string, now: number): Promise<boolean> {
  const r = await tx
    .updateTable('outbox')
    .set({ status: 'pending', next_attempt_at: now, attempts: 0 })
    .where('id', '=', id)
    .where('status', 'in', ['failed', 'dead', 'pending'])
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function replayDeadRows(tx: Tx, now: number): Promise<number> {
  const r = await tx
    .updateTable('outbox')
    .set({ status: 'pending', next_attempt_at: now, attempts: 0 })
    .where('status', '=', 'dead')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function findOutboxRow(tx: Tx, id: string): Promise<OutboxTable | undefined> {
  return tx.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
}
