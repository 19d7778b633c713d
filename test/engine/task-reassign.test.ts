import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type EventOutcome } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { fireTimers } from '../../src/engine/scheduler.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Handing an open task to someone else (`task.reassigned`): it keeps its due time, its reminders go
 * to the new assignee, it stays theirs when the lead changes owner, and only an open task goes to
 * an active user. On a real SQLite file and a real PostgreSQL.
 */

const PROCESS = `name: Handover
organisation: { timezone: UTC, overdue_after_hours: 2 }
users:
  - { id: anna, name: Anna }
  - { id: ben, name: Ben }
  - { id: carla, name: Carla }
  - { id: dora, name: Dora, active: false }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: qualify
        name: Qualify
        goal: { task_done: call }
        tasks:
          - { id: call, title: Call, kind: call, due: { hours: 4 } }
          - { id: brochure, title: Send brochure, kind: email, due: { days: 1 } }
      - id: close
        name: Close
`;

const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3_600_000;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function accepted(o: EventOutcome): Extract<EventOutcome, { ok: true }> {
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o;
}

describe.each(dialects)('reassigning a task on %s', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    accepted(await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0));
    return { store, engine };
  }

  const taskRow = (store: Store, id: string) =>
    store.db
      .selectFrom('tasks')
      .select(['assignee', 'assignee_rule', 'due_at', 'status'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();

  it('hands the task over with its due time, sends its alerts to the new assignee, and keeps it there when the lead changes owner', async () => {
    const { store, engine } = await setup();
    const before = await taskRow(store, 'L1#1:call');
    expect(before).toMatchObject({ assignee: 'anna', assignee_rule: 'owner' });

    const out = accepted(
      await engine.handle(
        { type: 'task.reassigned', lead: 'L1', task: 'call', assignee: 'ben', actor: { kind: 'user', id: 'mia' } },
        T0 + HOUR,
      ),
    );
    expect(out.savedTasks).toMatchObject([{ id: 'L1#1:call', assignee: 'ben', assigneeRule: 'user' }]);
    expect(out.log.map((l) => l.message)).toContain('task call reassigned from anna to ben by mia');
    expect(await taskRow(store, 'L1#1:call')).toEqual({ ...before, assignee: 'ben', assignee_rule: 'user' });

    // The lead goes to Carla: her owner task follows her, the handed-over one stays with Ben.
    accepted(await engine.handle({ type: 'lead.reassigned', lead: 'L1', owner: 'carla' }, T0 + 2 * HOUR));
    expect((await taskRow(store, 'L1#1:call')).assignee).toBe('ben');
    expect((await taskRow(store, 'L1#1:brochure')).assignee).toBe('carla');

    // Its overdue alert is Ben's (due at +4 h, overdue 2 h later).
    await fireTimers(engine, T0 + 7 * HOUR, 'own-time');
    const alerts = await store.db.selectFrom('outbox').select('payload').where('kind', '=', 'task.overdue').execute();
    expect(alerts.map((a) => (JSON.parse(a.payload) as { user: string }).user)).toEqual(['ben']);
  });

  it('refuses a done task, an unknown user and an inactive one, and writes nothing', async () => {
    const { store, engine } = await setup();
    const refused = async (task: string, assignee: string) => {
      const o = await engine.handle({ type: 'task.reassigned', lead: 'L1', task, assignee }, T0 + HOUR);
      return o.ok ? null : o.error;
    };
    expect(await refused('call', 'zed')).toMatchObject({ code: 'unknown_user' });
    expect(await refused('call', 'dora')).toMatchObject({
      code: 'inactive_user',
      message: 'user "dora" is inactive (active: false in the process); choose an active user',
    });
    expect((await taskRow(store, 'L1#1:call')).assignee).toBe('anna');

    // Calling meets the goal: the brochure task is skipped, the call done; neither can be handed over.
    accepted(await engine.handle({ type: 'task.completed', lead: 'L1', task: 'call' }, T0 + HOUR));
    expect(await refused('L1#1:call', 'ben')).toEqual({
      code: 'task_not_open',
      message: 'task "L1#1:call" is done: only an open task can be reassigned',
    });
    expect(await refused('L1#1:brochure', 'ben')).toMatchObject({ code: 'task_not_open' });
    expect((await taskRow(store, 'L1#1:call')).assignee).toBe('anna');
  });

  it('refuses to hand a lead to an inactive user', async () => {
    const { engine } = await setup();
    const o = await engine.handle({ type: 'lead.reassigned', lead: 'L1', owner: 'dora' }, T0 + HOUR);
    expect(o.ok ? null : o.error.code).toBe('inactive_user');
  });
});
