import type { Engine } from '../engine/engine.js';
import type { Deliverer } from '../integrations/delivery.js';
import { takePeriodStartSnapshots } from '../engine/forecast-scheduler.js';
import { fireTimers } from '../engine/scheduler.js';
import type { Store } from '../store/db.js';
import { purgeKeys } from '../store/idempotency.js';
import { purgeLoginFailures } from '../store/login-failures.js';
import { purgeSessions } from '../store/sessions.js';
import { deliverOnce } from './deliver-outbox.js';

/**
 * The worker's loop: turn the passing of time into events (tasks due and overdue, stalls), deliver
 * the outbox (mail, webhooks), take forecast snapshots at period starts, and forget what has
 * expired (idempotency keys after 25 h, so they are kept at least the promised 24 h; ended
 * sessions; old failed logins). Several workers
 * may run: a timer fires once because firing it is an event on the lead's version, and a loser of
 * that race finds the timer already fired.
 */

export interface WorkerOptions {
  intervalMs: number;
  /** Deliverers by effect kind; kinds without one wait in the outbox. */
  deliverers: ReadonlyMap<string, Deliverer>;
  sessionIdleMs: number;
  now: () => number;
  onError: (e: unknown) => void;
  onFired?: (n: number) => void;
}

const KEEP_KEYS_MS = 25 * 3_600_000;

export async function workOnce(
  store: Store,
  engine: Engine,
  o: Pick<WorkerOptions, 'now' | 'sessionIdleMs' | 'deliverers'>,
): Promise<number> {
  const now = o.now();
  const fired = await fireTimers(engine, now, 'until');
  await deliverOnce(store, { deliverers: o.deliverers, now: o.now });
  await takePeriodStartSnapshots(store, now);
  await purgeKeys(store.db, now - KEEP_KEYS_MS);
  await purgeSessions(store.db, now - o.sessionIdleMs, now);
  await purgeLoginFailures(store.db, now - 3_600_000);
  return fired;
}

/** Runs until the returned stop() is called; a failed round is reported and the next one still runs. */
export function startWorker(store: Store, engine: Engine, o: WorkerOptions): { stop: () => Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const round = () => {
    if (running || stopped) return;
    running = workOnce(store, engine, o)
      .then((n) => {
        if (n > 0) o.onFired?.(n);
      })
      .catch(o.onError)
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(round, o.intervalMs);
  round();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
