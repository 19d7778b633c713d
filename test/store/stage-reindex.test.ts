import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess, loadProcessText } from '../../src/engine/process-service.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { stageReindexes } from '../../src/store/stage-reindex.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A version that inserts, reorders or removes stages re-indexes the pipeline's history on apply
 * (src/store/stage-reindex.ts): stays of open and closed leads alike carry the current positions,
 * the lead rows' stage and furthest index follow, and the reports that compare positions (funnel,
 * the forecast's historical probabilities) read the same history the same way before and after.
 */

const processWith = (stages: readonly string[]): string => `name: Reindex
organisation: { timezone: UTC }
users:
  - { id: r1, name: Rep One }
assignment: { default_owner: r1 }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
${stages.map((s) => `      - { id: ${s}, name: ${s.toUpperCase()} }`).join('\n')}
  - id: ren
    name: Renewals
    stages:
      - { id: x, name: X }
      - { id: y, name: Y }
`;

const at = (iso: string): number => Date.parse(iso);
const NOW = at('2026-01-20T00:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('stageReindexes', () => {
  it('maps kept stages by id, removed ones to the nearest kept stage before them, and nothing when only appended', () => {
    const v = (stages: string[]) => loadProcessText(processWith(stages));
    expect(stageReindexes(v(['a', 'b', 'c']), v(['a', 'b', 'c', 'd']))).toEqual([]);
    expect(stageReindexes(null, v(['a']))).toEqual([]);
    expect(stageReindexes(v(['a', 'b', 'c', 'd']), v(['b', 'n', 'd']))).toEqual([
      {
        pipeline: 'nb',
        byStage: [
          ['b', 0],
          ['n', 1],
          ['d', 2],
          ['a', -1],
          ['c', 0],
        ],
        // Positions of the current version: 0 (a) none kept before, 1 (b) 0, 2 (c) b's 0, 3 (d) 2.
        byPosition: [
          [0, -1],
          [1, 0],
          [2, 0],
          [3, 2],
        ],
      },
    ]);
  });
});

