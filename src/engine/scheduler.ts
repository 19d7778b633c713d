import { withTransaction } from '../store/db.js';
import { dueTimers } from '../store/timers.js';
import type { Engine } from './engine.js';

/** Turns the passing of time into events: task due, task overdue, stage stalled. */

const BATCH = 500;

/**
 * Fires every timer due by `until`, earliest first. `at: 'own-time'` (the simulation) handles
 * each at the moment it fell due, so a virtual clock sees exactly what a live one would; `'until'`
 * (the live tick) handles them all now. Returns how many fired.
 */
export async function fireTimers(engine: Engine, until: number, at: 'own-time' | 'until'): Promise<number> {
  const seen = new Set<string>();
  for (;;) {
    const timers = await withTransaction(engine.store, (tx) => dueTimers(tx, until, BATCH));
    // A timer whose event changed nothing (its lead is gone, say) must not spin the loop.
    const fresh = timers.filter((t) => !seen.has(JSON.stringify(t.event)));
    if (fresh.length === 0) return seen.size;
    for (const t of fresh) {
      seen.add(JSON.stringify(t.event));
      await engine.handle({ ...t.event, actor: { kind: 'system', id: 'scheduler' } }, at === 'own-time' ? t.at : until);
    }
  }
}
