import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReport, type ReportOutput } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { simulate } from '../../src/simulate.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Coaching's n(s) and x(s) for leads that leave a stage without getting past it (METRICS.md §7:
 * over the leads that left s in the window), and the plan of a rep who is behind the top reps with
 * no value at stake yet. Every figure is worked out by hand from the events below (UTC).
 */

const PROCESS = `
name: Coaching exits
organisation: { timezone: UTC, currency: EUR }
users:
  - { id: r1, name: Rep One }
  - { id: r2, name: Rep Two }
teams:
  - { id: sales, name: Sales, manager: r1, members: [r1, r2] }
assignment:
  default_owner: r1
  rules:
    - { id: to-r2, when: { field: rep, eq: r2 }, to: { user: r2 } }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: a, name: A }
      - { id: b, name: B }
      - { id: c, name: C }
      - { id: d, name: D }
  - id: ren
    name: Renewals
    stages:
      - { id: review, name: Review }
`;

const ev = (at: string, type: string, lead: string, rest: Record<string, unknown> = {}): string =>
  JSON.stringify({ at: `2026-${at}T12:00:00Z`, type, lead, ...rest });
const created = (at: string, lead: string, rep: string, value = 1000): string =>
  ev(at, 'lead.created', lead, { fields: { rep, value } });
const moved = (at: string, lead: string, stage: string, pipeline?: string): string =>
  ev(at, 'lead.moved', lead, pipeline === undefined ? { stage } : { stage, pipeline });

const EVENTS = [
  // January, the reviewer's case: L1 leaves C backwards and is lost in B; L2 is lost in C.
  created('01-02', 'L1', 'r1'),
  created('01-02', 'L2', 'r1'),
  moved('01-03', 'L1', 'b'),
  moved('01-03', 'L2', 'b'),
  moved('01-04', 'L1', 'c'),
  moved('01-04', 'L2', 'c'),
  moved('01-05', 'L1', 'b'),
  ev('01-06', 'lead.lost', 'L1', { reason: 'price' }),
  ev('01-06', 'lead.lost', 'L2', { reason: 'price' }),
  created('01-07', 'L3', 'r2', 5000),
  moved('01-08', 'L3', 'd'),
  ev('01-09', 'lead.won', 'L3'),
  // March: the other ways out of a stage, and ways back into it.
  created('03-02', 'M4', 'r1'), // a, b, c, back to b, c again: open in C
  created('03-02', 'M5', 'r1'), // a, b, back to a: open in A
  created('03-02', 'M6', 'r1'), // a, then to the renewals pipeline: open there
  created('03-02', 'M7', 'r2'), // a, b, c, back to b, c, d, won
  created('03-02', 'M8', 'r1'), // a, b, c, back to b; past C only in April
  created('03-02', 'M9', 'r2'), // a, b, c, and in one millisecond back to b and into c again
  moved('03-03', 'M4', 'b'),
  moved('03-03', 'M5', 'b'),
  moved('03-03', 'M7', 'b'),
  moved('03-03', 'M8', 'b'),
  moved('03-03', 'M9', 'b'),
  moved('03-04', 'M4', 'c'),
  moved('03-04', 'M6', 'review', 'ren'),
  moved('03-04', 'M7', 'c'),
  moved('03-04', 'M8', 'c'),
  moved('03-05', 'M4', 'b'),
  moved('03-05', 'M5', 'a'),
  moved('03-05', 'M7', 'b'),
  moved('03-06', 'M4', 'c'),
  moved('03-06', 'M7', 'c'),
  moved('03-06', 'M9', 'c'),
  moved('03-06', 'M9', 'b'),
  moved('03-06', 'M9', 'c'),
  moved('03-07', 'M7', 'd'),
  ev('03-08', 'lead.won', 'M7'),
  moved('03-10', 'M8', 'b'),
  moved('04-05', 'M8', 'c'),
  moved('04-06', 'M8', 'd'),
  // May: nobody has won anything, and Rep Two is behind at A (the reviewer's second case).
  created('05-05', 'P1', 'r1'),
  created('05-05', 'P2', 'r1'),
  created('05-05', 'P3', 'r1'),
  created('05-05', 'Q1', 'r2'),
  created('05-05', 'Q2', 'r2'),
  moved('05-06', 'P1', 'b'),
  moved('05-06', 'P2', 'b'),
  ev('05-06', 'lead.lost', 'P3', { reason: 'x' }),
  ev('05-06', 'lead.lost', 'Q1', { reason: 'x' }),
  ev('05-06', 'lead.lost', 'Q2', { reason: 'x' }),
  // July: the same, but W (in B since June) is won from B, so there is a won value: what is
  // missing is a won lead among those that got past A.
  created('06-20', 'W', 'r1'),
  moved('06-21', 'W', 'b'),
  created('07-05', 'S1', 'r1'),
  created('07-05', 'S2', 'r1'),
  created('07-05', 'S3', 'r1'),
  created('07-05', 'T1', 'r2'),
  created('07-05', 'T2', 'r2'),
  moved('07-06', 'S1', 'b'),
  moved('07-06', 'S2', 'b'),
  ev('07-06', 'lead.lost', 'S3', { reason: 'x' }),
  ev('07-06', 'lead.lost', 'T1', { reason: 'x' }),
  ev('07-06', 'lead.lost', 'T2', { reason: 'x' }),
  ev('07-07', 'lead.won', 'W'),
].join('\n');

