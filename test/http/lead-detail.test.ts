import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/** A lead's stage (the goal as a checklist, what a strict stage needs) and its history, over HTTP. */

// New's goal is its call task and a call logged; Qualified is strict and needs a budget and a signer.
const PROCESS = TEST_PROCESS.replace(
  '        goal: { all: [{ task_done: first-call }] }\n',
  '        guidance: "**Call within 4 hours.**"\n        goal: { all: [{ task_done: first-call }, { activity: call }] }\n',
).replace(
  '      - id: qualified\n        name: Qualified\n',
  '      - id: qualified\n        name: Qualified\n        strict: true\n        stall_after_days: 5\n        required_fields: [budget, decision_maker]\n',
);

interface Item {
  kind: string;
  text: string;
  met: boolean;
  depth: number;
  current: unknown;
}
interface StageBody {
  status: string;
  pipeline: { id: string; name: string; stageCount: number };
  stage: {
    id: string;
    name: string;
    index: number;
    probability: number | null;
    stallAfterDays: number;
    stalled: boolean;
    strict: boolean;
    guidance: string;
  };
  goal: { met: boolean; items: Item[] } | null;
  exitRequirements: { fields: { field: string; set: boolean }[]; missing: string[] } | null;
  nextStage: { id: string; strict: boolean; requiredFields: { missing: string[] } } | null;
}
interface Change {
  kind: string;
  field: string | null;
  from: unknown;
  to: unknown;
  reason: string | null;
  actor: { kind: string; id?: string } | null;
  at: string;
  seq: number;
}
interface HistoryBody {
  items: Change[];
  nextCursor: string | null;
}

