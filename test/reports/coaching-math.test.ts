import { describe, expect, it } from 'vitest';
import { coachingFigures, rankReps, taskGaps, topQuarter } from '../../src/reports/coaching-math.js';
import type { RepOutcome, StagePassRow, TaskTiming } from '../../src/store/reports/coaching.js';

/** The tasks a coaching plan recommends: where the top reps are on time more often than the rep. */

const at = (assignee: string, template: string, due: number, onTime: number): TaskTiming => ({
  assignee,
  pipeline: 'nb',
  stage: 'proposal',
  template,
  title: template,
  due,
  onTime,
});

describe('taskGaps', () => {
  it("lists only the rep's own tasks that the top reps do on time more often, largest gap first", () => {
    const gaps = taskGaps(
      [
        at('top', 'send-proposal', 10, 9),
        at('rep', 'send-proposal', 10, 4),
        at('top', 'follow-up', 10, 8),
        at('rep', 'follow-up', 10, 7),
        // The rep is as good here: nothing to learn.
        at('top', 'pricing', 10, 5),
        at('rep', 'pricing', 10, 6),
        // Another team's task (a closers' review): the rep never had it, so it is not theirs to improve.
        at('top', 'deal-review', 10, 9),
        at('closer', 'deal-review', 10, 9),
      ],
      'rep',
      ['top'],
      { pipeline: 'nb', stage: 'proposal' },
    );
    expect(gaps.map((g) => [g.template, g.topOnTime, g.repOnTime])).toEqual([
      ['send-proposal', 0.9, 0.4],
      ['follow-up', 0.8, 0.7],
    ]);
  });
});

/** Reps r01..rNN with n closed leads each, r01 winning all of them, each next rep one fewer. */
const ranked = (n: number): RepOutcome[] =>
  Array.from({ length: n }, (_, i) => ({
    owner: `r${String(i + 1).padStart(2, '0')}`,
    won: n - i,
    lost: i,
    wonValue: 1000,
  }));
const firsts = (n: number): string[] => ranked(n).map((o) => o.owner);

describe('topQuarter', () => {
  it('takes floor(n / 4) reps by win rate, and one when there are fewer than four', () => {
    // 31 reps: 7 (31 / 4 = 7.75; an 8th would be beyond the top quarter). 5 reps: 1, not 2 (40 %).
    expect(topQuarter(ranked(31))).toEqual(firsts(7));
    expect(topQuarter(ranked(8))).toEqual(firsts(2));
    expect(topQuarter(ranked(5))).toEqual(['r01']);
    expect(topQuarter(ranked(3))).toEqual(['r01']);
    // Reps with no closed lead are not ranked.
    expect(topQuarter([{ owner: 'idle', won: 0, lost: 0, wonValue: 0 }])).toEqual([]);
  });

  it('ranks by the win rate shrunk towards the team, so one lucky deal does not make the benchmark', () => {
    // The reviewer's five reps (r3 finding 2): r5 won his one closed deal. Team 7 of 16 = 0.4375.
    // Shrunk (won + 4.375) / (closed + 10): r4 (3 + 4.375) / 14 = 0.5268, r5 (1 + 4.375) / 11 =
    // 0.4886, r1 (2 + 4.375) / 14 = 0.4554, r2 5.375 / 14 = 0.3839, r3 4.375 / 13 = 0.3365.
    // Top quarter floor(5 / 4) = 1: r4, not r5 (raw 100 %).
    const five: RepOutcome[] = [
      { owner: 'r1', won: 2, lost: 2, wonValue: 4000 },
      { owner: 'r2', won: 1, lost: 3, wonValue: 2000 },
      { owner: 'r3', won: 0, lost: 3, wonValue: 0 },
      { owner: 'r4', won: 3, lost: 1, wonValue: 12000 },
      { owner: 'r5', won: 1, lost: 0, wonValue: 1000 },
    ];
    expect(rankReps(five)).toEqual(['r4', 'r5', 'r1', 'r2', 'r3']);
    expect(topQuarter(five)).toEqual(['r4']);
    // Many closes outweigh a perfect few: team (9 + 2 + 5) / (10 + 2 + 8) = 0.8; many (9 + 8) / 20
    // = 0.85 ahead of few (2 + 8) / 12 = 0.8333, mid (5 + 8) / 18 = 0.7222.
    expect(
      rankReps([
        { owner: 'few', won: 2, lost: 0, wonValue: 1 },
        { owner: 'many', won: 9, lost: 1, wonValue: 1 },
        { owner: 'mid', won: 5, lost: 3, wonValue: 1 },
      ]),
    ).toEqual(['many', 'few', 'mid']);
  });
});

