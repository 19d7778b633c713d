import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * The board answers the open leads in the caller's reach by stage, each stage with its count and
 * value, filtered and capped per stage; times as ISO 8601, like every other route.
 */

interface Board {
  stages: {
    pipeline: string;
    stage: string;
    name: string;
    index: number | null;
    count: number;
    value: number;
    shown: number;
  }[];
  leads: { id: string; stage: string; owner: string | null; value: number | null; stageEnteredAt: string }[];
  openTasks: { lead: string; template: string; dueAt: unknown }[];
  outboxByKind: Record<string, number>;
}

describe.each(dialects)('GET /board on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('gives open tasks their due time in ISO 8601, the same instant the task itself shows', async () => {
    const mine = await leadOf(server, admin, 'rep-a1');
    const theirs = await leadOf(server, admin, 'rep-b1');
    const task = (await call(server, 'GET', `/api/v1/tasks?lead=${mine}`, { token: admin })).body as {
      items: { template: string; dueAt: string }[];
    };
    const firstCall = task.items.find((t) => t.template === 'first-call');
    expect(firstCall?.dueAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);

    const all = (await call(server, 'GET', '/api/v1/board', { token: admin })).body as Board;
    const onBoard = all.openTasks.find((t) => t.lead === mine && t.template === 'first-call');
    expect(onBoard?.dueAt).toBe(firstCall?.dueAt);

    const rep = (await call(server, 'GET', '/api/v1/board', { token: await tokenFor(server, 'rep-a1') })).body as Board;
    expect(rep.leads.map((l) => l.id)).toEqual([mine]);
    expect(rep.openTasks.every((t) => t.lead === mine && typeof t.dueAt === 'string')).toBe(true);
    expect(rep.openTasks.some((t) => t.lead === theirs)).toBe(false);
  });

  it('counts undelivered outbox rows by kind for admins: delivered and cancelled ones are history', async () => {
    const fresh = await startServer(dialect);
    try {
      const token = await tokenFor(fresh, 'admin');
      const now = fresh.clock.now;
      const row = (id: string, kind: string, status: string) => ({
        id,
        lead_id: 'OB',
        kind,
        payload: '{}',
        status,
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        last_error: null,
      });
      await fresh.store.db.deleteFrom('outbox').execute();
      await fresh.store.db
        .insertInto('outbox')
        .values([
          row('OB:1', 'webhook', 'pending'),
          row('OB:2', 'webhook', 'failed'),
          row('OB:3', 'webhook', 'sent'),
          row('OB:4', 'email', 'kept'),
          row('OB:5', 'email', 'dead'),
          row('OB:6', 'email', 'cancelled'),
          row('OB:7', 'enrich', 'sent'),
        ])
        .execute();
      const board = (await call(fresh, 'GET', '/api/v1/board', { token })).body as Board;
      expect(board.outboxByKind).toEqual({ webhook: 2, email: 2 });
    } finally {
      await fresh.close();
    }
  });

  it('lists open leads only, by stage with counts and values, capped per stage and filtered', async () => {
    const fresh = await startServer(dialect);
    try {
      const token = await tokenFor(fresh, 'admin');
      const a1 = [await leadOf(fresh, token, 'rep-a1'), await leadOf(fresh, token, 'rep-a1')];
      fresh.clock.now += 1000;
      const a1Later = await leadOf(fresh, token, 'rep-a1');
      const a2 = await leadOf(fresh, token, 'rep-a2');
      const b1 = await leadOf(fresh, token, 'rep-b1');
      const won = await leadOf(fresh, token, 'rep-a1');
      expect((await call(fresh, 'POST', `/api/v1/leads/${won}/win`, { token, body: {} })).status).toBe(200);
      const moved = await call(fresh, 'POST', `/api/v1/leads/${a2}/move`, { token, body: { stage: 'qualified' } });
      expect(moved.status).toBe(200);

      const all = (await call(fresh, 'GET', '/api/v1/board', { token })).body as Board;
      // Every stage of the process in order, the empty one too; the won lead is on none of them.
      expect(all.stages.map((s) => [s.stage, s.index, s.count, s.value, s.shown])).toEqual([
        ['new', 0, 4, 4000, 4],
        ['qualified', 1, 1, 1000, 1],
        ['proposal', 2, 0, 0, 0],
      ]);
      expect(all.leads.map((l) => l.id).sort()).toEqual([...a1, a1Later, a2, b1].sort());
      expect(all.leads.some((l) => l.id === won)).toBe(false);

      // One per stage: the lead longest in the stage; the counts still cover every lead.
      const capped = (await call(fresh, 'GET', '/api/v1/board?per_stage=1', { token })).body as Board;
      expect(capped.stages.find((s) => s.stage === 'new')).toMatchObject({ count: 4, shown: 1 });
      const first = capped.leads.find((l) => l.stage === 'new');
      expect(a1).toContain(first?.id);
      expect(capped.openTasks.every((t) => capped.leads.some((l) => l.id === t.lead))).toBe(true);

      const teamA = (await call(fresh, 'GET', '/api/v1/board?team=team-a', { token })).body as Board;
      expect(teamA.leads.map((l) => l.id).sort()).toEqual([...a1, a1Later, a2].sort());
      const rep = await tokenFor(fresh, 'rep-a1');
      const mine = (await call(fresh, 'GET', '/api/v1/board?owner=me', { token: rep })).body as Board;
      expect(mine.leads.map((l) => l.id).sort()).toEqual([...a1, a1Later].sort());
      expect(mine.outboxByKind).toEqual({});
      // A rep asking for someone else's leads sees none of them, not an error.
      const theirs = (await call(fresh, 'GET', '/api/v1/board?owner=rep-b1', { token: rep })).body as Board;
      expect(theirs.leads).toEqual([]);
      expect(theirs.stages.every((s) => s.count === 0)).toBe(true);
      const bad = await call(fresh, 'GET', '/api/v1/board?per_stage=-1', { token });
      expect(bad.status).toBe(400);
    } finally {
      await fresh.close();
    }
  });
});
