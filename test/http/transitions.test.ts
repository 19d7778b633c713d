import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { listAudit } from '../../src/store/audit.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/** Transitions over HTTP do what the CLI does: win --override, reopen --stage, a left stage's tasks. */

// Qualified is strict: a lead cannot pass it without a budget, unless an admin overrides.
const STRICT = TEST_PROCESS.replace(
  '      - id: qualified\n        name: Qualified\n',
  '      - id: qualified\n        name: Qualified\n        strict: true\n        required_fields: [budget]\n',
);
// The next version drops the proposal stage.
const WITHOUT_PROPOSAL = STRICT.replace('name: Test process', 'name: Test process v2').replace(
  / {6}- id: proposal\n( {8}.*\n)*/,
  '',
);

interface LeadBody {
  id: string;
  stage: string;
  status: string;
  openTasks: { id: string; template: string }[];
}
interface ProblemBody {
  type: string;
  status: number;
  detail: string;
  code?: string;
}

describe.each(dialects)('transitions over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let manager: string;
  beforeAll(async () => {
    server = await startServer(dialect, { process: STRICT });
    admin = await tokenFor(server, 'admin');
    manager = await tokenFor(server, 'mgr-a');
  });
  afterAll(() => server.close());

  it('win takes override from an admin only: a manager gets 403, audited, and the lead stays open', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const held = await call(server, 'POST', `/api/v1/leads/${id}/win`, { token: admin, body: {} });
    expect(held.status).toBe(422);
    expect((held.body as ProblemBody).code).toBe('gate_refused');

    const denied = await call(server, 'POST', `/api/v1/leads/${id}/win`, { token: manager, body: { override: true } });
    expect(denied.status).toBe(403);
    expect((denied.body as ProblemBody).type).toBe('https://stageflow.dev/problems/forbidden');
    const denials = await listAudit(server.store.db, { action: 'access.denied', target: `POST /api/v1/leads/:id/win` });
    expect(denials.map((d) => [d.actor.split(' ')[0], d.details['reason']])).toEqual([
      ['mgr-a', 'only an admin may override a stage gate'],
    ]);
    expect(((await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin })).body as LeadBody).status).toBe('open');

    const won = await call(server, 'POST', `/api/v1/leads/${id}/win`, {
      token: admin,
      body: { override: true, reason: 'signed on paper' },
    });
    expect(won.status, won.text).toBe(200);
    expect((won.body as LeadBody).status).toBe('won');
    const log = (won.body as { log: { kind: string; message: string }[] }).log;
    expect(log.some((e) => e.kind === 'gate' && e.message.includes('overrode gate of qualified'))).toBe(true);
    const overrides = await listAudit(server.store.db, { action: 'lead.gate_overridden', target: id });
    expect(overrides).toHaveLength(1);
    expect(overrides[0]?.actor).toBe('admin');
  });

  it("move's override by a non-admin is the same audited 403", async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const denied = await call(server, 'POST', `/api/v1/leads/${id}/move`, {
      token: manager,
      body: { stage: 'proposal', override: true },
    });
    expect(denied.status).toBe(403);
    const denials = await listAudit(server.store.db, {
      action: 'access.denied',
      target: `POST /api/v1/leads/:id/move`,
    });
    expect(denials).toHaveLength(1);
  });

  it('reopen takes a stage (and pipeline) when the stage the lead closed in is gone', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const moved = await call(server, 'POST', `/api/v1/leads/${id}/move`, {
      token: admin,
      body: { stage: 'proposal', override: true },
    });
    expect(moved.status, moved.text).toBe(200);
    expect(
      (await call(server, 'POST', `/api/v1/leads/${id}/lose`, { token: admin, body: { reason: 'budget' } })).status,
    ).toBe(200);
    await applyProcess(server.store, WITHOUT_PROPOSAL, server.clock.now, 'test');

    const refused = await call(server, 'POST', `/api/v1/leads/${id}/reopen`, { token: admin });
    expect(refused.status).toBe(422);
    expect((refused.body as ProblemBody).code).toBe('unknown_stage');
    const wrong = await call(server, 'POST', `/api/v1/leads/${id}/reopen`, {
      token: admin,
      body: { stage: 'qualified', pipeline: 'nope' },
    });
    expect(wrong.status).toBe(422);
    expect((wrong.body as ProblemBody).code).toBe('unknown_pipeline');
    const bad = await call(server, 'POST', `/api/v1/leads/${id}/reopen`, { token: admin, body: { stage: '' } });
    expect(bad.status).toBe(400);

    const reopened = await call(server, 'POST', `/api/v1/leads/${id}/reopen`, {
      token: admin,
      body: { stage: 'qualified', pipeline: 'sales' },
    });
    expect(reopened.status, reopened.text).toBe(200);
    expect((reopened.body as LeadBody).status).toBe('open');
    expect((reopened.body as LeadBody).stage).toBe('qualified');
  });

  it("reopening a task of a stage the lead has left is 409 task-stay-ended, with the CLI's message", async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { id: 'LEFT', owner: 'rep-a1', fields: { budget: 5000 } },
    });
    const call1 = (created.body as LeadBody).openTasks.find((t) => t.template === 'first-call');
    if (!call1) throw new Error('no first call');
    const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(call1.id)}/complete`, {
      token: admin,
    });
    expect(done.status, done.text).toBe(200);
    const r = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(call1.id)}/reopen`, { token: admin });
    expect(r.status).toBe(409);
    const p = r.body as ProblemBody;
    expect(p.type).toBe('https://stageflow.dev/problems/task-stay-ended');
    expect(p.code).toBe('task_not_open');
    // Word for word what `stageflow task reopen` prints before its code.
    expect(p.detail).toBe(
      `task "${call1.id}" belongs to stage new, which lead LEFT has left (now in qualified); its tasks are history: move the lead back to new to do them again`,
    );
    // Completing a done task again is still the general conflict.
    const again = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(call1.id)}/complete`, {
      token: admin,
    });
    expect(again.status).toBe(409);
    expect((again.body as ProblemBody).type).toBe('https://stageflow.dev/problems/conflict');
  });

  it('a manager hands an open task to another rep; a rep may not, and a done task is 409', async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { id: 'HAND', owner: 'rep-a1', fields: {} },
    });
    const first = (created.body as LeadBody).openTasks.find((t) => t.template === 'first-call');
    if (!first) throw new Error('no first call');
    const path = `/api/v1/tasks/${encodeURIComponent(first.id)}/reassign`;

    const rep = await call(server, 'POST', path, {
      token: await tokenFor(server, 'rep-a1'),
      body: { assignee: 'rep-a2' },
    });
    expect(rep.status).toBe(403);

    const handed = await call(server, 'POST', path, { token: manager, body: { assignee: 'rep-a2' } });
    expect(handed.status, handed.text).toBe(200);
    const body = handed.body as { task: { id: string; assignee: string }; log: { message: string }[] };
    expect(body.task).toMatchObject({ id: first.id, assignee: 'rep-a2' });
    expect(body.log.map((l) => l.message)).toContain('task first-call reassigned from rep-a1 to rep-a2 by mgr-a');
    const read = await call(server, 'GET', `/api/v1/tasks/${encodeURIComponent(first.id)}`, { token: admin });
    expect((read.body as { assignee: string }).assignee).toBe('rep-a2');

    // Like a lead, a task goes only to someone in the manager's teams (rep-b1 is mgr-b's); an admin may.
    const outside = await call(server, 'POST', path, { token: manager, body: { assignee: 'rep-b1' } });
    expect(outside.status).toBe(403);
    expect((outside.body as ProblemBody).detail).toBe('assignee "rep-b1" is not in your teams');
    const unknown = await call(server, 'POST', path, { token: admin, body: { assignee: 'nobody' } });
    expect(unknown.status).toBe(422);
    expect((unknown.body as ProblemBody).code).toBe('unknown_user');

    await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(first.id)}/complete`, { token: admin });
    const done = await call(server, 'POST', path, { token: manager, body: { assignee: 'rep-a1' } });
    expect(done.status).toBe(409);
    expect((done.body as ProblemBody).detail).toBe(`task "${first.id}" is done: only an open task can be reassigned`);
  });
});
