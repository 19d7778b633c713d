import type { Engine } from '../engine/engine.js';
import type { Deliverer } from '../integrations/delivery.js';
import { takePeriodStartSnapshots } from '../engine/forecast-scheduler.js';
import { fireTimers } from '../engine/scheduler.js';
import { DatabaseBusy, withTransaction, type Store } from '../store/db.js';
import { purgeKeys } from '../store/idempotency.js';
import { purgeLoginFailures } from '../store/login-failures.js';
import { purgeSessions } from '../store/sessions.js';
import { deliverOnce, type DeliveryFailure } from './deliver-outbox.js';
import { followUpApplier } from './follow-up.js';

/**
 * The worker's two loops. The scheduler turns the passing of time into events (tasks due and
 * overdue, stalls), takes forecast snapshots at period starts, and forgets what has expired
 * (idempotency keys after 25 h, so they are kept at least the promised 24 h; ended sessions; old
 * failed logins). Delivery works through the outbox (mail, webhooks, mailing lists, enrichment)
 * and writes what it learned back to the leads, one loop per outside system. They run apart so a
 * slow outside system never holds up a reminder, neither its firing nor its mail. Several workers may run: a timer fires once because firing it is an event
 * on the lead's version, and a loser of that race finds the timer already fired.
 */

export interface WorkerOptions {
  intervalMs: number;
  /** Deliverers by effect kind; kinds without one wait in the outbox. */
  deliverers: ReadonlyMap<string, Deliverer>;
  sessionIdleMs: number;
  now: () => number;
  onError: (e: unknown) => void;
  /**
   * A round put off because another process held SQLite's write lock past the wait (a long import
   * batch): nothing is lost, the next round tries again. Without it, onError is told.
   */
  onBusy?: (e: DatabaseBusy) => void;
  onFired?: (n: number) => void;
  /** A delivery that failed (retried later) or was parked dead: for the log, so alerting can see it. */
  onDeliveryFailure?: (f: DeliveryFailure) => void;
}

const KEEP_KEYS_MS = 25 * 3_600_000;

/** One scheduler round, then one delivery round, in order: for tests and one-off runs. */
export async function workOnce(
  store: Store,
  engine: Engine,
  o: Pick<WorkerOptions, 'now' | 'sessionIdleMs' | 'deliverers'>,
): Promise<number> {
  const fired = await scheduleOnce(store, engine, o);
  await deliverRound(store, engine, o);
  return fired;
}

async function scheduleOnce(store: Store, engine: Engine, o: Pick<WorkerOptions, 'now' | 'sessionIdleMs'>) {
  const now = o.now();
  const fired = await fireTimers(engine, now, 'until');
  await takePeriodStartSnapshots(store, now);
  await purgeExpired(store, now, o.sessionIdleMs);
  return fired;
}

/** Forgets what has expired: idempotency keys, ended sessions, old failed logins. */
export async function purgeExpired(store: Store, now: number, sessionIdleMs: number): Promise<void> {
  await withTransaction(store, async (tx) => {
    await purgeKeys(tx, now - KEEP_KEYS_MS);
    await purgeSessions(tx, now - sessionIdleMs, now);
    await purgeLoginFailures(tx, now - 3_600_000);
  });
}

function deliverRound(
  store: Store,
  engine: Engine,
  o: Pick<WorkerOptions, 'now' | 'deliverers' | 'onDeliveryFailure'>,
  stopping?: () => boolean,
) {
  return deliverOnce(store, {
    deliverers: o.deliverers,
    now: o.now,
    applyFollowUp: followUpApplier(engine, o.now),
    ...(stopping ? { stopping } : {}),
    ...(o.onDeliveryFailure ? { onFailure: o.onDeliveryFailure } : {}),
  });
}

/** Runs until the returned stop() is called; a failed round is reported and the next one still runs. */
export function startWorker(store: Store, engine: Engine, o: WorkerOptions): { stop: () => Promise<void> } {
  const onError = (e: unknown): void => (e instanceof DatabaseBusy && o.onBusy ? o.onBusy(e) : o.onError(e));
  // A stopping worker finishes the deliveries in flight but claims no more rows, so it exits soon.
  let stopping = false;
  const scheduler = repeat(
    o.intervalMs,
    () => scheduleOnce(store, engine, o),
    (n) => {
      if (n > 0) o.onFired?.(n);
    },
    onError,
  );
  // One delivery loop per outside system, so a slow one (Mailchimp calls may take 120 s, a website
  // fetch 5 s) holds up only its own rows: mail and reminders never queue behind list calls.
  const lanes = deliveryLanes(o.deliverers).map((deliverers) =>
    repeat(
      o.intervalMs,
      () => deliverRound(store, engine, { ...o, deliverers }, () => stopping),
      () => undefined,
      onError,
    ),
  );
  return {
    async stop() {
      stopping = true;
      await Promise.all([scheduler.stop(), ...lanes.map((l) => l.stop())]);
    },
  };
}

/**
 * The deliverers split by outside system: kinds served by the same deliverer (every mail kind, every
 * list kind) share a lane; each lane is delivered apart from the others.
 */
export function deliveryLanes(deliverers: ReadonlyMap<string, Deliverer>): ReadonlyMap<string, Deliverer>[] {
  const lanes = new Map<Deliverer, Map<string, Deliverer>>();
  for (const [kind, deliver] of deliverers) {
    let lane = lanes.get(deliver);
    if (!lane) lanes.set(deliver, (lane = new Map()));
    lane.set(kind, deliver);
  }
  return [...lanes.values()];
}

/** Runs `round` now and every `intervalMs`, never two at once. */
function repeat<T>(
  intervalMs: number,
  round: () => Promise<T>,
  onDone: (v: T) => void,
  onError: (e: unknown) => void,
): { stop: () => Promise<void> } {
  let running: Promise<void> | null = null;
  let stopped = false;
  const tick = () => {
    if (running || stopped) return;
    running = round()
      .then(onDone)
      .catch(onError)
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, intervalMs);
  tick();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