describe.each(dialects)('stage re-index on process apply (%s)', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, processWith(['a', 'b', 'c', 'd']), at('2026-01-01T00:00:00Z'), 'test');
    const engine = new Engine(store);
    const ok = async (e: Parameters<Engine['handle']>[0], iso: string): Promise<void> => {
      const out = await engine.handle(e, at(iso));
      expect(out.ok, JSON.stringify(out)).toBe(true);
    };
    // W1, W2 lost in b; W3, W4 won from c; OB open in b (10,000, closing in January); X went on
    // from nb's b to the renewals pipeline.
    for (const lead of ['W1', 'W2', 'W3', 'W4', 'X']) {
      await ok({ type: 'lead.created', lead, owner: 'r1', fields: { value: 1000 } }, '2026-01-05T00:00:00Z');
      await ok({ type: 'lead.moved', lead, stage: 'b', override: false }, '2026-01-06T00:00:00Z');
    }
    for (const lead of ['W1', 'W2']) await ok({ type: 'lead.lost', lead, reason: 'x' }, '2026-01-07T00:00:00Z');
    for (const lead of ['W3', 'W4']) {
      await ok({ type: 'lead.moved', lead, stage: 'c', override: false }, '2026-01-08T00:00:00Z');
      await ok({ type: 'lead.won', lead }, '2026-01-09T00:00:00Z');
    }
    await ok({ type: 'lead.moved', lead: 'X', stage: 'x', pipeline: 'ren', override: false }, '2026-01-09T00:00:00Z');
    await ok(
      { type: 'lead.created', lead: 'OB', owner: 'r1', fields: { value: 10000, expected_close: '2026-01-30' } },
      '2026-01-10T00:00:00Z',
    );
    await ok({ type: 'lead.moved', lead: 'OB', stage: 'b', override: false }, '2026-01-10T00:00:00Z');
    return { store, engine };
  }

  /** Each lead's stays as stage:index in order, then its row's stage:index and furthest index. */
  async function indices(store: Store): Promise<Record<string, string>> {
    const stays = await store.db
      .selectFrom('stage_stays')
      .select(['lead_id', 'pipeline', 'stage', 'stage_index'])
      .orderBy('lead_id')
      .orderBy('seq')
      .execute();
    const leads = await store.db
      .selectFrom('leads')
      .select(['id', 'stage', 'stage_index', 'furthest_index'])
      .orderBy('id')
      .execute();
    return Object.fromEntries(
      leads.map((l) => [
        l.id,
        [
          ...stays.filter((s) => s.lead_id === l.id).map((s) => `${s.stage}:${s.stage_index}`),
          `| ${l.stage}:${l.stage_index} furthest ${l.furthest_index}`,
        ].join(' '),
      ]),
    );
  }

  async function probabilities(store: Store): Promise<[string, number | null, number | null][]> {
    const out = await runReport(store, { name: 'forecast', options: { period: '2026-01' }, now: NOW });
    const rows = out.summary?.['probabilities'] as {
      pipeline: string;
      stage: string;
      probability: number | null;
      closed_leads: number | null;
    }[];
    return rows.filter((r) => r.pipeline === 'nb').map((r) => [r.stage, r.probability, r.closed_leads]);
  }

  async function weighted(store: Store): Promise<unknown> {
    return (await runReport(store, { name: 'forecast', options: { period: '2026-01' }, now: NOW })).summary?.[
      'weighted'
    ];
  }

  async function reached(store: Store): Promise<[string, number][]> {
    const out = await runReport(store, {
      name: 'funnel',
      from: '2026-01-01',
      to: '2026-02-01',
      pipeline: 'nb',
      now: NOW,
    });
    return out.rows.map((r) => [String(r['stage_id']), Number(r['reached'])]);
  }

  it('inserting, reordering and removing stages keeps stays, reach and the reports on the current positions', async () => {
    const { store, engine } = await setup();
    expect(await indices(store)).toEqual({
      OB: 'a:0 b:1 | b:1 furthest 1',
      W1: 'a:0 b:1 | b:1 furthest 1',
      W2: 'a:0 b:1 | b:1 furthest 1',
      W3: 'a:0 b:1 c:2 | c:2 furthest 2',
      W4: 'a:0 b:1 c:2 | c:2 furthest 2',
      X: 'a:0 b:1 x:0 | x:0 furthest 0',
    });
    // Closed: W1, W2 (reached b), W3, W4 (reached c, won).
    expect(await probabilities(store)).toEqual([
      ['A', 0.5, 4],
      ['B', 0.5, 4],
      ['C', 1, 2],
      ['D', null, 0],
    ]);
    expect(await weighted(store)).toBe(5000);
    expect(await reached(store)).toEqual([
      ['a', 6],
      ['b', 6],
      ['c', 2],
      ['d', 0],
    ]);

    // n inserted between a and b: every stay at b or beyond moves up one, closed leads' too.
    const inserted = await applyProcess(store, processWith(['a', 'n', 'b', 'c', 'd']), at('2026-01-12T00:00:00Z'), 't');
    expect(inserted.reindexed).toEqual({ stays: 8, leads: 6 });
    expect(await indices(store)).toEqual({
      OB: 'a:0 b:2 | b:2 furthest 2',
      W1: 'a:0 b:2 | b:2 furthest 2',
      W2: 'a:0 b:2 | b:2 furthest 2',
      W3: 'a:0 b:2 c:3 | c:3 furthest 3',
      W4: 'a:0 b:2 c:3 | c:3 furthest 3',
      X: 'a:0 b:2 x:0 | x:0 furthest 0',
    });
    // The same history: B 50% of 4 and C 100% of 2 as before (not 100% and none); the new stage
    // counts as passed by the leads that got beyond it, as a skipped stage does.
    expect(await probabilities(store)).toEqual([
      ['A', 0.5, 4],
      ['N', 0.5, 4],
      ['B', 0.5, 4],
      ['C', 1, 2],
      ['D', null, 0],
    ]);
    expect(await weighted(store)).toBe(5000);
    expect(await reached(store)).toEqual([
      ['a', 6],
      ['n', 6],
      ['b', 6],
      ['c', 2],
      ['d', 0],
    ]);

    // Reordered: n after b. An open lead moved afterwards has its stays on the new positions too.
    await applyProcess(store, processWith(['a', 'b', 'n', 'c', 'd']), at('2026-01-13T00:00:00Z'), 't');
    expect(
      (await engine.handle({ type: 'lead.moved', lead: 'OB', stage: 'n', override: false }, at('2026-01-14T00:00:00Z')))
        .ok,
    ).toBe(true);
    expect(await indices(store)).toEqual({
      OB: 'a:0 b:1 n:2 | n:2 furthest 2',
      W1: 'a:0 b:1 | b:1 furthest 1',
      W2: 'a:0 b:1 | b:1 furthest 1',
      W3: 'a:0 b:1 c:3 | c:3 furthest 3',
      W4: 'a:0 b:1 c:3 | c:3 furthest 3',
      X: 'a:0 b:1 x:0 | x:0 furthest 0',
    });
    expect(await probabilities(store)).toEqual([
      ['A', 0.5, 4],
      ['B', 0.5, 4],
      ['N', 1, 2],
      ['C', 1, 2],
      ['D', null, 0],
    ]);

    // a and c removed (no open lead in either): c's stays go to n, the kept stage before it;
    // a's to -1, as no stage is kept before it. OB in n is weighted at n's 100%.
    await applyProcess(store, processWith(['b', 'n', 'd']), at('2026-01-15T00:00:00Z'), 't');
    expect(await indices(store)).toEqual({
      OB: 'a:-1 b:0 n:1 | n:1 furthest 1',
      W1: 'a:-1 b:0 | b:0 furthest 0',
      W2: 'a:-1 b:0 | b:0 furthest 0',
      W3: 'a:-1 b:0 c:1 | c:1 furthest 1',
      W4: 'a:-1 b:0 c:1 | c:1 furthest 1',
      X: 'a:-1 b:0 x:0 | x:0 furthest 0',
    });
    expect(await probabilities(store)).toEqual([
      ['B', 0.5, 4],
      ['N', 1, 2],
      ['D', null, 0],
    ]);
    expect(await weighted(store)).toBe(10000);

    // Then n before b: the removed stages' stays follow the positions they were given (c's was
    // n's, a's none), by position since neither version has them.
    await applyProcess(store, processWith(['n', 'b', 'd']), at('2026-01-16T00:00:00Z'), 't');
    expect(await indices(store)).toEqual({
      OB: 'a:-1 b:1 n:0 | n:0 furthest 1',
      W1: 'a:-1 b:1 | b:1 furthest 1',
      W2: 'a:-1 b:1 | b:1 furthest 1',
      W3: 'a:-1 b:1 c:0 | c:0 furthest 1',
      W4: 'a:-1 b:1 c:0 | c:0 furthest 1',
      X: 'a:-1 b:1 x:0 | x:0 furthest 0',
    });
    expect(await reached(store)).toEqual([
      ['n', 6],
      ['b', 6],
      ['d', 0],
    ]);
  });

  it('a version that only appends a stage or changes no position writes no stay', async () => {
    const { store } = await setup();
    const before = await indices(store);
    const appended = await applyProcess(store, processWith(['a', 'b', 'c', 'd', 'e']), at('2026-01-12T00:00:00Z'), 't');
    expect(appended.reindexed).toEqual({ stays: 0, leads: 0 });
    expect(await indices(store)).toEqual(before);
  });
});
