import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/** The board answers times as ISO 8601, like every other route, and only the caller's reach. */

interface Board {
  leads: { id: string }[];
  openTasks: { lead: string; template: string; dueAt: unknown }[];
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
});
