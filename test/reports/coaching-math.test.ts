import { describe, expect, it } from 'vitest';
import { taskGaps } from '../../src/reports/coaching-math.js';
import type { TaskTiming } from '../../src/store/reports/coaching.js';

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
