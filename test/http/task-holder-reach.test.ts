import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * A task handed to a rep on a colleague's lead is work they must be able to do: while they hold an
 * open task on it they read the lead (its contact, activities, timeline, stays) and log activities
 * on it, but the lead stays its owner's to change (review r6, finding 3).
 */

interface Lead {
  openTasks: { id: string; template: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('a task holder and the lead (%s)', (dialect) => {
  it('reads the lead and logs an activity while the task is open, and manages nothing', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const helper = await tokenFor(s, 'rep-b1');
    const other = await tokenFor(s, 'rep-b2');
    const id = await leadOf(s, admin, 'rep-a1');
    const lead = (await call(s, 'GET', `/api/v1/leads/${id}`, { token: admin })).body as Lead;
    const task = lead.openTasks.find((t) => t.template === 'first-call');
    expect(task).toBeDefined();
    const taskPath = `/api/v1/tasks/${encodeURIComponent(task!.id)}`;

    const reads = [`/leads/${id}`, `/leads/${id}/activities`, `/leads/${id}/timeline`, `/leads/${id}/stays`];
    for (const path of reads)
      expect((await call(s, 'GET', `/api/v1${path}`, { token: helper })).status, path).toBe(404);

    const handed = await call(s, 'POST', `${taskPath}/reassign`, { token: admin, body: { assignee: 'rep-b1' } });
    expect(handed.status, handed.text).toBe(200);

    for (const path of reads) {
      const r = await call(s, 'GET', `/api/v1${path}`, { token: helper });
      expect(r.status, `${path} ${r.text}`).toBe(200);
    }
    const logged = await call(s, 'POST', `/api/v1/leads/${id}/activities`, {
      token: helper,
      body: { kind: 'call', note: 'covered for Anna' },
    });
    expect(logged.status, logged.text).toBe(201);
    // Only the holder: a teammate without a task still gets 404.
    expect((await call(s, 'GET', `/api/v1/leads/${id}`, { token: other })).status).toBe(404);
    // Working is not managing: editing, moving and signals stay the owner's.
    const patch = await call(s, 'PATCH', `/api/v1/leads/${id}`, {
      token: helper,
      headers: { 'if-match': '*' },
      body: { fields: { value: 5 } },
    });
    expect(patch.status).toBe(404);
    expect(
      (await call(s, 'POST', `/api/v1/leads/${id}/move`, { token: helper, body: { stage: 'proposal' } })).status,
    ).toBe(404);
    expect((await call(s, 'POST', `/api/v1/leads/${id}/signals/demo_seen`, { token: helper })).status).toBe(404);

    // Done with the task, the lead is out of reach again.
    const done = await call(s, 'POST', `${taskPath}/complete`, { token: helper });
    expect(done.status, done.text).toBe(200);
    expect((await call(s, 'GET', `/api/v1/leads/${id}`, { token: helper })).status).toBe(404);
  });
});
