import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * `due_after` and `due_before` on GET /tasks: "what is due this week" for a rep's client. The
 * organisation is in New York, and the week of Monday 2 March 2026 spans the change to summer
 * time (8 March): it begins at 05:00 UTC on the 2nd (UTC-5) and ends at 04:00 UTC on the 9th
 * (UTC-4). Each lead's first task ("first-call") is due four hours after the lead is made, so the
 * due times are placed by the server's clock.
 */

const NEW_YORK = TEST_PROCESS.replace('timezone: UTC', 'timezone: America/New_York');
const WEEK = 'due_after=2026-03-02&due_before=2026-03-09';

interface Task {
  id: string;
  lead: string;
  dueAt: string;
  status: string;
}
interface Page {
  items: Task[];
  nextCursor: string | null;
}
interface ProblemBody {
  type: string;
  errors: { field: string; message: string }[];
}

/** Lead, owner (its task's assignee) and the task's due time. */
const PLACED = [
  ['T-EARLY', 'rep-a1', '2026-03-02T04:59:59.999Z'], // a millisecond before the week: out
  ['T-START', 'rep-b1', '2026-03-02T05:00:00.000Z'], // exactly at due_after: in
  ['T-MID-1', 'rep-a1', '2026-03-05T12:00:00.000Z'],
  ['T-MID-2', 'rep-b1', '2026-03-05T12:00:00.000Z'], // the same due time: the id orders them
  ['T-LAST', 'rep-a1', '2026-03-09T03:59:59.999Z'], // the week's last millisecond (EDT): in
  ['T-END', 'rep-b1', '2026-03-09T04:00:00.000Z'], // exactly at due_before: out
] as const;

describe.each(dialects)('task list due_* filters on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  const page = async (query: string, token = admin) => {
    const r = await call(server, 'GET', `/api/v1/tasks?${query}`, { token });
    expect(r.status, r.text).toBe(200);
    return r.body as Page;
  };
  const leads = async (query: string, token = admin) => (await page(query, token)).items.map((t) => t.lead).sort();

  beforeAll(async () => {
    server = await startServer(dialect, { process: NEW_YORK });
    admin = await tokenFor(server, 'admin');
    for (const [id, owner, due] of PLACED) {
      server.clock.now = Date.parse(due) - 4 * 3_600_000;
      const r = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id, owner, fields: {} } });
      expect(r.status, r.text).toBe(201);
      const tasks = (r.body as { openTasks: Task[] }).openTasks;
      expect(tasks.map((t) => t.dueAt)).toEqual([due]);
    }
    // T-MID-1's call is done later (its lead moves on; the next stage's demo is due in three days,
    // after the week), so it is the one done task in the week.
    server.clock.now = Date.parse('2026-03-20T12:00:00Z');
    const mid = await page('lead=T-MID-1');
    const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(mid.items[0]!.id)}/complete`, {
      token: admin,
    });
    expect(done.status, done.text).toBe(200);
  });
  afterAll(() => server.close());

  it('reads dates alone as the start of those days in New York, across the DST change, half-open', async () => {
    expect(await leads(WEEK)).toEqual(['T-LAST', 'T-MID-1', 'T-MID-2', 'T-START']);
    expect(await leads('due_before=2026-03-02')).toEqual(['T-EARLY']);
    // 9 March in New York begins at 04:00 UTC (EDT): T-END is in from then.
    expect(await leads('due_after=2026-03-09&due_before=2026-03-10')).toEqual(['T-END']);
  });

  it('takes instants with their own offset, to the millisecond', async () => {
    expect(await leads('due_after=2026-03-02T05:00:00Z&due_before=2026-03-02T05:00:00.001Z')).toEqual(['T-START']);
    expect(await leads(`due_before=${encodeURIComponent('2026-03-02T00:00:00-05:00')}`)).toEqual(['T-EARLY']);
    expect(await leads('due_after=2026-03-09T03:59:59.999Z')).toContain('T-LAST');
    expect(await leads('due_after=2026-03-09T04:00:00.000Z')).not.toContain('T-LAST');
  });

  it('combines with assignee, status and lead, and with the caller’s reach', async () => {
    expect(await leads(`${WEEK}&assignee=rep-a1`)).toEqual(['T-LAST', 'T-MID-1']);
    expect(await leads(`${WEEK}&status=open`)).toEqual(['T-LAST', 'T-MID-2', 'T-START']);
    expect(await leads(`${WEEK}&status=done`)).toEqual(['T-MID-1']);
    expect(await leads(`${WEEK}&lead=T-END`)).toEqual([]);
    expect(await leads(`due_after=2026-03-09&lead=T-END`)).toEqual(['T-END']);
    const rep = await tokenFor(server, 'rep-b1');
    expect(await leads(`${WEEK}&assignee=me`, rep)).toEqual(['T-MID-2', 'T-START']);
    expect(await leads(WEEK, rep)).toEqual(['T-MID-2', 'T-START']);
  });

  it('pages through the week one task at a time, earliest due first, neither skipping nor repeating', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 20; n++) {
      const p: Page = await page(`${WEEK}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.items.length).toBeLessThanOrEqual(1);
      seen.push(...p.items.map((t) => t.lead));
      if (p.nextCursor === null) break;
      cursor = p.nextCursor;
    }
    expect(seen).toEqual(['T-START', 'T-MID-1', 'T-MID-2', 'T-LAST']);
  });

  it('refuses what is neither an instant nor a date, naming the filter and the value', async () => {
    const r = await call(server, 'GET', '/api/v1/tasks?due_after=2026-02-30&due_before=next-week', { token: admin });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = r.body as ProblemBody;
    expect(body.type).toMatch(/validation-failed$/);
    const byField = Object.fromEntries(body.errors.map((e) => [e.field, e.message]));
    expect(Object.keys(byField).sort()).toEqual(['query.due_after', 'query.due_before']);
    expect(byField['query.due_after']).toMatch(/^not an instant or a date "2026-02-30"/);
    expect(byField['query.due_before']).toMatch(/^not an instant or a date "next-week"/);
  });

  it('is in the OpenAPI document', async () => {
    const r = await call(server, 'GET', '/openapi.json');
    const doc = r.body as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    const names = (doc.paths['/api/v1/tasks']?.['get']?.parameters ?? []).filter((p) => p.in === 'query');
    expect(names.map((p) => p.name)).toEqual(expect.arrayContaining(['due_after', 'due_before']));
  });
});
