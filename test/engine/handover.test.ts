import { afterEach, describe, expect, it } from 'vitest';
import { Engine, type EventOutcome } from '../../src/engine/engine.js';
import { handOver, HandoverRefused, type HandoverRequest, type SubmitMany } from '../../src/engine/handover.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A leaving rep's open work handed over at once: to one person, or to the assignment rules (which
 * then never give it back to the leaver), with the tasks assigned to them by name on colleagues'
 * leads, while closed leads stay theirs. On a real SQLite file and a real PostgreSQL.
 */

const processWith = (annaActive: boolean, reviewer = 'anna') => `name: Handover
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna, active: ${annaActive} }
  - { id: ben, name: Ben }
  - { id: carla, name: Carla }
  - { id: dora, name: Dora, active: false }
teams:
  - { id: sales, name: Sales, members: [anna, ben, carla] }
assignment:
  default_owner: ben
  rules:
    - { id: everyone, to: { team: sales, strategy: round_robin } }
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
          - { id: review, title: Legal review, kind: todo, due: { days: 2 }, assignee: { user: ${reviewer} } }
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

describe.each(dialects)('handing over a leaving rep’s work on %s', (dialect) => {
  async function setup(): Promise<{
    store: Store;
    engine: Engine;
    run: (r: Partial<HandoverRequest>) => ReturnType<typeof handOver>;
  }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, processWith(true), T0, 'test');
    const engine = new Engine(store);
    // Round robin: L1 anna, L2 ben, L3 carla, L4 anna, L5 ben, L6 carla.
    for (let i = 1; i <= 6; i++)
      accepted(await engine.handle({ type: 'lead.created', lead: `L${i}`, fields: {} }, T0 + i * 1000));
    accepted(await engine.handle({ type: 'lead.won', lead: 'L4' }, T0 + HOUR));
    const submitMany: SubmitMany = (events) => engine.handleMany(events.map((e) => ({ ...e, at: T0 + 2 * HOUR })));
    const run = (r: Partial<HandoverRequest>) =>
      handOver(store, submitMany, {
        from: 'anna',
        target: { kind: 'user', user: 'carla' },
        actor: { kind: 'user', id: 'mia' },
        by: 'mia',
        now: T0 + 2 * HOUR,
        dryRun: false,
        ...r,
      });
    return { store, engine, run };
  }

  const owners = (store: Store) =>
    store.db.selectFrom('leads').select(['id', 'owner', 'status']).orderBy('id').execute();
  const openTasksOf = (store: Store, user: string) =>
    store.db
      .selectFrom('tasks')
      .select('id')
      .where('assignee', '=', user)
      .where('status', '=', 'open')
      .orderBy('id')
      .execute()
      .then((rows) => rows.map((r) => r.id));

  it('gives one person every open lead and open task of the leaver, and leaves closed leads alone', async () => {
    const { store, run } = await setup();
    expect((await owners(store)).filter((l) => l.owner === 'anna').map((l) => l.id)).toEqual(['L1', 'L4']);
    // Anna holds L1's call and every open lead's legal review (L4 is won: its review was skipped).
    expect(await openTasksOf(store, 'anna')).toEqual(
      ['L1#1:call', 'L1#1:review', 'L2#1:review', 'L3#1:review', 'L5#1:review', 'L6#1:review'].sort(),
    );

    const dry = await run({ dryRun: true });
    expect(dry.leads).toEqual([{ lead: 'L1', owner: 'carla' }]);
    expect(dry.tasks).toHaveLength(6);
    expect((await owners(store)).find((l) => l.id === 'L1')?.owner).toBe('anna');

    const done = await run({});
    expect(done.leads).toEqual([{ lead: 'L1', owner: 'carla' }]);
    expect(done.tasks.map((t) => t.task).sort()).toEqual(dry.tasks.map((t) => t.task).sort());
    expect(done.tasks.every((t) => t.assignee === 'carla')).toBe(true);
    expect(done.kept).toEqual([]);
    expect(await openTasksOf(store, 'anna')).toEqual([]);
    expect((await owners(store)).map((l) => [l.id, l.owner])).toEqual([
      ['L1', 'carla'],
      ['L2', 'ben'],
      ['L3', 'carla'],
      ['L4', 'anna'],
      ['L5', 'ben'],
      ['L6', 'carla'],
    ]);
    const audit = await store.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.handover').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'mia', target: 'anna' });
    expect(JSON.parse(audit[0]?.details ?? '{}')).toEqual({ to: 'carla', leads: 1, tasks: 6, kept: 0 });

    // Run again: nothing left, nothing recorded.
    const again = await run({});
    expect([again.leads.length, again.tasks.length, again.kept.length]).toEqual([0, 0, 0]);
    expect(
      await store.db.selectFrom('audit_log').select('id').where('action', '=', 'user.handover').execute(),
    ).toHaveLength(1);
  });

  it('under the rules, refuses while the leaver is active, and then never routes back to them', async () => {
    const { store, run } = await setup();
    await expect(run({ target: { kind: 'rules' } })).rejects.toThrow(/"anna" is active and not out of office/);
    expect((await owners(store)).find((l) => l.id === 'L1')?.owner).toBe('anna');

    await applyProcess(store, processWith(false, 'ben'), T0 + HOUR, 'test');
    const done = await run({ target: { kind: 'rules' } });
    expect(done.leads).toHaveLength(1);
    const l1 = (await owners(store)).find((l) => l.id === 'L1');
    expect(['ben', 'carla']).toContain(l1?.owner);
    // The new version gives new reviews to Ben; the open ones held by Anna go to the lead's own owner; L1's tasks to L1's new owner.
    const byTask = new Map(done.tasks.map((t) => [t.task, t.assignee]));
    expect(byTask.get('L2#1:review')).toBe('ben');
    expect(byTask.get('L3#1:review')).toBe('carla');
    expect(byTask.get('L1#1:call')).toBe(l1?.owner);
    expect(byTask.get('L1#1:review')).toBe(l1?.owner);
    expect(await openTasksOf(store, 'anna')).toEqual([]);
  });

  it('leaves a lead someone else changed meanwhile, saying so, for a second run to judge', async () => {
    const { store, engine } = await setup();
    // Another writer hands L1 to ben between the handover's read and its write.
    const racing: SubmitMany = async (events) => {
      await engine.handle({ type: 'lead.reassigned', lead: 'L1', owner: 'ben' }, T0 + 2 * HOUR);
      return engine.handleMany(events.map((e) => ({ ...e, at: T0 + 2 * HOUR })));
    };
    const done = await handOver(store, racing, {
      from: 'anna',
      target: { kind: 'user', user: 'carla' },
      actor: { kind: 'user', id: 'mia' },
      by: 'mia',
      now: T0 + 2 * HOUR,
      dryRun: false,
    });
    expect(done.leads).toEqual([]);
    expect(done.kept).toContainEqual(
      expect.objectContaining({
        lead: 'L1',
        task: null,
        code: 'stale_version',
        message: expect.stringMatching(/run the handover again/),
      }),
    );
    expect((await owners(store)).find((l) => l.id === 'L1')?.owner).toBe('ben');
  });

  it('refuses an unknown leaver, and the rules when the leaver is the default owner', async () => {
    const { run } = await setup();
    await expect(run({ from: 'zed' })).rejects.toThrow(
      /"zed" is not a user of the process and holds no open leads or tasks/,
    );
    await expect(run({ from: 'ben', target: { kind: 'rules' } })).rejects.toThrow(
      /"ben" is the process's default_owner/,
    );
  });

  it('refuses an inactive, unknown or same person as taker, and changes nothing', async () => {
    const { store, run } = await setup();
    const before = await owners(store);
    await expect(run({ target: { kind: 'user', user: 'dora' } })).rejects.toThrow(HandoverRefused);
    await expect(run({ target: { kind: 'user', user: 'dora' } })).rejects.toThrow(/"dora" is inactive/);
    await expect(run({ target: { kind: 'user', user: 'zed' } })).rejects.toThrow(/"zed" is not a user of the process/);
    await expect(run({ target: { kind: 'user', user: 'anna' } })).rejects.toThrow(/cannot take over their own work/);
    expect(await owners(store)).toEqual(before);
  });
});
