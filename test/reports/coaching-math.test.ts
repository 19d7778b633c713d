import { describe, expect, it } from 'vitest';
import { coachingFigures, taskGaps, topQuarter } from '../../src/reports/coaching-math.js';
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
    // team 8 / 20 = 0.4; shrunk (0 + 4) / 20 = 0.2; gap 0.8 - 0.2 = 0.6; impact 0 (w = 0).
    expect(rep?.weakest).toBeNull();
    expect(rep?.largestGap).toMatchObject({ index: 0, impact: 0 });
    expect(rep?.largestGap?.gap).toBeCloseTo(0.6, 10);
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
    // A rep whose shrunk rate is above the top rate (0.98 against 0.5) is behind nowhere.
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
