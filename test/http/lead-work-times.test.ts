import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { fireTimers } from '../../src/engine/scheduler.js';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * What a manager's "deals nobody touched" view needs from GET /leads: each lead's last activity
 * and next open task's due time (on lead answers and lists, sortable), and the stalled filter (the
 * lead's current stay marked stalled when its stage's stall_after ran out, as GET
 * /leads/{id}/stage says). The stage "new" stalls after 2 days here.
 */

const NEW_STALLS = TEST_PROCESS.replace(
  '        probability: 0.1\n',
  '        probability: 0.1\n        stall_after_days: 2\n',
);
const T0 = Date.parse('2026-03-02T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

interface Lead {
  id: string;
  value: number | null;
  fields: Record<string, unknown>;
  lastActivityAt: string | null;
  nextTaskDueAt: string | null;
}
interface Page {
  items: Lead[];
  nextCursor: string | null;
}

describe.each(dialects)('lead work times and the stalled filter on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  const at = async (ms: number, method: string, path: string, body?: unknown) => {
    server.clock.now = ms;
    const r = await call(server, method, path, {
      token: admin,
      body,
      headers: method === 'PATCH' ? { 'if-match': '*' } : {},
    });
    expect(r.status, r.text).toBeLessThan(300);
    return r.body as Lead;
  };
  const list = async (query: string) => {
    const r = await call(server, 'GET', `/api/v1/leads?source=work&${query}`, { token: admin });
    expect(r.status, r.text).toBe(200);
    return r.body as Page;
  };
  /** Every page of a query, two leads each. */
  const walk = async (query: string) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 20; n++) {
      const p: Page = await list(`${query}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...p.items.map((l) => l.id));
      if (p.nextCursor === null) return seen;
      cursor = p.nextCursor;
    }
    throw new Error('the walk did not end');
  };
  const create = (ms: number, id: string) =>
    at(ms, 'POST', '/api/v1/leads', { id, owner: 'rep-a1', fields: { source: 'work' } });

  beforeAll(async () => {
    server = await startServer(dialect, { process: NEW_STALLS });
    admin = await tokenFor(server, 'admin');
    // W-STUCK: in "new" since T0, a call an hour later, its first call due at T0 + 4 h.
    await create(T0, 'W-STUCK');
    await at(T0 + HOUR, 'POST', '/api/v1/leads/W-STUCK/activities', { kind: 'call', note: 'no answer' });
    // W-DEMO: its first call done, so in "qualified" with a demo due 3 days on; no activity.
    await create(T0, 'W-DEMO');
    await at(T0 + 2 * HOUR, 'POST', '/api/v1/tasks/W-DEMO%231%3Afirst-call/complete');
    // W-QUIET: moved on to "proposal", which has no tasks; a note the day after.
    await create(T0, 'W-QUIET');
    await at(T0 + 3 * HOUR, 'POST', '/api/v1/leads/W-QUIET/move', { stage: 'proposal', override: true });
    await at(T0 + DAY, 'POST', '/api/v1/leads/W-QUIET/activities', { kind: 'note', note: 'sent the proposal' });
    // A call of that morning entered afterwards: the last activity is still the note's day.
    await at(T0 + DAY + HOUR, 'POST', '/api/v1/leads/W-QUIET/activities', {
      kind: 'call',
      occurredAt: iso(T0 + 5 * HOUR),
    });
    // W-FRESH: new in "new" on day 3, not yet stalled; W-WON: won in "new", so stalled never.
    await create(T0 + 3 * DAY, 'W-FRESH');
    await create(T0, 'W-WON');
    await at(T0 + 4 * HOUR, 'POST', '/api/v1/leads/W-WON/win', { override: true });
    await fireTimers(new Engine(server.store), T0 + 3 * DAY + HOUR, 'own-time');
    server.clock.now = T0 + 3 * DAY + HOUR;
  });
  afterAll(() => server.close());

  it('answers each lead with its last activity and its next open task’s due time, read or listed', async () => {
    const want: Record<string, [string | null, string | null]> = {
      'W-STUCK': [iso(T0 + HOUR), iso(T0 + 4 * HOUR)],
      'W-DEMO': [null, iso(T0 + 2 * HOUR + 3 * DAY)],
      'W-QUIET': [iso(T0 + DAY), null],
      'W-FRESH': [null, iso(T0 + 3 * DAY + 4 * HOUR)],
      'W-WON': [null, null],
    };
    const listed = (await list('limit=50')).items;
    expect(Object.fromEntries(listed.map((l) => [l.id, [l.lastActivityAt, l.nextTaskDueAt]]))).toEqual(want);
    for (const [id, [last, next]] of Object.entries(want)) {
      const one = (await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin })).body as Lead;
      expect([one.lastActivityAt, one.nextTaskDueAt]).toEqual([last, next]);
    }
  });

  it('sorts by either, leads without one last in both orders, a page at a time', async () => {
    expect(await walk('sort=last_activity_at&order=desc')).toEqual([
      'W-QUIET',
      'W-STUCK',
      'W-WON',
      'W-FRESH',
      'W-DEMO',
    ]);
    expect((await walk('sort=last_activity_at&order=asc')).slice(0, 2)).toEqual(['W-STUCK', 'W-QUIET']);
    expect(await walk('sort=next_task_due_at&order=asc')).toEqual(['W-STUCK', 'W-DEMO', 'W-FRESH', 'W-QUIET', 'W-WON']);
    expect((await walk('sort=next_task_due_at&order=desc')).slice(0, 3)).toEqual(['W-FRESH', 'W-DEMO', 'W-STUCK']);
  });

  it('lists the open leads whose current stay stalled, or those not stalled, as the stage route says', async () => {
    expect((await list('stalled=true')).items.map((l) => l.id)).toEqual(['W-STUCK']);
    expect((await list('stalled=false')).items.map((l) => l.id).sort()).toEqual(['W-DEMO', 'W-FRESH', 'W-QUIET']);
    const stage = (await call(server, 'GET', '/api/v1/leads/W-STUCK/stage', { token: admin })).body as {
      stage: { stalled: boolean };
    };
    expect(stage.stage.stalled).toBe(true);
    const bad = await call(server, 'GET', '/api/v1/leads?stalled=yes', { token: admin });
    expect(bad.status).toBe(400);
  });

  it('refuses a value of more than whole cents, naming body.fields.value, so the field and value agree', async () => {
    const r = await call(server, 'PATCH', '/api/v1/leads/W-FRESH', {
      token: admin,
      headers: { 'if-match': '*' },
      body: { fields: { value: 12000.555 } },
    });
    expect(r.status, r.text).toBe(400);
    expect((r.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['body.fields.value']);
    const kept = await at(server.clock.now, 'PATCH', '/api/v1/leads/W-FRESH', { fields: { value: 12000.5 } });
    expect([kept.value, kept.fields['value']]).toEqual([12000.5, 12000.5]);
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { fields: { value: '99.999' } },
    });
    expect(created.status).toBe(400);
  });
});
