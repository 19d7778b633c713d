import { afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { basicProcess, T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

const api = { kind: 'api' } as const;

/** routing_load, the open-lead counts least-open routing and caps read, against the leads themselves. */
async function loadsAndTruth(store: Store): Promise<[Record<string, number>, Record<string, number>]> {
  const loads = await store.db.selectFrom('routing_load').selectAll().orderBy('user_id').execute();
  const truth = await store.db
    .selectFrom('leads')
    .select(['owner', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', '=', 'open')
    .groupBy('owner')
    .orderBy('owner')
    .execute();
  return [
    Object.fromEntries(loads.filter((l) => l.open_leads !== 0).map((l) => [l.user_id, Number(l.open_leads)])),
    Object.fromEntries(truth.map((t) => [String(t.owner), Number(t.n)])),
  ];
}

describe.each(dialects)('open-lead counts on %s', (dialect) => {
  let store: Store | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
  });

  it('follow batches that open, close and move leads of several owners at once', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, basicProcess, T0, 'test');
    const engine = new Engine(store);
    const created = (lead: string, owner: string): EngineEvent => ({
      type: 'lead.created',
      lead,
      actor: api,
      fields: {},
      owner,
    });
    // One batch: three leads for anna, two for ben (both owners' rows are new).
    await engine.handleMany(
      [
        created('A1', 'anna'),
        created('A2', 'anna'),
        created('A3', 'anna'),
        created('B1', 'ben'),
        created('B2', 'ben'),
      ].map((event, i) => ({ event, at: T0 + i })),
    );
    expect(await loadsAndTruth(store)).toEqual([
      { anna: 3, ben: 2 },
      { anna: 3, ben: 2 },
    ]);
    // One batch: anna wins one and loses one (down two), one of hers goes to ben (down, up), ben
    // gets a new one: counts that rise and fall in the same statement.
    await engine.handleMany(
      (
        [
          { type: 'lead.won', lead: 'A1', actor: api },
          { type: 'lead.lost', lead: 'A2', actor: api, reason: 'price' },
          { type: 'lead.reassigned', lead: 'A3', actor: api, owner: 'ben' },
          created('B3', 'ben'),
        ] as EngineEvent[]
      ).map((event, i) => ({ event, at: T0 + 10 + i })),
    );
    expect(await loadsAndTruth(store)).toEqual([{ ben: 4 }, { ben: 4 }]);
  });
});
