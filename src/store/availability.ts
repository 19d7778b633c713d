import { withAvailability, type AvailabilityOverride } from '../domain/availability.js';
import type { Tx } from './db.js';
import { latestProcess, type StoredProcess } from './processes.js';

/**
 * Availability overrides (migration 0027): per person, the fields of their availability a manager
 * set through the API, over the process file's. Every change bumps the one revision counter in
 * `availability_changes`, first thing in its transaction: that row lock orders concurrent changes
 * (and process applies, which bump it too) on PostgreSQL, and caches of the effective process, in
 * this process or another on the same database, compare the counter to see a change.
 */

export interface StoredOverride {
  user: string;
  override: AvailabilityOverride;
  changedAt: number;
  changedBy: string | null;
}

/** The count of availability changes so far: one small read, for caches to compare. */
export async function availabilityRevision(tx: Tx): Promise<number> {
  const row = await tx.selectFrom('availability_changes').select('revision').where('id', '=', 1).executeTakeFirst();
  return Number(row?.revision ?? 0);
}

/**
 * Counts a change, before it is made: on PostgreSQL the row stays locked until the transaction
 * ends, so a second writer waits and then reads what the first wrote.
 */
export async function noteAvailabilityChange(tx: Tx): Promise<void> {
  await tx
    .updateTable('availability_changes')
    .set((eb) => ({ revision: eb('revision', '+', 1) }))
    .where('id', '=', 1)
    .execute();
}

export async function storedOverrides(tx: Tx): Promise<StoredOverride[]> {
  const rows = await tx.selectFrom('user_availability').selectAll().orderBy('user_id').execute();
  return rows.map((r) => ({
    user: r.user_id,
    override: JSON.parse(r.overrides) as AvailabilityOverride,
    changedAt: Number(r.changed_at),
    changedBy: r.changed_by,
  }));
}

/** Overrides by user id, as withAvailability takes them. */
export async function loadAvailability(tx: Tx): Promise<Map<string, AvailabilityOverride>> {
  return new Map((await storedOverrides(tx)).map((s) => [s.user, s.override]));
}

/** Stores a person's overrides (an empty one removes the row). The caller has noted the change first. */
export async function saveOverride(
  tx: Tx,
  user: string,
  override: AvailabilityOverride,
  now: number,
  by: string | null,
): Promise<void> {
  if (Object.keys(override).length === 0) {
    await tx.deleteFrom('user_availability').where('user_id', '=', user).execute();
    return;
  }
  const overrides = JSON.stringify(override);
  await tx
    .insertInto('user_availability')
    .values({ user_id: user, overrides, changed_at: now, changed_by: by })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ overrides, changed_at: now, changed_by: by }))
    .execute();
}

/**
 * After a process apply: keeps what `kept` holds of each person's overrides, with its original
 * date and author, and drops the rest (the file replaced them).
 */
export async function keepOverrides(
  tx: Tx,
  before: readonly StoredOverride[],
  kept: ReadonlyMap<string, AvailabilityOverride>,
): Promise<void> {
  for (const s of before) {
    const k = kept.get(s.user);
    if (!k) await tx.deleteFrom('user_availability').where('user_id', '=', s.user).execute();
    else if (JSON.stringify(k) !== JSON.stringify(s.override))
      await tx
        .updateTable('user_availability')
        .set({ overrides: JSON.stringify(k) })
        .where('user_id', '=', s.user)
        .execute();
  }
}

/** The latest process version with everyone's overrides in place: what routing and handovers judge by. */
export async function latestEffectiveProcess(tx: Tx): Promise<StoredProcess | null> {
  const stored = await latestProcess(tx);
  return stored ? { ...stored, process: withAvailability(stored.process, await loadAvailability(tx)) } : null;
}