const NOW = Date.parse('2026-08-01T00:00:00Z');

describe.each(dialects)('coaching on leads that leave a stage without getting past it (%s)', (dialect) => {
  let store: Store;
  const coaching = (from: string, to: string, owner?: string): Promise<ReportOutput> =>
    runReport(store, { name: 'coaching', from, to, now: NOW, options: owner === undefined ? {} : { owner } });
  const counts = (out: ReportOutput): (string | number | null)[][] =>
    out.rows.map((r) => [r['pipeline'] as string, r['stage_id'] as string, r['n'] as number, r['x'] as number]);

  beforeAll(async () => {
    store = await freshStore(dialect);
    const sim = await simulate({ processText: PROCESS, eventsText: EVENTS, store });
    expect(sim.rejected).toEqual([]);
  });
  afterAll(() => store.close());

  it('a lead moved back out of C and lost in B is a failure at C', async () => {
    // Rep One at C: L1 (left backwards 01-05) and L2 (lost in C): n 2, x 0. Team at C: L3 too
    // (skipped to D), n 3, x 1, c_t = 1/3. Top quarter: Rep Two (1 of 1 won, L3 passed C), c_top(C)
    // shrunk like the rep's: (1 + 10/3) / 11 = 0.3939. Rep One (0 + 10/3) / 12 = 0.2778, gap
    // 0.1162, impact 2 x 0.116162 x w 1 x v 5000 (the team's mean, Rep One won nothing) = 1,161.62.
    const out = await coaching('2026-01-01', '2026-02-01', 'r1');
    expect(out.rows.find((r) => r['stage_id'] === 'c')).toMatchObject({
      n: 2,
      x: 0,
      shrunk_rate: 0.2778,
      team_rate: 0.3333,
      top_rate: 0.3939,
      gap: 0.1162,
      impact: 1161.62,
    });
    expect(out.summary).toMatchObject({ weakest_stage_id: 'c', gap: 0.1162, impact: 1161.62 });
  });

  it('moving back or to another pipeline is a failure; a lead back in the stage, or past it later, is not yet', async () => {
    // Rep One in March. A: M4, M5, M8 got past it, M6 left it for renewals: n 4, x 3. B: M4 and
    // M8 got past it, M5 went back to A: n 3, x 2. C: M4 is in C again, M8 got past C only in
    // April: nothing. Renewals: M6 is still in Review.
    expect(counts(await coaching('2026-03-01', '2026-04-01', 'r1'))).toEqual([
      ['nb', 'a', 4, 3],
      ['nb', 'b', 3, 2],
    ]);
    // Rep Two: M7 counts once at C although it left C twice (back on 03-05, past it on 03-07);
    // M9 left C and came back in the same millisecond, so it is in C now: not counted there.
    expect(counts(await coaching('2026-03-01', '2026-04-01', 'r2'))).toEqual([
      ['nb', 'a', 2, 2],
      ['nb', 'b', 2, 2],
      ['nb', 'c', 1, 1],
      ['nb', 'd', 1, 1],
    ]);
    // M8 counts at C where it left C for good: April, as a pass.
    expect(counts(await coaching('2026-04-01', '2026-05-01', 'r1'))).toEqual([['nb', 'c', 1, 1]]);
  });

  it('behind with nothing won at all: the plan names the largest gap, with no value at stake', async () => {
    // May: Rep Two n 2, x 0 at A; team n 5, x 2 (c_t 0.4); the top rep is Rep One (P3 lost, 0 of
    // 1, ahead of Rep Two's 0 of 2 by id), n 3, x 2, c_top shrunk (2 + 4) / 13 = 0.4615; Rep Two
    // shrunk 4/12 = 0.3333, gap 0.1282. Nothing was won, so v = 0 and every impact is 0.
    const out = await coaching('2026-05-01', '2026-05-10', 'r2');
    expect(out.rows.map((r) => [r['stage_id'], r['gap'], r['impact']])).toEqual([['a', 0.1282, 0]]);
    expect(out.summary).toMatchObject({
      weakest_stage: null,
      impact: 0,
      largest_gap_pipeline: 'nb',
      largest_gap_stage: 'A',
      largest_gap_stage_id: 'a',
      largest_gap: 0.1282,
    });
    expect(out.notes?.at(-1)).toBe(
      'Rep Two is behind the top reps at A by 12.8 pp, but no value is at stake there yet: nothing was won in this window to weigh it by',
    );
  });

  it('behind with no won lead past the stage yet: named too, in the plan and in the manager view', async () => {
    // July: as in May, but W is won from B on 07-07 (v = 1000 for everyone): w_t(A) is 0, as S1
    // and S2, the leads that got past A, are open. Rep One (W won, S3 lost: 1 of 2) is the top rep;
    // Rep Two against him at A: 0.4615 - 0.3333 = 0.1282. Rep One, against Rep Two (the best rep
    // but himself): at A 0.3333 - 0.4615 < 0; at B (W, won) Rep Two has no lead, so the team's
    // 1 against (1 + 10) / 11 = 1: gap 0. Behind nowhere (against his own leads, 20.5 pp at A).
    const plan = await coaching('2026-07-01', '2026-07-10', 'r2');
    expect(plan.summary).toMatchObject({ weakest_stage: null, largest_gap_stage_id: 'a', largest_gap: 0.1282 });
    expect(plan.notes?.at(-1)).toBe(
      'Rep Two is behind the top reps at A by 12.8 pp, but no value is at stake there yet: none of the leads that got past it has been won yet',
    );
    const manager = await coaching('2026-07-01', '2026-07-10');
    expect(manager.rows.map((r) => [r['owner_id'], r['weakest_stage'], r['impact']])).toEqual([
      ['r1', null, 0],
      ['r2', null, 0],
    ]);
    expect(manager.notes?.at(-1)).toBe(
      'behind the top reps with no value at stake yet (nothing won past the stage, or nothing won to weigh it by), so no weakest stage: Rep Two at A by 12.8 pp',
    );
  });

  it('"no stage behind the top reps" only when no gap is above 0', async () => {
    // April, Rep One: M8 got past C, the only lead that left a stage; no one closed a lead, so
    // there are no top reps and C's top rate is the team's: gap 0.
    const out = await coaching('2026-04-01', '2026-05-01', 'r1');
    expect(out.rows.map((r) => [r['stage_id'], r['gap']])).toEqual([['c', 0]]);
    expect(out.summary).toMatchObject({ weakest_stage: null, largest_gap_stage: null, largest_gap: null });
    expect(out.notes?.at(-1)).toBe('Rep One has no stage behind the top reps in this window');
  });
});
