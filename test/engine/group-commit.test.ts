import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine, type EventOutcome, type TimedEvent } from '../../src/engine/engine.js';
import { GroupCommitter } from '../../src/engine/group-commit.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { basicProcess, T0 } from '../support/process-fixtures.js';
import { freshStore } from '../support/stores.js';

const created = (id: string): EngineEvent => ({ type: 'lead.created', lead: id, actor: { kind: 'api' }, fields: {} });
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Records the size of every batch the committer hands the engine (a real engine on SQLite). */
class CountingEngine extends Engine {
  readonly batches: number[] = [];
  onBatchDone: (() => void) | null = null;
  override async handleMany(events: readonly TimedEvent[]): Promise<EventOutcome[]> {
    this.batches.push(events.length);
    const out = await super.handleMany(events);
    const done = this.onBatchDone;
    this.onBatchDone = null;
    done?.();
    return out;
  }
}

describe('GroupCommitter', () => {
  let store: Store;
  let engine: CountingEngine;
  beforeEach(async () => {
    store = await freshStore('sqlite');
    await applyProcess(store, basicProcess, T0, 'test');
    engine = new CountingEngine(store);
  });
  afterEach(async () => {
    await store.close();
  });

  it('lets events that arrive over the next two turns after a batch join one half-empty batch', async () => {
    const commits = new GroupCommitter(engine);
    const submitted: Promise<EventOutcome>[] = [];
    const submit = (id: string): void => void submitted.push(commits.submit(created(id), T0));
    // When the first batch is written, three more events arrive in the next turn and three in
    // the one after, as requests still being authenticated would.
    engine.onBatchDone = () =>
      setImmediate(() => {
        for (const id of ['B1', 'B2', 'B3']) submit(id);
        setImmediate(() => {
          for (const id of ['C1', 'C2', 'C3']) submit(id);
        });
      });
    for (const id of ['A1', 'A2', 'A3', 'A4', 'A5']) submit(id);
    while (submitted.length < 11) await turn();
    const outcomes = await Promise.all(submitted);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(engine.batches).toEqual([5, 6]);
  });

  it('still answers a lone event, and never puts two events of one lead in a batch', async () => {
    const commits = new GroupCommitter(engine);
    expect((await commits.submit(created('L1'), T0)).ok).toBe(true);
    const update: EngineEvent = { type: 'lead.updated', lead: 'L2', actor: { kind: 'api' }, fields: { value: 5 } };
    const both = await Promise.all([commits.submit(created('L2'), T0), commits.submit(update, T0 + 1)]);
    expect(both.map((o) => o.ok)).toEqual([true, true]);
    expect(engine.batches).toEqual([1, 1, 1]);
  });
});
