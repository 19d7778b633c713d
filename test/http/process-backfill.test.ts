import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';

/**
 * The API's process diff and apply take `backfillTasks`, as the CLI's --backfill-tasks: the
 * open leads already in a stage that gains a task get it on apply, and the diff says so first.
 */

/** Stage "new" gains a research task due a day after the apply. */
const V2 = TEST_PROCESS.replace(
  '          - { id: first-call, title: First call, kind: call, due: { hours: 4 } }',
  '          - { id: first-call, title: First call, kind: call, due: { hours: 4 } }\n          - { id: research, title: Research, kind: todo, due: { days: 1 } }',
);

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('process backfill over HTTP on %s', (dialect) => {
  async function openTaskTemplates(server: TestServer, token: string, lead: string): Promise<string[]> {
    const r = await call(server, 'GET', `/api/v1/leads/${lead}`, { token });
    expect(r.status).toBe(200);
    return (r.body as { openTasks: { template: string }[] }).openTasks.map((t) => t.template).sort();
  }

  it('diff says what the open leads get; apply with backfillTasks creates the task, without it does not', async () => {
    expect(V2).not.toBe(TEST_PROCESS);
    for (const backfill of [true, false]) {
      const server = await startServer(dialect);
      servers.push(server);
      const admin = await tokenFor(server, 'admin');
      const lead = await leadOf(server, admin, 'rep-a1');
      expect(await openTaskTemplates(server, admin, lead)).toEqual(['first-call']);

      const diff = await call(server, 'POST', '/api/v1/process/diff', {
        token: admin,
        body: { source: V2, backfillTasks: backfill },
      });
      expect(diff.status).toBe(200);
      const inFlight = (diff.body as { inFlight: string[] }).inFlight.join('\n');
      expect(inFlight).toContain('gains task "research"');
      expect(inFlight).toContain(backfill ? 'created for the 1 open lead' : 'new task not created');

      server.clock.now += 3_600_000;
      const applied = await call(server, 'POST', '/api/v1/process', {
        token: admin,
        body: { source: V2, backfillTasks: backfill },
      });
      expect(applied.status).toBe(201);
      expect((applied.body as { backfilledTasks: number }).backfilledTasks).toBe(backfill ? 1 : 0);
      // No threshold changed: nothing rescheduled, and the API says so as the CLI does.
      expect((applied.body as { rescheduled: unknown }).rescheduled).toEqual({ stays: 0, tasks: 0 });
      expect(await openTaskTemplates(server, admin, lead)).toEqual(
        backfill ? ['first-call', 'research'] : ['first-call'],
      );
    }
  });

  it('refuses a backfillTasks that is not a boolean, naming the field', async () => {
    const server = await startServer(dialect);
    servers.push(server);
    const admin = await tokenFor(server, 'admin');
    const r = await call(server, 'POST', '/api/v1/process', {
      token: admin,
      body: { source: V2, backfillTasks: 'yes' },
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain('backfillTasks');
  });
});
