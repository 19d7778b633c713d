import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * GET /tasks as a rep's work queue: each task carries what the screen shows of its lead (one
 * query, no read per task), sorts by due time, overdue time, creation or the lead's value with
 * keyset paging, filters on team, pipeline and stage as the lead list does, and reads a date
 * alone in the caller's own zone. Anna (rep-a1) works from Singapore (UTC+8) in a UTC
 * organisation, so her 3 March starts eight hours before the organisation's.
 */

const ANNA_IN_SINGAPORE = TEST_PROCESS.replace(
  '{ id: rep-a1, name: Anna A1, territories: [north] }',
  '{ id: rep-a1, name: Anna A1, territories: [north], timezone: Asia/Singapore }',
);

interface Task {
  id: string;
  lead: string;
  dueAt: string;
  leadSummary: {
    name: string | null;
    person: string | null;
    company: string | null;
    value: number | null;
    status: string;
    pipeline: string;
    stageName: string;
  } | null;
}
interface Page {
  items: Task[];
  nextCursor: string | null;
}
interface Problem {
  errors: { field: string; message: string }[];
}

describe.each(dialects)('the work queue on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let anna: string;

  const get = async (query: string, token = admin) => {
    const r = await call(server, 'GET', `/api/v1/tasks?${query}`, { token });
    expect(r.status, r.text).toBe(200);
    return r.body as Page;
  };
  /** Every page of the query, `limit` tasks each. */
  const walk = async (query: string, limit: number, token = admin) => {
    const seen: Task[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 20; n++) {
      const p: Page = await get(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, token);
      seen.push(...p.items);
      if (p.nextCursor === null) return seen;
      cursor = p.nextCursor;
    }
    throw new Error('the walk did not end');
  };

  beforeAll(async () => {
    server = await startServer(dialect, { process: ANNA_IN_SINGAPORE });
    admin = await tokenFor(server, 'admin');
    anna = await tokenFor(server, 'rep-a1');
    // Three leads of Anna's, each with its stage's first call: values 500, none and 3000.
    for (const [id, value] of [
      ['Q-SMALL', 500],
      ['Q-NONE', null],
      ['Q-BIG', 3000],
    ] as const) {
      const r = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: {
          id,
          owner: 'rep-a1',
          contact: { name: `${id} deal`, company: 'Aurora Energy SA' },
          fields: { first_name: 'Henrik', last_name: 'Ueda', ...(value === null ? {} : { value }) },
        },
      });
      expect(r.status, r.text).toBe(201);
    }
    // Two tasks of her own on another lead, either side of midnight in Singapore (16:00 UTC).
    const made = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id: 'Q-DAY', owner: 'rep-b1' } });
    expect(made.status, made.text).toBe(201);
    for (const dueAt of ['2026-03-03T15:30:00Z', '2026-03-03T16:30:00Z']) {
      const r = await call(server, 'POST', '/api/v1/leads/Q-DAY/tasks', {
        token: admin,
        body: { title: `call at ${dueAt}`, dueAt, assignee: 'rep-a1' },
      });
      expect(r.status, r.text).toBe(201);
    }
  });
  afterAll(() => server.close());

  it("carries each task's lead: its name, the person, company, value, pipeline and stage name", async () => {
    const [task] = (await get('lead=Q-BIG')).items;
    expect(task?.leadSummary).toEqual({
      name: 'Q-BIG deal',
      person: 'Henrik Ueda',
      company: 'Aurora Energy SA',
      value: 3000,
      status: 'open',
      pipeline: 'sales',
      stageName: 'New',
    });
    expect((await get('lead=Q-DAY')).items[0]?.leadSummary?.person).toBeNull();
    // One task by its id is the queue's item, its lead included.
    const one = await call(server, 'GET', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}`, { token: anna });
    expect(one.status, one.text).toBe(200);
    expect(one.body).toEqual(task);
  });

  it("sorts by the lead's value either way, leads without one last, a page at a time", async () => {
    const q = 'assignee=rep-a1&stage=new';
    // Her two tasks on Q-DAY, which has no value either, come last too.
    const leads = async (query: string, limit: number) =>
      (await walk(query, limit)).map((t) => t.lead).filter((l) => l !== 'Q-DAY');
    expect(await leads(`${q}&sort=value&order=desc`, 1)).toEqual(['Q-BIG', 'Q-SMALL', 'Q-NONE']);
    expect(await leads(`${q}&sort=value&order=asc`, 2)).toEqual(['Q-SMALL', 'Q-BIG', 'Q-NONE']);
    expect((await walk(`${q}&sort=value`, 2)).slice(-3).map((t) => t.leadSummary?.value)).toEqual([null, null, null]);
    const due = (await walk('assignee=rep-a1&sort=due_at&order=desc', 2)).map((t) => t.dueAt);
    expect(due).toHaveLength(5);
    expect(due).toEqual([...due].sort().reverse());
    const first = await get(`${q}&sort=value&order=desc&limit=1`);
    const other = await call(server, 'GET', `/api/v1/tasks?${q}&sort=due_at&cursor=${first.nextCursor}`, {
      token: admin,
    });
    expect(other.status).toBe(400);
    expect((other.body as Problem).errors.map((e) => e.field)).toEqual(['query.cursor']);
  });

  it("reads a date alone in the caller's zone, or in tz=, else the organisation's", async () => {
    const day = 'lead=Q-DAY&due_after=2026-03-03&due_before=2026-03-04';
    const titles = async (query: string, token = admin) => (await get(query, token)).items.map((t) => t.dueAt);
    expect(await titles(day, anna)).toEqual(['2026-03-03T15:30:00.000Z']);
    expect(await titles(day)).toEqual(['2026-03-03T15:30:00.000Z', '2026-03-03T16:30:00.000Z']);
    expect(await titles(`${day}&tz=Asia/Singapore`)).toEqual(['2026-03-03T15:30:00.000Z']);
    expect(await titles(`${day}&tz=UTC`, anna)).toEqual(['2026-03-03T15:30:00.000Z', '2026-03-03T16:30:00.000Z']);
    const bad = await call(server, 'GET', `/api/v1/tasks?${day}&tz=Mars/Olympus`, { token: admin });
    expect(bad.status).toBe(400);
    expect((bad.body as Problem).errors.map((e) => e.field)).toEqual(['query.tz']);
  });

  it('filters on team (id or name), pipeline and stage, and refuses ones the process does not have', async () => {
    const teamA = (await get('team=Team%20A')).items.map((t) => t.lead).sort();
    expect(teamA).toEqual(['Q-BIG', 'Q-DAY', 'Q-DAY', 'Q-NONE', 'Q-SMALL']);
    // Q-DAY's own first call is its owner's, Bea's.
    expect((await get('team=team-b')).items.map((t) => t.id)).toEqual(['Q-DAY#1:first-call']);
    expect((await get('pipeline=sales&stage=qualified')).items).toEqual([]);
    const bad = await call(server, 'GET', '/api/v1/tasks?stage=qualifed&team=team-z', { token: admin });
    expect(bad.status).toBe(400);
    expect((bad.body as Problem).errors.map((e) => e.field)).toEqual(['query.stage', 'query.team']);
  });

  // Last: it gives Anna another task, which the walks above would count.
  it("shows no lead a done task's assignee no longer reaches, and does not sort by its hidden value", async () => {
    const made = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { id: 'Q-SECRET', owner: 'rep-b1', contact: { company: 'Globex Secret' }, fields: { value: 987654 } },
    });
    expect(made.status, made.text).toBe(201);
    const add = await call(server, 'POST', '/api/v1/leads/Q-SECRET/tasks', {
      token: admin,
      body: { title: 'Translate the contract', dueAt: '2026-03-05T10:00:00Z', assignee: 'rep-a1' },
    });
    expect(add.status, add.text).toBe(201);
    // While the task is open she works the lead, and sees it beside the task.
    expect((await get('lead=Q-SECRET', anna)).items[0]?.leadSummary?.company).toBe('Globex Secret');
    const [task] = (await get('lead=Q-SECRET', anna)).items;
    const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}/complete`, {
      token: anna,
    });
    expect(done.status, done.text).toBe(200);
    expect((await call(server, 'GET', '/api/v1/leads/Q-SECRET', { token: anna })).status).toBe(404);

    const mine = await call(server, 'GET', '/api/v1/tasks?lead=Q-SECRET&status=done', { token: anna });
    expect((mine.body as Page).items.map((t) => [t.id, t.leadSummary])).toEqual([[task?.id, null]]);
    expect(mine.text).not.toContain('Globex');
    expect(mine.text).not.toContain('987654');
    const one = async (token: string) =>
      (await call(server, 'GET', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}`, { token })).body as Task;
    expect((await one(anna)).leadSummary).toBeNull();
    expect((await one(admin)).leadSummary?.company).toBe('Globex Secret');
    // Sorted by value it sits with the leads without one, not first, page after page.
    const byValue = (await walk('assignee=me&sort=value&order=desc', 2, anna)).map((t) => t.lead);
    expect(byValue.slice(0, 2)).toEqual(['Q-BIG', 'Q-SMALL']);
    expect(byValue).toContain('Q-SECRET');
    // Whoever reaches the lead still sees it.
    expect((await get('lead=Q-SECRET')).items[0]?.leadSummary?.value).toBe(987654);
  });
});