describe.each(dialects)('lead stage and history over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let owner: string;
  let otherRep: string;
  beforeAll(async () => {
    server = await startServer(dialect, { process: PROCESS });
    admin = await tokenFor(server, 'admin');
    owner = await tokenFor(server, 'rep-a1');
    otherRep = await tokenFor(server, 'rep-b1');
  });
  afterAll(() => server.close());

  const stageOf = async (id: string): Promise<StageBody> => {
    const r = await call(server, 'GET', `/api/v1/leads/${id}/stage`, { token: owner });
    expect(r.status, r.text).toBe(200);
    return r.body as StageBody;
  };
  const patch = async (id: string, fields: Record<string, unknown>) => {
    const lead = await call(server, 'GET', `/api/v1/leads/${id}`, { token: owner });
    const r = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: owner,
      headers: { 'if-match': lead.headers.get('etag') ?? '' },
      body: { fields },
    });
    expect(r.status, r.text).toBe(200);
  };

  it('the goal checklist changes as the task is done and the call logged; a strict next stage lists its missing fields', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const first = await stageOf(id);
    expect(first.status).toBe('open');
    expect(first.pipeline).toEqual({ id: 'sales', name: 'Sales', stageCount: 3 });
    expect(first.stage).toMatchObject({
      id: 'new',
      name: 'New',
      index: 0,
      probability: 0.1,
      stallAfterDays: 14,
      stalled: false,
      strict: false,
      guidance: '**Call within 4 hours.**',
    });
    expect(first.goal).toEqual({
      met: false,
      items: [
        { kind: 'task', text: 'task first-call done', met: false, depth: 0, current: null },
        { kind: 'activity', text: '1 call logged (0 so far)', met: false, depth: 0, current: 0 },
      ],
    });
    expect(first.exitRequirements).toBeNull();
    expect(first.nextStage).toEqual({
      id: 'qualified',
      name: 'Qualified',
      strict: true,
      requiredFields: {
        fields: [
          { field: 'budget', set: false },
          { field: 'decision_maker', set: false },
        ],
        missing: ['budget', 'decision_maker'],
      },
    });

    const tasks = await call(server, 'GET', `/api/v1/tasks?lead=${id}`, { token: owner });
    const task = (tasks.body as { items: { id: string; template: string }[] }).items.find(
      (t) => t.template === 'first-call',
    );
    expect(task).toBeDefined();
    const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}/complete`, {
      token: owner,
      body: {},
    });
    expect(done.status, done.text).toBe(200);
    const afterTask = await stageOf(id);
    expect(afterTask.stage.id).toBe('new');
    expect(afterTask.goal?.met).toBe(false);
    expect(afterTask.goal?.items.map((i) => [i.text, i.met])).toEqual([
      ['task first-call done', true],
      ['1 call logged (0 so far)', false],
    ]);

    await patch(id, { budget: 5000 });
    expect((await stageOf(id)).nextStage?.requiredFields.missing).toEqual(['decision_maker']);

    // The call meets the goal: the lead enters the strict stage, whose own fields now hold it there.
    const logged = await call(server, 'POST', `/api/v1/leads/${id}/activities`, {
      token: owner,
      body: { kind: 'call' },
    });
    expect(logged.status, logged.text).toBeLessThan(300);
    const qualified = await stageOf(id);
    expect(qualified.stage).toMatchObject({ id: 'qualified', index: 1, strict: true, stallAfterDays: 5 });
    expect(qualified.goal).toBeNull();
    expect(qualified.exitRequirements).toEqual({
      fields: [
        { field: 'budget', set: true },
        { field: 'decision_maker', set: false },
      ],
      missing: ['decision_maker'],
    });
    expect(qualified.nextStage).toEqual({
      id: 'proposal',
      name: 'Proposal',
      strict: false,
      requiredFields: { fields: [], missing: [] },
    });
  });

  it('history lists a field edit and a reassignment, newest first, with old and new values and who; pages walk it whole', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    await patch(id, { value: 36000 });
    await patch(id, { value: 9000 });
    const moved = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: admin,
      body: { owner: 'rep-a2' },
    });
    expect(moved.status, moved.text).toBe(200);

    const r = await call(server, 'GET', `/api/v1/leads/${id}/history?limit=100`, { token: admin });
    expect(r.status, r.text).toBe(200);
    const all = (r.body as HistoryBody).items;
    expect(all[0]).toMatchObject({
      kind: 'owner',
      field: null,
      from: 'rep-a1',
      to: 'rep-a2',
      reason: 'manual',
      actor: { kind: 'admin', id: 'admin' },
    });
    const values = all.filter((c) => c.kind === 'field' && c.field === 'value');
    expect(values.slice(0, 2).map((c) => [c.from, c.to, c.actor?.id])).toEqual([
      [36000, 9000, 'rep-a1'],
      [1000, 36000, 'rep-a1'],
    ]);
    expect(all.map((c) => c.seq)).toEqual([...all.map((c) => c.seq)].sort((a, b) => b - a));

    // One at a time, the cursor walks the same list, none skipped or repeated.
    const walked: Change[] = [];
    let cursor: string | null = null;
    do {
      const page = await call(
        server,
        'GET',
        `/api/v1/leads/${id}/history?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: admin },
      );
      expect(page.status, page.text).toBe(200);
      const body = page.body as HistoryBody;
      walked.push(...body.items);
      cursor = body.nextCursor;
    } while (cursor !== null && walked.length <= all.length);
    expect(walked).toEqual(all);
  });

  it("an erased contact's name and address are the pseudonym in the history, old values included", async () => {
    const made = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', contact: { name: 'Erin Example', email: 'erin@contact.example' }, fields: {} },
    });
    expect(made.status, made.text).toBe(201);
    const id = (made.body as { id: string }).id;
    await patch(id, { name: 'Erin Q. Example' });
    const erased = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'erin@contact.example' },
    });
    expect(erased.status, erased.text).toBe(200);
    const r = await call(server, 'GET', `/api/v1/leads/${id}/history`, { token: owner });
    expect(r.status, r.text).toBe(200);
    expect(r.text).not.toMatch(/erin/i);
    const renamed = (r.body as HistoryBody).items.find((c) => c.field === 'name' && c.from !== null);
    expect(renamed?.from).toMatch(/^erased-/);
    expect(renamed?.to).toMatch(/^erased-/);
  });

  it('a rep who cannot see the lead gets 404 for its stage and its history', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    for (const path of ['stage', 'history']) {
      const r = await call(server, 'GET', `/api/v1/leads/${id}/${path}`, { token: otherRep });
      expect(r.status, path).toBe(404);
    }
    expect((await call(server, 'GET', `/api/v1/leads/${id}/history`, { token: owner })).status).toBe(200);
  });
});