const pass = (
  owner: string,
  index: number,
  reached: number,
  passed: number,
  passedWon = 0,
  passedClosed = 0,
): StagePassRow => ({
  owner,
  pipeline: 'nb',
  index,
  reached,
  passed,
  passedWon,
  passedClosed,
});

describe('coachingFigures: weakest stage and largest gap', () => {
  it('a rep behind with no won lead past the stage has no weakest stage but a largest gap', () => {
    // Stage 0: top rep 'top' 8 of 10, 'rep' 0 of 10; none of the 8 that got past has closed (w 0).
    const figures = coachingFigures(
      [pass('top', 0, 10, 8), pass('rep', 0, 10, 0)],
      [
        { owner: 'top', won: 1, lost: 0, wonValue: 500 },
        { owner: 'rep', won: 0, lost: 1, wonValue: 0 },
      ],
    );
    const rep = figures.reps.find((r) => r.owner === 'rep');
    // team 8 / 20 = 0.4; shrunk (0 + 4) / 20 = 0.2, the top rep's (8 + 4) / 20 = 0.6; gap 0.4;
    // impact 0 (w = 0).
    expect(rep?.weakest).toBeNull();
    expect(rep?.largestGap).toMatchObject({ index: 0, impact: 0 });
    expect(rep?.largestGap?.gap).toBeCloseTo(0.4, 10);
  });

  it('the largest gap and the weakest stage can differ; no gap above 0 gives neither', () => {
    // Stage 0: rep 2 of 10 vs top 9 of 10, nothing past it closed. Stage 1: rep 5 of 10 vs top 9
    // of 10, all won: a smaller gap, but the only value at stake.
    const figures = coachingFigures(
      [
        pass('top', 0, 10, 9),
        pass('rep', 0, 10, 2),
        pass('top', 1, 10, 9, 9, 9),
        pass('rep', 1, 10, 5, 5, 5),
        pass('even', 1, 10, 7, 7, 7),
      ],
      [
        { owner: 'top', won: 9, lost: 1, wonValue: 9000 },
        { owner: 'rep', won: 5, lost: 5, wonValue: 5000 },
        { owner: 'even', won: 1, lost: 9, wonValue: 1000 },
      ],
    );
    const rep = figures.reps.find((r) => r.owner === 'rep');
    expect(rep?.weakest?.index).toBe(1);
    expect(rep?.largestGap?.index).toBe(0);
    // A rep whose shrunk rate is above the top rate (team 45 / 50: 0.98 against (5 + 9) / 20 = 0.7)
    // is behind nowhere.
    const ahead = coachingFigures(
      [pass('top', 0, 10, 5), pass('star', 0, 40, 40)],
      [
        { owner: 'top', won: 9, lost: 1, wonValue: 9000 },
        { owner: 'star', won: 1, lost: 9, wonValue: 1000 },
      ],
    ).reps.find((r) => r.owner === 'star');
    expect(ahead?.stages.map((s) => s.gap <= 0)).toEqual([true]);
    expect(ahead?.weakest).toBeNull();
    expect(ahead?.largestGap).toBeNull();
  });
});

