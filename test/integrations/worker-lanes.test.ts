import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer } from '../../src/integrations/delivery.js';
import { deliveryLanes, startWorker } from '../../src/server/worker.js';
import type { Store } from '../../src/store/db.js';
import { TEST_PROCESS } from '../support/http.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * The running worker delivers each outside system in its own lane: while every list call hangs
 * (Mailchimp may take 120 s a call), mail due later still goes out at once.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

describe.each(dialects)('delivery lanes on %s', (dialect) => {
  let store: Store;
  let stop: (() => Promise<void>) | null = null;
  const release: (() => void)[] = [];
  // Once set, a list delivery answers at once: the lane may claim its next rows between the
  // release below and the worker's stop, and stop waits for every delivery in flight.
  let released = false;
  afterEach(async () => {
    released = true;
    for (const r of release.splice(0)) r();
    await stop?.();
    stop = null;
    await store.close();
  });

  it('sends mail while every list delivery hangs', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, TEST_PROCESS, T0, 'test');
    const rows = [
      ...Array.from({ length: 8 }, (_, i) => ({ id: `L${i}:1:0:list.subscribe`, kind: 'list.subscribe', at: T0 })),
      { id: 'M:1:0:task.reminder', kind: 'task.reminder', at: T0 + 1 },
    ];
    await store.db
      .insertInto('outbox')
      .values(
        rows.map((r) => ({
          id: r.id,
          lead_id: r.id.split(':')[0] ?? '',
          kind: r.kind,
          payload: JSON.stringify({ list: 'nurture' }),
          status: 'pending',
          attempts: 0,
          next_attempt_at: r.at,
          created_at: r.at,
          last_error: null,
        })),
      )
      .execute();
    released = false;
    const hanging: Deliverer = () =>
      released
        ? Promise.resolve({ status: 'retry', error: 'released' })
        : new Promise((resolve) => release.push(() => resolve({ status: 'retry', error: 'released' })));
    const mailed: string[] = [];
    const mail: Deliverer = (item) => {
      mailed.push(item.id);
      return Promise.resolve({ status: 'sent' });
    };
    const deliverers = new Map<string, Deliverer>([
      ['list.subscribe', hanging],
      ['list.unsubscribe', hanging],
      ['task.reminder', mail],
      ['email', mail],
    ]);
    expect(deliveryLanes(deliverers).map((lane) => [...lane.keys()])).toEqual([
      ['list.subscribe', 'list.unsubscribe'],
      ['task.reminder', 'email'],
    ]);
    const worker = startWorker(store, new Engine(store), {
      intervalMs: 50,
      deliverers,
      sessionIdleMs: 60_000,
      now: () => T0 + 10_000,
      onError: (e) => {
        throw e;
      },
    });
    stop = worker.stop;
    for (let i = 0; i < 100 && mailed.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(mailed).toEqual(['M:1:0:task.reminder']);
    expect(release.length).toBeGreaterThan(0);
  });
});
