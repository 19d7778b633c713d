import { afterEach, describe, expect, it } from 'vitest';
import { simulate } from '../../src/simulate.js';
import { taskTimings } from '../../src/store/reports/coaching.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';
import { report } from './scenario-report.js';

/**
 * The adoption report's on-time completion is over process tasks (METRICS.md §1): a task a person
 * added is left out. By hand, for P = [2026-03-02, 2026-03-09), UTC:
 *   L1 call (process)   due 03-03 09:00, done 03-02 12:00  on time  [anna]
 *   L1 adhoc-2          due 03-04 10:00, done 03-05 10:00  late     left out
 *   L1 adhoc-3          due 03-04 11:00, still open        overdue  left out
 *   => 1 task due, 1 on time, rate 1 (counting the ad-hoc ones: 3 due, rate 1/3).
 */

const PROCESS = `name: Adoption ad hoc
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
teams:
  - { id: t1, name: Team One, members: [anna] }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: qualify
        name: Qualify
        tasks: [{ id: call, title: Call, kind: call, due: { days: 1 } }]
      - id: close
        name: Close
`;

const anna = { kind: 'user', id: 'anna' };
const EVENTS = [
  { at: '2026-03-02T09:00:00Z', type: 'lead.created', lead: 'L1', owner: 'anna', fields: { name: 'Acme' } },
  {
    at: '2026-03-02T10:00:00Z',
    type: 'task.added',
    lead: 'L1',
    title: 'Send deck',
    dueAt: '2026-03-04T10:00',
    actor: anna,
  },
  {
    at: '2026-03-02T11:00:00Z',
    type: 'task.added',
    lead: 'L1',
    title: 'Call back',
    dueAt: '2026-03-04T11:00',
    actor: anna,
  },
  { at: '2026-03-02T12:00:00Z', type: 'task.completed', lead: 'L1', task: 'call' },
  { at: '2026-03-05T10:00:00Z', type: 'task.completed', lead: 'L1', task: 'L1#1:adhoc-2' },
];

describe.each(dialects)('adoption and ad-hoc tasks on %s', (dialect) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('counts only process tasks in on-time completion', async () => {
    store = await freshStore(dialect);
    const result = await simulate({
      processText: PROCESS,
      eventsText: EVENTS.map((e) => JSON.stringify(e)).join('\n'),
      store,
    });
    expect(result.rejected).toEqual([]);
    const out = await report(store, 'adoption', '2026-03-20T00:00:00Z', { from: '2026-03-02', to: '2026-03-09' });
    expect(out.rows[0]).toMatchObject({
      tasks_due: 1,
      on_time: 1,
      completed_late: 0,
      overdue_open: 0,
      on_time_rate: 1,
    });
    // Coaching compares the stage tasks (templates) reps complete on time: the added ones are none.
    const timings = await taskTimings(store.db, {
      from: Date.parse('2026-03-02T00:00:00Z'),
      to: Date.parse('2026-03-09T00:00:00Z'),
    });
    expect(timings.map((t) => [t.template, t.due, t.onTime])).toEqual([['call', 1, 1]]);
  });
});
