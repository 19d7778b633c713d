import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * Tasks people add over HTTP (review r6, finding 1): POST /leads/{id}/tasks, PATCH /tasks/{id},
 * POST /tasks/{id}/cancel, on the real server. The test process is in UTC; the clock is 2026-03-02 09:00Z.
 */

interface Task {
  id: string;
  title: string;
  kind: string;
  status: string;
  assignee: string;
  dueAt: string;
  adHoc: boolean;
  note: string | null;
  skipReason: string | null;
}
interface Outcome {
  task: Task;
}
interface Problem {
  type: string;
  code?: string;
  errors?: { field: string; message: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('ad-hoc tasks over HTTP (%s)', (dialect) => {
  it('adds, lists, edits, completes past a stage change, and cancels a task, with the lead ETag', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const rep = await tokenFor(s, 'rep-a1');
    const lead = await leadOf(s, admin, 'rep-a1');
    const before = await call(s, 'GET', `/api/v1/leads/${lead}`, { token: rep });
    const etag = before.headers.get('etag') ?? '';

    const added = await call(s, 'POST', `/api/v1/leads/${lead}/tasks`, {
      token: rep,
      headers: { 'if-match': etag },
      body: { title: 'Call Henrik back', dueAt: '2026-03-03T10:00', kind: 'call', note: 'Tuesday at 10' },
    });
    expect(added.status, added.text).toBe(201);
    const task = (added.body as Outcome).task;
    expect(task).toMatchObject({
      title: 'Call Henrik back',
      kind: 'call',
      status: 'open',
      assignee: 'rep-a1',
      dueAt: '2026-03-03T10:00:00.000Z',
      adHoc: true,
      note: 'Tuesday at 10',
    });
    expect(added.headers.get('etag')).not.toBe(etag);
    // The old ETag is stale now.
    const stale = await call(s, 'POST', `/api/v1/leads/${lead}/tasks`, {
      token: rep,
      headers: { 'if-match': etag },
      body: { title: 'x', dueAt: '2026-03-03T10:00' },
    });
    expect(stale.status).toBe(412);

    const mine = await call(s, 'GET', '/api/v1/tasks?assignee=me&status=open', { token: rep });
    expect((mine.body as { items: Task[] }).items.map((t) => t.id)).toContain(task.id);

    const path = `/api/v1/tasks/${encodeURIComponent(task.id)}`;
    const edited = await call(s, 'PATCH', path, {
      token: rep,
      body: { dueAt: '2026-03-04T08:30:00+01:00', title: 'Call Henrik' },
    });
    expect(edited.status, edited.text).toBe(200);
    expect((edited.body as Outcome).task).toMatchObject({ title: 'Call Henrik', dueAt: '2026-03-04T07:30:00.000Z' });
    expect(edited.headers.get('etag')).toMatch(/^"\d+"$/);

    // The stage's goal is met: the lead moves on, the added task stays open.
    const first = `${lead}#1:first-call`;
    const done = await call(s, 'POST', `/api/v1/tasks/${encodeURIComponent(first)}/complete`, { token: rep });
    expect(done.status, done.text).toBe(200);
    const after = await call(s, 'GET', `/api/v1/leads/${lead}`, { token: rep });
    expect((after.body as { stage: string; openTasks: Task[] }).stage).toBe('qualified');
    expect((after.body as { openTasks: Task[] }).openTasks.map((t) => t.id)).toContain(task.id);

    const cancelled = await call(s, 'POST', `${path}/cancel`, { token: rep, body: { reason: 'he called first' } });
    expect(cancelled.status, cancelled.text).toBe(200);
    expect((cancelled.body as Outcome).task).toMatchObject({
      status: 'skipped',
      skipReason: 'cancelled: he called first',
    });
    const again = await call(s, 'POST', `${path}/reopen`, { token: rep });
    expect(again.status, again.text).toBe(200);
    expect((again.body as Outcome).task.status).toBe('open');
  });

  it('names the field of a bad due time or kind, refuses a closed lead, a process task edit, and a rep handing work on', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const rep = await tokenFor(s, 'rep-a1');
    const mgr = await tokenFor(s, 'mgr-a');
    const lead = await leadOf(s, admin, 'rep-a1');
    const add = (token: string, body: object, id = lead) =>
      call(s, 'POST', `/api/v1/leads/${id}/tasks`, { token, body });

    const bad = await add(rep, { title: 'x', dueAt: 'next tuesday', kind: 'lunch' });
    expect(bad.status).toBe(400);
    expect((bad.body as Problem).errors?.map((e) => e.field).sort()).toEqual(['body.dueAt', 'body.kind']);
    const dateOnly = await add(rep, { title: 'x', dueAt: '2026-03-03' });
    expect((dateOnly.body as Problem).errors?.map((e) => e.field)).toEqual(['body.dueAt']);

    const handOn = await add(rep, { title: 'x', dueAt: '2026-03-03T10:00', assignee: 'rep-a2' });
    expect(handOn.status).toBe(403);
    const outside = await add(mgr, { title: 'x', dueAt: '2026-03-03T10:00', assignee: 'rep-b1' });
    expect(outside.status).toBe(403);
    const toTeam = await add(mgr, { title: 'Prep the call', dueAt: '2026-03-03T10:00', assignee: 'rep-a2' });
    expect(toTeam.status, toTeam.text).toBe(201);
    expect((toTeam.body as Outcome).task.assignee).toBe('rep-a2');

    const processTask = `${lead}#1:first-call`;
    const edit = await call(s, 'PATCH', `/api/v1/tasks/${encodeURIComponent(processTask)}`, {
      token: rep,
      body: { title: 'y' },
    });
    expect(edit.status).toBe(422);
    expect((edit.body as Problem).code).toBe('not_ad_hoc');
    const empty = await call(s, 'PATCH', `/api/v1/tasks/${encodeURIComponent(processTask)}`, { token: rep, body: {} });
    expect(empty.status).toBe(400);

    const lost = await call(s, 'POST', `/api/v1/leads/${lead}/lose`, { token: admin, body: { reason: 'no budget' } });
    expect(lost.status, lost.text).toBe(200);
    const closed = await add(rep, { title: 'x', dueAt: '2026-03-03T10:00' });
    expect(closed.status).toBe(409);
    expect((closed.body as Problem).code).toBe('lead_closed');
    // The task the manager added was settled with the lead.
    const settled = await call(s, 'GET', `/api/v1/tasks/${encodeURIComponent((toTeam.body as Outcome).task.id)}`, {
      token: admin,
    });
    expect((settled.body as Task).status).toBe('skipped');
  });
});
