import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';

/**
 * Activities have ids, can be corrected or deleted by their author or a manager over the lead, can
 * be dated when they happened, and can be listed newest first (review r6, findings 6 and 22).
 */

// The first stage's goal: two calls (or its task); a deleted call must stop counting toward it.
const PROCESS = TEST_PROCESS.replace(
  'goal: { all: [{ task_done: first-call }] }',
  'goal: { any: [{ task_done: first-call }, { activity: call, min: 2 }] }',
);

interface Activity {
  id: string;
  lead: string;
  kind: string;
  note: string | null;
  at: string;
  actor: string | null;
}
interface Page {
  items: Activity[];
  nextCursor: string | null;
}
interface ProblemBody {
  errors?: { field: string; message: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setUp(dialect: (typeof dialects)[number]) {
  const s = await startServer(dialect, { process: PROCESS });
  servers.push(s);
  const admin = await tokenFor(s, 'admin');
  const tokens = {
    admin,
    rep: await tokenFor(s, 'rep-a1'),
    mate: await tokenFor(s, 'rep-a2'),
    other: await tokenFor(s, 'rep-b1'),
    manager: await tokenFor(s, 'mgr-a'),
  };
  const lead = await leadOf(s, admin, 'rep-a1');
  const log = (token: string, body: object, on = lead) =>
    call(s, 'POST', `/api/v1/leads/${on}/activities`, { token, body });
  const list = async (query = '', on = lead) =>
    (await call(s, 'GET', `/api/v1/leads/${on}/activities${query}`, { token: admin })).body as Page;
  return { s, tokens, lead, log, list };
}

describe.each(dialects)('activity ids, edits and deletes over the API (%s)', (dialect) => {
  it('returns the activity logged with an id that lists show, stays the same and differs across leads', async () => {
    const { s, tokens, lead, log, list } = await setUp(dialect);
    const first = await log(tokens.rep, { kind: 'note', note: 'first' });
    expect(first.status, first.text).toBe(201);
    const created = (first.body as { activity: Activity }).activity;
    expect(created).toMatchObject({ lead, kind: 'note', note: 'first', actor: 'rep-a1' });
    expect(created.id).toMatch(new RegExp(`^${lead}:\\d+\\.0$`));

    const other = await leadOf(s, tokens.admin, 'rep-a1');
    const elsewhere = (await log(tokens.rep, { kind: 'note', note: 'first' }, other)).body as { activity: Activity };
    expect(elsewhere.activity.id).not.toBe(created.id);

    await log(tokens.rep, { kind: 'email' });
    const items = (await list()).items;
    expect(items.map((a) => a.id)).toEqual([created.id, expect.not.stringMatching(created.id) as unknown]);
    expect(items[0]).toEqual(created);
    expect(new Set(items.map((a) => a.id)).size).toBe(2);
  });

  it('reads one activity by its id as the list shows it; out of reach is the 404 of an unknown id, audited', async () => {
    const { s, tokens, lead, log, list } = await setUp(dialect);
    const id = ((await log(tokens.rep, { kind: 'call', note: 'reached her' })).body as { activity: Activity }).activity
      .id;
    const get = (token: string, which = id) =>
      call(s, 'GET', `/api/v1/activities/${encodeURIComponent(which)}`, { token });
    const mine = await get(tokens.rep);
    expect(mine.status, mine.text).toBe(200);
    expect(mine.body).toEqual((await list()).items[0]);
    expect((await get(tokens.manager)).body).toEqual(mine.body);

    const probe = await get(tokens.other);
    const unknown = await get(tokens.other, `${lead}:999.0`);
    expect([probe.status, unknown.status]).toEqual([404, 404]);
    expect((probe.body as { detail: string }).detail).toBe(`activity "${id}" does not exist`);
    expect((unknown.body as { detail: string }).detail).toBe(`activity "${lead}:999.0" does not exist`);
    const denied = await call(
      s,
      'GET',
      `/api/v1/audit?action=access.denied&target=${encodeURIComponent(`lead "${lead}"`)}`,
      {
        token: tokens.admin,
      },
    );
    expect((denied.body as { items: unknown[] }).items).toHaveLength(1);

    expect(
      (await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(id)}`, { token: tokens.rep })).status,
    ).toBe(204);
    expect((await get(tokens.rep)).status).toBe(404);
  });

  it('lets the author and a manager over the lead correct a note; others get 403 or 404', async () => {
    const { tokens, log, list, s } = await setUp(dialect);
    const id = ((await log(tokens.rep, { kind: 'note', note: 'typo' })).body as { activity: Activity }).activity.id;
    const patch = (token: string, note: string) =>
      call(s, 'PATCH', `/api/v1/activities/${encodeURIComponent(id)}`, { token, body: { note } });

    const mine = await patch(tokens.rep, 'fixed');
    expect(mine.status, mine.text).toBe(200);
    expect((mine.body as { activity: Activity }).activity).toMatchObject({ id, note: 'fixed', kind: 'note' });
    expect((await patch(tokens.manager, 'fixed by the manager')).status).toBe(200);
    expect((await patch(tokens.mate, 'not mine')).status).toBe(404);
    expect((await patch(tokens.other, 'not mine')).status).toBe(404);
    expect((await list()).items[0]?.note).toBe('fixed by the manager');
    // The earlier texts leave the timeline; the correction that stands stays.
    const timeline = await call(s, 'GET', `/api/v1/leads/${(await list()).items[0]?.lead ?? ''}/timeline?limit=100`, {
      token: tokens.admin,
    });
    expect(timeline.text).not.toMatch(/"typo"|"fixed"/);
    expect(timeline.text).toContain('fixed by the manager');

    // The lead's owner, but not the author of the manager's note: not theirs to change.
    const managers = ((await log(tokens.manager, { kind: 'note', note: 'coaching' })).body as { activity: Activity })
      .activity.id;
    const refused = await call(s, 'PATCH', `/api/v1/activities/${encodeURIComponent(managers)}`, {
      token: tokens.rep,
      body: { note: 'changed' },
    });
    expect(refused.status).toBe(403);
    const gone = await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(managers)}`, { token: tokens.rep });
    expect(gone.status).toBe(403);
    expect((await list()).items.map((a) => a.note)).toEqual(['fixed by the manager', 'coaching']);

    const missing = await call(s, 'PATCH', '/api/v1/activities/no-such:1.0', {
      token: tokens.admin,
      body: { note: 'x' },
    });
    expect(missing.status).toBe(404);
  });

  it('deletes an activity from the list and the export, and it no longer counts toward the goal', async () => {
    const { s, tokens, lead, log, list } = await setUp(dialect);
    const wrong = ((await log(tokens.rep, { kind: 'call', note: 'wrong lead' })).body as { activity: Activity })
      .activity.id;
    // Another team's rep learns nothing: the same answer as for an id that does not exist.
    const probe = await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(wrong)}`, { token: tokens.other });
    expect(probe.status).toBe(404);
    expect((probe.body as { detail: string }).detail).toBe(`activity "${wrong}" does not exist`);
    const deleted = await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(wrong)}`, { token: tokens.rep });
    expect(deleted.status, deleted.text).toBe(204);
    expect((await list()).items).toEqual([]);
    const again = await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(wrong)}`, { token: tokens.rep });
    expect(again.status).toBe(404);
    const exported = await call(s, 'GET', '/api/v1/exports/activities?format=jsonl', { token: tokens.admin });
    expect(exported.status).toBe(200);
    expect(exported.text).not.toContain('wrong lead');
    // Nor is its note left in the lead's timeline, which everyone working the lead reads.
    const timeline = await call(s, 'GET', `/api/v1/leads/${lead}/timeline?limit=100`, { token: tokens.admin });
    expect(timeline.status).toBe(200);
    expect(timeline.text).toContain('activity.deleted');
    expect(timeline.text).not.toContain('wrong lead');

    // The deleted call no longer counts: one more call leaves the goal (two calls) unmet.
    await log(tokens.rep, { kind: 'call' });
    const stage = async () =>
      ((await call(s, 'GET', `/api/v1/leads/${lead}`, { token: tokens.admin })).body as { stage: string }).stage;
    expect(await stage()).toBe('new');
    await log(tokens.rep, { kind: 'call' });
    expect(await stage()).toBe('qualified');

    // Who deleted it and when is in the lead's event log, and the run log says what it changed.
    const events = await s.store.db
      .selectFrom('events')
      .select(['actor', 'at'])
      .where('lead_id', '=', lead)
      .where('type', '=', 'activity.deleted')
      .execute();
    expect(events.map((e) => JSON.parse(e.actor) as unknown)).toEqual([{ kind: 'api', id: 'rep-a1' }]);
    const said = await s.store.db
      .selectFrom('run_log')
      .select('message')
      .where('lead_id', '=', lead)
      .where('message', 'like', `activity ${wrong} %`)
      .execute();
    expect(said.map((r) => r.message)).toEqual([
      `activity ${wrong} (call) deleted by rep-a1: no longer counted toward stage new's goal`,
    ]);
  });

  it('takes occurredAt within the current stay, keeps it as the time and meets the goal when logged', async () => {
    const { s, tokens, lead, log, list } = await setUp(dialect);
    const entered = s.clock.now;
    s.clock.now += 3 * 3_600_000;
    const future = await log(tokens.rep, { kind: 'call', occurredAt: new Date(s.clock.now + 60_000).toISOString() });
    expect(future.status).toBe(400);
    expect((future.body as ProblemBody).errors).toEqual([{ field: 'body.occurredAt', message: 'is in the future' }]);
    const early = await log(tokens.rep, { kind: 'call', occurredAt: new Date(entered - 60_000).toISOString() });
    expect(early.status).toBe(400);
    expect((early.body as ProblemBody).errors?.[0]?.field).toBe('body.occurredAt');
    expect((early.body as ProblemBody).errors?.[0]?.message).toContain('before the lead entered its stage new');
    expect((await list()).items).toEqual([]);

    const at = new Date(entered + 3_600_000).toISOString();
    const first = await log(tokens.rep, { kind: 'call', occurredAt: '2026-03-02T11:00:00+01:00' });
    expect(first.status, first.text).toBe(201);
    expect((first.body as { activity: Activity }).activity.at).toBe(at);
    await log(tokens.rep, { kind: 'call', occurredAt: at });
    expect((await list()).items.map((a) => a.at)).toEqual([at, at]);
    // The goal was met when the second call was logged, not when it happened.
    const stays = (await call(s, 'GET', `/api/v1/leads/${lead}/stays`, { token: tokens.admin })).body as {
      items: { stage: string; exitedAt: string | null }[];
    };
    expect(stays.items.find((st) => st.stage === 'new')?.exitedAt).toBe(new Date(s.clock.now).toISOString());
  });

  it('counts a back-dated activity in the reports at its own time, and a deleted one nowhere', async () => {
    const { s, tokens, log } = await setUp(dialect);
    s.clock.now = Date.parse('2026-03-04T10:00:00Z');
    const dated = await log(tokens.rep, { kind: 'note', occurredAt: '2026-03-02T12:00:00Z' });
    expect(dated.status, dated.text).toBe(201);
    const active = async (from: string, to: string) => {
      const r = await call(s, 'GET', `/api/v1/reports/adoption?from=${from}&to=${to}&by=owner`, {
        token: tokens.admin,
      });
      expect(r.status, r.text).toBe(200);
      const rows = (r.body as { rows: { owner_id: string; active_reps: number }[] }).rows;
      return rows.find((row) => row.owner_id === 'rep-a1')?.active_reps;
    };
    expect(await active('2026-03-02', '2026-03-03')).toBe(1);
    expect(await active('2026-03-04', '2026-03-05')).toBe(0);
    const id = (dated.body as { activity: Activity }).activity.id;
    expect(
      (await call(s, 'DELETE', `/api/v1/activities/${encodeURIComponent(id)}`, { token: tokens.rep })).status,
    ).toBe(204);
    expect(await active('2026-03-02', '2026-03-03')).toBe(0);
  });

  it('lists newest first with order=desc, paging through every activity once in either order', async () => {
    const { s, tokens, log, list } = await setUp(dialect);
    for (const n of [1, 2, 3, 4, 5]) expect((await log(tokens.rep, { kind: 'note', note: `n${n}` })).status).toBe(201);
    const walk = async (order: string) => {
      const notes: (string | null)[] = [];
      let cursor: string | null = null;
      do {
        const page: Page = await list(
          `?order=${order}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        notes.push(...page.items.map((a) => a.note));
        cursor = page.nextCursor;
      } while (cursor);
      return notes;
    };
    expect(await walk('asc')).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(await walk('desc')).toEqual(['n5', 'n4', 'n3', 'n2', 'n1']);
    const ascPage = await list('?limit=2');
    const mixed = await call(
      s,
      'GET',
      `/api/v1/leads/${ascPage.items[0]?.lead ?? ''}/activities?order=desc&cursor=${encodeURIComponent(ascPage.nextCursor ?? '')}`,
      { token: tokens.admin },
    );
    expect(mixed.status).toBe(400);
    expect((mixed.body as ProblemBody).errors?.[0]?.field).toBe('query.cursor');
  });

  it("a contact erase drops an edited activity's note, and the edit's own, from the row and the event log", async () => {
    const { s, tokens, lead, log } = await setUp(dialect);
    const id = ((await log(tokens.rep, { kind: 'note', note: 'first' })).body as { activity: Activity }).activity.id;
    expect(
      (
        await call(s, 'PATCH', `/api/v1/activities/${encodeURIComponent(id)}`, {
          token: tokens.rep,
          body: { note: 'she prefers her private number' },
        })
      ).status,
    ).toBe(200);
    const email = (
      (await call(s, 'GET', `/api/v1/leads/${lead}`, { token: tokens.admin })).body as { contact: { email: string } }
    ).contact.email;
    const erased = await call(s, 'POST', '/api/v1/contacts/erase', { token: tokens.admin, body: { email } });
    expect(erased.status, erased.text).toBe(200);
    const rows = await s.store.db.selectFrom('activities').select('note').where('id', '=', id).execute();
    expect(rows).toEqual([{ note: null }]);
    const events = await s.store.db.selectFrom('events').select('payload').where('lead_id', '=', lead).execute();
    expect(events.map((e) => e.payload).join('\n')).not.toContain('private number');
  });
});
