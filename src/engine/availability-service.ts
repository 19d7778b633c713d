import type { AvailabilityChange } from '../domain/availability-change.js';
import { changedFields } from '../domain/availability-change.js';
import { differingFromFile, problemsOfOverride, type AvailabilityOverride } from '../domain/availability.js';
import type { User } from '../domain/process-schema.js';
import { appendAudit } from '../store/audit.js';
import { noteAvailabilityChange, saveOverride, storedOverrides, type StoredOverride } from '../store/availability.js';
import { withTransaction, type Store } from '../store/db.js';
import { latestProcess } from '../store/processes.js';

/**
 * Setting a person's availability overrides (docs/process.md, "Availability set through the API"):
 * the one path for PUT /users/{id}/availability and `stageflow user availability`, so both check,
 * store and audit a change alike. All in one transaction: the change counter first (it orders this
 * change after a process apply or another change in flight), then the process's own checks on the
 * result, then the row and its audit line; a refusal stores nothing.
 */

export class AvailabilityRefused extends Error {
  constructor(
    /** unknown_user: not a user of the current process; rule: the process's checks refuse the result. */
    readonly reason: 'unknown_user' | 'rule',
    message: string,
  ) {
    super(message);
  }
}

export interface AvailabilityRequest {
  user: string;
  change: AvailabilityChange;
  /** Who changes it: kept with the override and in the audit log. */
  by: string;
  now: number;
  /**
   * Called inside the transaction with the person as routing sees them now and their stored
   * override, before anything is written: throws to refuse a change based on a stale read.
   */
  precondition?: (effective: User, stored: StoredOverride | undefined) => void;
}

/** Applies the change; answers the person's overrides as now stored (null: none, the file applies). */
export async function setAvailability(store: Store, req: AvailabilityRequest): Promise<StoredOverride | null> {
  const { user: id, change, by, now } = req;
  return withTransaction(store, async (tx) => {
    await noteAvailabilityChange(tx);
    const latest = await latestProcess(tx);
    const user = latest?.process.users.find((u) => u.id === id);
    if (!latest || !user) throw new AvailabilityRefused('unknown_user', `user "${id}" is not in the process`);
    const stored = await storedOverrides(tx);
    const mine = stored.find((s) => s.user === id);
    req.precondition?.({ ...user, ...mine?.override }, mine);
    const merged: AvailabilityOverride = { ...mine?.override, ...change.set };
    for (const f of change.dropped) delete merged[f];
    const next = new Map(stored.map((s) => [s.user, s.override])).set(id, differingFromFile(user, merged));
    // Every problem this person's override causes, not only a new one: an override that already
    // broke the process (made before these checks) is not carried silently into the next change.
    const problems = problemsOfOverride(latest.process, next, id);
    if (problems.length > 0) throw new AvailabilityRefused('rule', problems.join('\n'));
    const override = next.get(id) ?? {};
    await saveOverride(tx, id, override, now, by);
    // Which fields, not the dates: a person's leave is theirs, and the audit log is kept for good.
    await appendAudit(
      tx,
      { actor: by, action: 'user.availability_changed', target: id, details: { fields: changedFields(change) } },
      now,
    );
    return Object.keys(override).length === 0 ? null : { user: id, override, changedAt: now, changedBy: by };
  });
}
