import SqliteDatabase from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { workerReports } from '../../src/cli/serve.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer } from '../../src/integrations/delivery.js';
import { purgeExpired, startWorker, workOnce } from '../../src/server/worker.js';
import { DatabaseBusy, type Store } from '../../src/store/db.js';
import { TEST_PROCESS } from '../support/http.js';
import { freshStore } from '../support/stores.js';

/**
 * The worker beside another process that holds SQLite's write lock (an import's batch): its
 * purges, claims and delivery records wait for the lock without freezing the process that runs
 * it (a server answering requests), then complete; a round that waited too long is put off, not
 * failed, and the next one delivers.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

let store: Store;
let other: SqliteDatabase.Database | null = null;
afterEach(async () => {
  if (other?.inTransaction) other.exec('rollback');
  other?.close();
  other = null;
  await store.close();
});

async function setUp(): Promise<void> {
  store = await freshStore('sqlite');
  await applyProcess(store, TEST_PROCESS, T0, 'test');
  await store.db
    .insertInto('outbox')
    .values({
      id: 'hook',
      lead_id: 'L1',
      kind: 'webhook',
      payload: '{}',
      status: 'pending',
      attempts: 0,
      next_attempt_at: T0,
      created_at: T0,
      last_error: null,
    })
    .execute();
  other = new SqliteDatabase(store.location);
  other.pragma('busy_timeout = 0');
}

/** Takes the other connection's write lock and lets go of it after `ms`, by a timer only a free event loop runs. */
function holdLock(ms: number, ticks: string[], label: string): void {
  other?.exec('begin immediate');
  setTimeout(() => {
    ticks.push(label);
    other?.exec('commit');
  }, ms);
}

const outcome = (id: string) =>
  store.db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('the worker while another connection holds the SQLite write lock', () => {
  it('waits for the lock to purge, claim and record without blocking the process, then delivers', async () => {
    await setUp();
    const ticks: string[] = [];
    // The delivery itself takes the lock again, so the record of its outcome has to wait too.
    const deliver: Deliverer = () => {
      holdLock(200, ticks, 'released during delivery');
      return Promise.resolve({ status: 'sent', detail: 'HTTP 204' });
    };
    holdLock(200, ticks, 'released before the round');
    await workOnce(store, new Engine(store), {
      now: () => T0,
      sessionIdleMs: 3_600_000,
      deliverers: new Map([['webhook', deliver]]),
    });
    expect(ticks).toEqual(['released before the round', 'released during delivery']);
    expect(await outcome('hook')).toMatchObject({ status: 'sent', attempts: 1, detail: 'HTTP 204' });
  });

  it('purges expired sessions, keys and failed logins once the lock is free, the process answering meanwhile', async () => {
    await setUp();
    await store.db
      .insertInto('login_failures')
      .values({ id: 'old', email: 'a@b.test', at: T0 - 7_200_000 })
      .execute();
    const ticks: string[] = [];
    holdLock(200, ticks, 'released');
    await purgeExpired(store, T0, 3_600_000);
    ticks.push('purged');
    expect(ticks).toEqual(['released', 'purged']);
    expect(await store.db.selectFrom('login_failures').selectAll().execute()).toEqual([]);
  });

  it('puts off a round that waited too long (onBusy, not onError) and delivers in the next', async () => {
    await setUp();
    store.writeWaitMs = 100;
    other?.exec('begin immediate');
    const busy: unknown[] = [];
    const errors: unknown[] = [];
    const sent: string[] = [];
    const worker = startWorker(store, new Engine(store), {
      intervalMs: 50,
      deliverers: new Map<string, Deliverer>([
        [
          'webhook',
          (item) => {
            sent.push(item.id);
            return Promise.resolve({ status: 'sent' });
          },
        ],
      ]),
      sessionIdleMs: 3_600_000,
      now: () => T0,
      onError: (e) => errors.push(e),
      onBusy: (e) => busy.push(e),
    });
    try {
      await until(() => busy.length >= 2);
      expect(sent).toEqual([]);
      other?.exec('commit');
      await until(() => sent.length > 0);
    } finally {
      await worker.stop();
    }
    expect(busy.every((e) => e instanceof DatabaseBusy)).toBe(true);
    expect(errors).toEqual([]);
    expect(await outcome('hook')).toMatchObject({ status: 'sent' });
  });
});

describe('stageflow worker (the CLI) reporting a round put off', () => {
  it('prints it as put off, not failed', async () => {
    await setUp();
    store.writeWaitMs = 100;
    other?.exec('begin immediate');
    const lines: string[] = [];
    const worker = startWorker(store, new Engine(store), {
      intervalMs: 50,
      deliverers: new Map(),
      sessionIdleMs: 3_600_000,
      now: () => T0,
      ...workerReports((line) => lines.push(line)),
    });
    try {
      await until(() => lines.length >= 1);
    } finally {
      await worker.stop();
    }
    expect(lines[0]).toMatch(/^worker round put off: the database .* is busy: .*; the next round tries again$/);
    expect(lines.some((l) => l.startsWith('worker round failed'))).toBe(false);
  });
});

async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
