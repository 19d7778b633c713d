import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type EventOutcome } from '../../src/engine/engine.js';
import { handOver, type SubmitMany } from '../../src/engine/handover.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Under `user handover --rules`, a task the stage gives to a team by rotation goes round that team
 * again (a leaving solutions engineer's demo prep goes to another engineer, not to the rep who owns
 * the lead), while a task someone was given by name goes to the lead's owner. On a real SQLite file
 * and a real PostgreSQL.
 */

const processWith = (samActive: boolean) => `name: Team tasks
organisation: { timezone: UTC }
users:
  - { id: rita, name: Rita }
  - { id: sam, name: Sam, active: ${samActive} }
  - { id: sue, name: Sue }
  - { id: sid, name: Sid }
teams:
  - { id: se, name: Solutions engineers, members: [sam, sue, sid] }
assignment:
  default_owner: rita
  rules:
    - { id: all, to: { user: rita } }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: demo
        name: Demo
        goal: { task_done: run }
        tasks:
          - { id: prep, title: Prepare the demo, kind: todo, due: { days: 1 }, assignee: { team: se } }
          - { id: run, title: Run the demo, kind: demo, due: { days: 3 } }
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

describe.each(dialects)('handing over team tasks by the rules on %s', (dialect) => {
  it('sends a rotation task round its team and a named task to the lead owner', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, processWith(true), T0, 'test');
    const engine = new Engine(store);
    // Rotation over sam, sue, sid: L1 and L4 prep for sam.
    for (let i = 1; i <= 6; i++)
      accepted(await engine.handle({ type: 'lead.created', lead: `L${i}`, fields: {} }, T0 + i * 1000));
    // Sam is also given L2's run by name.
    accepted(await engine.handle({ type: 'task.reassigned', lead: 'L2', task: 'run', assignee: 'sam' }, T0 + HOUR));
    const assignee = async (task: string) =>
      (await store.db.selectFrom('tasks').select('assignee').where('id', '=', task).executeTakeFirstOrThrow()).assignee;
    expect(await assignee('L1#1:prep')).toBe('sam');
    expect(await assignee('L4#1:prep')).toBe('sam');

    await applyProcess(store, processWith(false), T0 + HOUR, 'test');
    const at = T0 + 2 * HOUR;
    const submitMany: SubmitMany = (events) => engine.handleMany(events.map((e) => ({ ...e, at })));
    const request = {
      from: 'sam',
      target: { kind: 'rules' } as const,
      actor: { kind: 'user' as const, id: 'mia' },
      by: 'mia',
      now: at,
    };

    const dry = await handOver(store, submitMany, { ...request, dryRun: true });
    // Which engineer takes a rotation task is known only once the engine turns the rotation.
    expect(dry.tasks.map((t) => [t.task, t.assignee])).toEqual([
      ['L1#1:prep', null],
      ['L2#1:run', 'rita'],
      ['L4#1:prep', null],
    ]);

    const done = await handOver(store, submitMany, { ...request, dryRun: false });
    expect(done.kept).toEqual([]);
    const taken = new Map(done.tasks.map((t) => [t.task, t.assignee]));
    expect(taken.get('L2#1:run')).toBe('rita');
    // The two demo preps go to the other engineers, one each, never to Rita who owns the leads.
    expect([taken.get('L1#1:prep'), taken.get('L4#1:prep')].sort()).toEqual(['sid', 'sue']);
    expect(await assignee('L1#1:prep')).toBe(taken.get('L1#1:prep'));
    const rule = await store.db
      .selectFrom('tasks')
      .select(['id', 'assignee_rule'])
      .where('id', 'in', ['L1#1:prep', 'L2#1:run'])
      .orderBy('id')
      .execute();
    // The prep is still the team's task, so a later handover turns the rotation again; the run was
    // handed to Rita by name.
    expect(rule.map((r) => r.assignee_rule)).toEqual(['team', 'user']);
    const why = await store.db
      .selectFrom('run_log')
      .select('message')
      .where('lead_id', '=', 'L1')
      .where('message', 'like', '%reassigned from sam%')
      .execute();
    expect(why.map((r) => r.message)).toEqual([`task prep reassigned from sam to ${taken.get('L1#1:prep')} by mia`]);
  });

  it('refuses an unnamed reassignment nobody can take, naming the task, and changes nothing', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, processWith(true), T0, 'test');
    const engine = new Engine(store);
    accepted(await engine.handle({ type: 'lead.created', lead: 'L1', fields: {} }, T0));
    // Every engineer and the lead's owner leave; the team has no manager.
    const gone = processWith(false)
      .replace('{ id: rita, name: Rita }', '{ id: rita, name: Rita, active: false }\n  - { id: boss, name: Boss }')
      .replace('{ id: sue, name: Sue }', '{ id: sue, name: Sue, active: false }')
      .replace('{ id: sid, name: Sid }', '{ id: sid, name: Sid, active: false }')
      .replace('default_owner: rita', 'default_owner: boss')
      .replace('to: { user: rita }', 'to: { user: boss }');
    await applyProcess(store, gone, T0 + HOUR, 'test');
    const out = await engine.handle({ type: 'task.reassigned', lead: 'L1', task: 'prep' }, T0 + 2 * HOUR);
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error.code).toBe('no_assignee');
    expect(out.error.message).toContain('L1#1:prep');
    const task = await store.db.selectFrom('tasks').select('assignee').where('id', '=', 'L1#1:prep').executeTakeFirst();
    expect(task?.assignee).toBe('sam');
  });
});
