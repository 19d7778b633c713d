import { afterEach, describe, expect, it } from 'vitest';
import { simulate } from '../../src/simulate.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Tasks a person adds, through the real engine and its writer on both databases: the row says it
 * is ad hoc, it survives the stage's goal, the scheduler reminds and alerts as for the stage's
 * tasks, an edit moves the due time, and the close skips what is still open.
 */

const PROCESS = `name: Ad hoc
organisation: { timezone: Europe/Berlin, overdue_after_hours: 2 }
users:
  - { id: anna, name: Anna, email: anna@example.com }
  - { id: ben, name: Ben, email: ben@example.com }
teams:
  - { id: t, name: T, members: [anna, ben] }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: s1
        name: S1
        goal: { task_done: call }
        tasks: [{ id: call, title: Call, kind: call, due: { days: 1 } }]
      - id: s2
        name: S2
`;

const line = (o: object): string => JSON.stringify(o);
const user = (id: string) => ({ kind: 'user', id });

describe.each(dialects)('ad-hoc tasks on %s', (dialect) => {
  let store: Store | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it('are stored as ad hoc, stay open past the goal, get their reminder and alert, and are skipped at close', async () => {
    store = await freshStore(dialect);
    const events = [
      { at: '2026-03-02T09:00:00Z', type: 'lead.created', lead: 'L1', owner: 'anna', fields: { name: 'Acme' } },
      // 10:00 in Berlin on the 3rd is 09:00Z; the edit moves it to 12:00Z on the 4th.
      {
        at: '2026-03-02T10:00:00Z',
        type: 'task.added',
        lead: 'L1',
        title: 'Call Henrik back',
        kind: 'call',
        dueAt: '2026-03-03T10:00',
        note: 'he asked for Tuesday',
        actor: user('ben'),
      },
      { at: '2026-03-02T11:00:00Z', type: 'task.completed', lead: 'L1', task: 'call' },
      {
        at: '2026-03-02T12:00:00Z',
        type: 'task.updated',
        lead: 'L1',
        task: 'L1#1:adhoc-2',
        dueAt: '2026-03-04T12:00:00Z',
        actor: user('ben'),
      },
      { at: '2026-03-05T09:00:00Z', type: 'lead.lost', lead: 'L1', reason: 'no budget' },
    ];
    const result = await simulate({ processText: PROCESS, eventsText: events.map(line).join('\n'), store });
    expect(result.rejected).toEqual([]);
    const row = await store.db
      .selectFrom('tasks')
      .selectAll()
      .where('id', '=', 'L1#1:adhoc-2')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      ad_hoc: 1,
      note: 'he asked for Tuesday',
      assignee: 'ben',
      title: 'Call Henrik back',
      due_at: Date.parse('2026-03-04T12:00:00Z'),
      overdue_at: Date.parse('2026-03-04T14:00:00Z'),
      status: 'skipped',
      skip_reason: 'closed',
    });
    const process = await store.db
      .selectFrom('tasks')
      .select(['id', 'ad_hoc'])
      .where('template', '=', 'call')
      .execute();
    expect(process).toEqual([{ id: 'L1#1:call', ad_hoc: 0 }]);
    // The scheduler fired the reminder and the alert at the edited times (the lead was in s2 by then).
    const outbox = await store.db
      .selectFrom('outbox')
      .select(['kind', 'payload'])
      .where('lead_id', '=', 'L1')
      .where('kind', 'in', ['task.reminder', 'task.overdue'])
      .orderBy('id')
      .execute();
    const adHoc = outbox.filter((o) => o.payload.includes('adhoc-2'));
    expect(adHoc.map((o) => [o.kind, (JSON.parse(o.payload) as { dueAt: number }).dueAt])).toEqual([
      ['task.reminder', Date.parse('2026-03-04T12:00:00Z')],
      ['task.overdue', Date.parse('2026-03-04T12:00:00Z')],
    ]);
    const stays = await store.db
      .selectFrom('stage_stays')
      .select('stage')
      .where('lead_id', '=', 'L1')
      .orderBy('seq')
      .execute();
    expect(stays.map((s) => s.stage)).toEqual(['s1', 's2']);
  });
});