describe('coachingFigures: a top rep against the best reps but himself, both sides shrunk', () => {
  /** The reviewer's four reps (r3 findings 1): pipeline a > b > c, counts per stage by hand. */
  const passes = [
    // r1: two won via a, b, c; one lost at b; one lost at a.
    pass('r1', 0, 4, 3, 2, 3),
    pass('r1', 1, 3, 2, 2, 2),
    pass('r1', 2, 2, 2, 2, 2),
    // r2: one won; two lost at a; one lost at b.
    pass('r2', 0, 4, 2, 1, 2),
    pass('r2', 1, 2, 1, 1, 1),
    pass('r2', 2, 1, 1, 1, 1),
    // r3: lost at c, at b, at a.
    pass('r3', 0, 3, 2, 0, 2),
    pass('r3', 1, 2, 1, 0, 1),
    pass('r3', 2, 1, 0, 0, 0),
    // r4: three won (4000, 2000, 6000), one lost at c.
    pass('r4', 0, 4, 4, 3, 4),
    pass('r4', 1, 4, 4, 3, 4),
    pass('r4', 2, 4, 3, 3, 3),
  ];
  const outcomes: RepOutcome[] = [
    { owner: 'r1', won: 2, lost: 2, wonValue: 4000 },
    { owner: 'r2', won: 1, lost: 3, wonValue: 2000 },
    { owner: 'r3', won: 0, lost: 3, wonValue: 0 },
    { owner: 'r4', won: 3, lost: 1, wonValue: 12000 },
  ];

  it('the top rep is not behind himself; he is measured against the next best rep', () => {
    // Top quarter of 4: r4 (3 of 4). Team: a 11/15, b 8/11, c 6/8. r4 against r1 (the best but
    // himself), both shrunk: at b r4 (4 + 10 x 8/11) / 14 = 0.8052, r1 (2 + 7.2727) / 13 =
    // 0.7133: gap -0.0919 (it was 1 - 0.8052 = +0.1948 against his own 4/4).
    // At a: r1 (3 + 7.3333) / 14 = 0.7381 - r4 (4 + 7.3333) / 14 = 0.8095 = -0.0714. At c: r1
    // (2 + 7.5) / 12 = 0.7917 - r4 (3 + 7.5) / 14 = 0.75 = +0.0417: r4 lost one of four at c, r1
    // none of two; impact 4 x 0.0417 x w 6/6 x v 4000 = 666.67.
    const f = coachingFigures(passes, outcomes);
    expect(f.topReps).toEqual(['r4']);
    const r4 = f.reps.find((r) => r.owner === 'r4');
    expect(r4?.benchmark).toEqual(['r1']);
    expect(r4?.stages.map((s) => Math.round(s.gap * 10_000) / 10_000)).toEqual([-0.0714, -0.0919, 0.0417]);
    expect(r4?.weakest?.index).toBe(2);
    expect(r4?.weakest?.impact).toBeCloseTo(666.67, 2);
    // Everyone else against r4, shrunk: r2 at a (2 + 7.3333) / 14 = 0.6667 against 0.8095, gap
    // 0.1429, impact 4 x 0.1429 x w 6/11 x v 2000 = 623.38.
    const r2 = f.reps.find((r) => r.owner === 'r2');
    expect(r2?.benchmark).toEqual(['r4']);
    expect(r2?.weakest?.index).toBe(0);
    expect(r2?.weakest?.gap).toBeCloseTo(0.142857, 5);
    expect(r2?.weakest?.impact).toBeCloseTo(623.38, 2);
  });

  it('two reps with the same record are behind no one', () => {
    // A and B 4 of 4 at stage 0, C 0 of 4: team 8/12. A is the top rep (3 of 4 won, ahead of B by
    // id); A against B and B against A: both (4 + 6.6667) / 14 = 0.7619, gap 0. (Against a raw
    // top rate of 4/4, each was 23.8 pp behind.)
    const f = coachingFigures(
      [pass('A', 0, 4, 4, 3, 4), pass('B', 0, 4, 4, 3, 4), pass('C', 0, 4, 0)],
      [
        { owner: 'A', won: 3, lost: 1, wonValue: 3000 },
        { owner: 'B', won: 3, lost: 1, wonValue: 3000 },
        { owner: 'C', won: 0, lost: 4, wonValue: 0 },
      ],
    );
    for (const owner of ['A', 'B']) {
      const rep = f.reps.find((r) => r.owner === owner);
      expect(rep?.stages[0]?.gap).toBeCloseTo(0, 10);
      expect(rep?.largestGap).toBeNull();
    }
  });

  it('the only rep with a closed lead is measured against the team rate', () => {
    // solo 3 of 4, other 1 of 4 with nothing closed: team 4/8; solo's benchmark is empty, top_rate 0.5.
    const f = coachingFigures(
      [pass('solo', 0, 4, 3), pass('other', 0, 4, 1)],
      [{ owner: 'solo', won: 1, lost: 0, wonValue: 1 }],
    );
    const solo = f.reps.find((r) => r.owner === 'solo');
    expect(solo?.benchmark).toEqual([]);
    expect(solo?.stages[0]?.topRate).toBeCloseTo(0.5, 10);
  });
});
