import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * `GET /tasks?overdue=`: true is the open tasks past their overdue time, false the open tasks not
 * yet past it (it used to be ignored, answering done, skipped and overdue tasks alike).
 */

interface Page {
  items: { id: string; lead: string; status: string; overdueAt: string }[];
}

describe.each(dialects)('the overdue filter of GET /tasks on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('splits open tasks by their overdue time and leaves done ones out of both', async () => {
    const late = await leadOf(server, admin, 'rep-a1');
    const done = await leadOf(server, admin, 'rep-a1');
    const completed = await call(server, 'POST', `/api/v1/tasks/${done}%231:first-call/complete`, { token: admin });
    expect(completed.status).toBe(200);
    const tasks = async (overdue: string): Promise<string[]> =>
      (
        (await call(server, 'GET', `/api/v1/tasks?assignee=rep-a1&overdue=${overdue}`, { token: admin })).body as Page
      ).items
        .map((t) => t.id)
        .sort();

    // The completed call met the goal: that lead is in `qualified` now, with a demo due in 3 days.
    const demo = `${done}#2:demo`;
    expect(await tasks('false')).toEqual([`${late}#1:first-call`, demo].sort());
    expect(await tasks('true')).toEqual([]);
    // Past the call's overdue time it moves from one list to the other; the done call is in neither.
    const all = (await call(server, 'GET', `/api/v1/tasks?lead=${late}`, { token: admin })).body as Page;
    const overdueAt = Date.parse(all.items[0]?.overdueAt ?? '');
    server.clock.now = overdueAt + 1;
    expect(await tasks('true')).toEqual([`${late}#1:first-call`]);
    expect(await tasks('false')).toEqual([demo]);
  });
});
