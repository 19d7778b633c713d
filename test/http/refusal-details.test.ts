import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * Refusals a front end acts on are machine-readable: a strict stage's gate names what it still asks
 * for, an unknown stage or user names the body field, and an unknown user is a 422 whoever asks.
 */

// Qualified is strict: two required fields and a goal (its demo done, and a value of 5000 or more).
const STRICT = TEST_PROCESS.replace(
  '      - id: qualified\n        name: Qualified\n',
  '      - id: qualified\n        name: Qualified\n        strict: true\n        required_fields: [budget, decision_maker]\n' +
    '        goal: { all: [{ task_done: demo }, { field: value, gte: 5000 }] }\n',
);

interface Problem {
  type: string;
  code?: string;
  detail: string;
  errors?: { field: string; message: string }[];
  gate?: unknown;
}

describe.each(dialects)('refusal details over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let manager: string;
  let rep: string;
  beforeAll(async () => {
    server = await startServer(dialect, { process: STRICT });
    admin = await tokenFor(server, 'admin');
    manager = await tokenFor(server, 'mgr-a');
    rep = await tokenFor(server, 'rep-a1');
  });
  afterAll(() => server.close());

  const move = (id: string, stage: string, token = rep) =>
    call(server, 'POST', `/api/v1/leads/${id}/move`, { token, body: { stage } });

  it('gate_refused carries the strict stage, its missing fields and its unmet goal lines', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    expect((await move(id, 'qualified')).status).toBe(200);
    await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: rep,
      headers: { 'if-match': '*' },
      body: { fields: { budget: 20000 } },
    });
    const held = await move(id, 'proposal');
    expect(held.status).toBe(422);
    const body = held.body as Problem;
    expect(body.code).toBe('gate_refused');
    expect(body.gate).toEqual({
      pipeline: 'sales',
      stage: 'qualified',
      skipped: false,
      missingFields: ['decision_maker'],
      // The value of 1000 is what the field test counts now.
      unmetGoal: [
        { kind: 'task', text: 'task demo done', met: false, depth: 0, current: null },
        { kind: 'field', text: 'field value ≥ 5000', met: false, depth: 0, current: 1000 },
      ],
    });
  });

  it('a move past a strict stage the lead was never in says it would skip it', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const held = await move(id, 'proposal');
    expect(held.status).toBe(422);
    expect((held.body as Problem).gate).toEqual({
      pipeline: 'sales',
      stage: 'qualified',
      skipped: true,
      missingFields: [],
      unmetGoal: [],
    });
  });

  it('an unknown stage names body.stage; an unknown pipeline body.pipeline', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const stage = await move(id, 'dmo');
    expect(stage.status).toBe(422);
    expect(stage.body).toMatchObject({
      code: 'unknown_stage',
      errors: [{ field: 'body.stage', message: 'pipeline "sales" has no stage "dmo"' }],
    });
    expect((stage.body as Problem).gate).toBeUndefined();
    const pipeline = await call(server, 'POST', `/api/v1/leads/${id}/move`, {
      token: rep,
      body: { stage: 'new', pipeline: 'renewals' },
    });
    expect(pipeline.body).toMatchObject({ code: 'unknown_pipeline', errors: [{ field: 'body.pipeline' }] });
  });

  it("a manager's unknown user is 422 unknown_user naming the field, not a 403 in the audit log", async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const reassign = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: manager,
      body: { owner: 'nobody-x' },
    });
    expect(reassign.status).toBe(422);
    expect(reassign.body).toMatchObject({
      code: 'unknown_user',
      errors: [{ field: 'body.owner', message: 'no user "nobody-x" in the process' }],
    });
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: manager,
      body: { owner: 'nobody-x', contact: { name: 'Kim Lee' } },
    });
    expect(created.status).toBe(422);
    expect(created.body).toMatchObject({ code: 'unknown_user', errors: [{ field: 'body.owner' }] });

    const task = (
      (await call(server, 'GET', `/api/v1/leads/${id}`, { token: manager })).body as { openTasks: { id: string }[] }
    ).openTasks[0]?.id;
    const handed = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task ?? '')}/reassign`, {
      token: manager,
      body: { assignee: 'nobody-x' },
    });
    expect(handed.status).toBe(422);
    expect(handed.body).toMatchObject({ code: 'unknown_user', errors: [{ field: 'body.assignee' }] });
    // A rep naming an unknown assignee for a task she adds: the same mistake, the same answer.
    const added = await call(server, 'POST', `/api/v1/leads/${id}/tasks`, {
      token: rep,
      body: { title: 'Call back', dueAt: '2026-03-03T10:00:00Z', assignee: 'nobody-x' },
    });
    expect(added.status).toBe(422);
    expect(added.body).toMatchObject({ code: 'unknown_user', errors: [{ field: 'body.assignee' }] });
    expect(await listAudit(server.store.db, { action: 'access.denied' })).toEqual([]);

    // Someone who exists outside her teams is still hers to be refused, and audited.
    const outside = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: manager,
      body: { owner: 'rep-b1' },
    });
    expect(outside.status).toBe(403);
    expect((outside.body as Problem).detail).toBe('owner "rep-b1" is not in your teams');
  });

  it('a lead out of reach stays 404 whatever user it names', async () => {
    const id = await leadOf(server, admin, 'rep-b1');
    const r = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: manager,
      body: { owner: 'nobody-x' },
    });
    expect(r.status).toBe(404);
  });
});
