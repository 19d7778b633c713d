import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, login, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/** The lead resource over real HTTP: filters, sort and cursors, writers' limits, rules' refusals, signals. */

interface LeadBody {
  id: string;
  owner: string | null;
  stage: string;
  status: string;
  version: number;
  value: number | null;
  openTasks: { id: string; template: string }[];
}
interface Page {
  items: LeadBody[];
  nextCursor: string | null;
}
interface ProblemBody {
  type: string;
  code?: string;
  errors?: { field: string }[];
}

describe.each(dialects)('leads over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('lists with filters and sorts, a page at a time, without gaps or repeats', async () => {
    const values = [500, 1500, 2500, 3500, 4500, 5500, 6500];
    for (const [i, value] of values.entries()) {
      const r = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id: `F${i}`, fields: { value, source: 'filter-test', territory: i % 2 === 0 ? 'north' : 'south' } },
      });
      expect(r.status).toBe(201);
      server.clock.now += 1000;
    }
    const seen: LeadBody[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/api/v1/leads?source=filter-test&sort=value&order=asc&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const page = (await call(server, 'GET', q, { token: admin })).body as Page;
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((l) => l.value)).toEqual(values);

    // A lead without a value comes last in both orders, and paging still neither skips nor repeats.
    const none = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { id: 'F-none', fields: { source: 'filter-test' } },
    });
    expect(none.status).toBe(201);
    for (const order of ['asc', 'desc'] as const) {
      const ids: string[] = [];
      let next: string | null = null;
      do {
        const q: string = `/api/v1/leads?source=filter-test&sort=value&order=${order}&limit=2${next ? `&cursor=${next}` : ''}`;
        const page = (await call(server, 'GET', q, { token: admin })).body as Page;
        ids.push(...page.items.map((l) => l.id));
        next = page.nextCursor;
      } while (next);
      const withValue = values.map((_, i) => `F${i}`);
      expect(ids).toEqual([...(order === 'asc' ? withValue : [...withValue].reverse()), 'F-none']);
    }

    const north = (
      await call(server, 'GET', '/api/v1/leads?source=filter-test&territory=north&value_min=1000', { token: admin })
    ).body as Page;
    expect(north.items.map((l) => l.id).sort()).toEqual(['F2', 'F4', 'F6']);
    const teamB = (await call(server, 'GET', '/api/v1/leads?source=filter-test&team=team-b', { token: admin }))
      .body as Page;
    expect(teamB.items.map((l) => l.id).sort()).toEqual(['F1', 'F3', 'F5']);

    const wrong = await call(server, 'GET', '/api/v1/leads?sort=colour&limit=0', { token: admin });
    expect(wrong.status).toBe(400);
    expect((wrong.body as ProblemBody).errors?.map((e) => e.field).sort()).toEqual(['query.limit', 'query.sort']);
    const forged = await call(server, 'GET', '/api/v1/leads?cursor=bm9wZQ', { token: admin });
    expect(forged.status).toBe(400);
  });

  it('answers a created lead as a read of it shows it, although the answer is built without a read back', async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: {
        contact: { name: 'Ines Ortega', email: 'ines@ortega.example', phone: '+34 600 000 000', company: 'Ortega SL' },
        fields: {
          value: 1234.56,
          source: 'web',
          territory: 'south',
          expected_close: '2027-02-01',
          note: 'met at a fair',
        },
      },
    });
    expect(created.status).toBe(201);
    const { log, effects, ...answered } = created.body as Record<string, unknown>;
    expect(Array.isArray(log) && Array.isArray(effects)).toBe(true);
    const read = await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(String(answered['id']))}`, {
      token: admin,
    });
    expect(read.status).toBe(200);
    expect(answered).toEqual(read.body);
    expect(answered).toMatchObject({
      contact: { name: 'Ines Ortega', email: 'ines@ortega.example', phone: '+34 600 000 000', company: 'Ortega SL' },
      value: 1234.56,
      expectedClose: '2027-02-01T00:00:00.000Z',
      importedFrom: null,
    });

    // The contact's company and phone are stored as columns, so filters and exports see them.
    const byCompany = (await call(server, 'GET', '/api/v1/leads?company=Ortega%20SL', { token: admin })).body as Page;
    expect(byCompany.items.map((l) => l.id)).toEqual([answered['id']]);
    // As accounts fold companies: case and surrounding spaces do not matter.
    const folded = (await call(server, 'GET', '/api/v1/leads?company=%20ortega%20sl', { token: admin })).body as Page;
    expect(folded.items.map((l) => l.id)).toEqual([answered['id']]);
    const exported = await call(server, 'GET', '/api/v1/exports/leads?format=jsonl', { token: admin });
    const row = exported.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['id'] === answered['id']);
    expect(row).toMatchObject({ company: 'Ortega SL', phone: '+34 600 000 000' });
  });

  it('refuses field values the reports could not read, naming each field, and stores nothing', async () => {
    const bad = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: {
        id: 'BAD1',
        fields: { value: 1e308, expected_close: 'next week', owner: 'ann', email: 'not-an-address', colour: 'red' },
      },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as ProblemBody).errors?.map((e) => e.field).sort()).toEqual([
      'body.fields.email',
      'body.fields.expected_close',
      'body.fields.owner',
      'body.fields.value',
    ]);
    expect((await call(server, 'GET', '/api/v1/leads/BAD1', { token: admin })).status).toBe(404);

    const made = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { id: 'OK1', fields: { value: 10 } },
    });
    expect(made.status).toBe(201);
    for (const fields of [{ value: -5 }, { value: 'abc' }, { stage: 'won' }, { status: 'won' }]) {
      const r = await call(server, 'PATCH', '/api/v1/leads/OK1', {
        token: admin,
        body: { fields },
        headers: { 'if-match': '*' },
      });
      expect(r.status, JSON.stringify(fields)).toBe(400);
    }
    const read = await call(server, 'GET', '/api/v1/leads/OK1', { token: admin });
    expect(read.body).toMatchObject({ value: 10, version: 1 });
    const cleared = await call(server, 'PATCH', '/api/v1/leads/OK1', {
      token: admin,
      body: { fields: { value: null, expected_close: '2027-03-31' } },
      headers: { 'if-match': '*' },
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ value: null, expectedClose: '2027-03-31T00:00:00.000Z' });
  });

  it('takes a transition with no body at all, and names what is missing when one is needed', async () => {
    expect((await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id: 'NB1' } })).status).toBe(201);
    const lose = await call(server, 'POST', '/api/v1/leads/NB1/lose', { token: admin });
    expect(lose.status).toBe(400);
    expect((lose.body as ProblemBody).errors?.map((e) => e.field)).toEqual(['body.reason']);
    const win = await call(server, 'POST', '/api/v1/leads/NB1/win', { token: admin });
    expect(win.status, win.text).toBe(200);
    expect(win.body).toMatchObject({ status: 'won' });
    expect((await call(server, 'POST', '/api/v1/leads/NB1/reopen', { token: admin })).status).toBe(200);
  });

  it('lets neither a rep choose an owner nor a manager hand a lead outside their teams', async () => {
    const rep = await tokenFor(server, 'rep-a1');
    const byRep = await call(server, 'POST', '/api/v1/leads', { token: rep, body: { owner: 'rep-a1', fields: {} } });
    expect(byRep.status).toBe(403);
    expect((byRep.body as ProblemBody).type).toMatch(/field-not-writable$/);

    const mgr = await tokenFor(server, 'mgr-a');
    const outside = await call(server, 'POST', '/api/v1/leads', { token: mgr, body: { owner: 'rep-b1', fields: {} } });
    expect(outside.status).toBe(403);
    const inside = await call(server, 'POST', '/api/v1/leads', { token: mgr, body: { owner: 'rep-a2', fields: {} } });
    expect(inside.status).toBe(201);
    const id = (inside.body as LeadBody).id;
    const away = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, { token: mgr, body: { owner: 'rep-b2' } });
    expect(away.status).toBe(403);
    const moved = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, { token: mgr, body: { owner: 'rep-a1' } });
    expect(moved.status).toBe(200);
    expect((moved.body as LeadBody).owner).toBe('rep-a1');
    const audit = (await call(server, 'GET', `/api/v1/audit?action=lead.owner_changed&target=${id}`, { token: admin }))
      .body as {
      items: { details: Record<string, unknown> }[];
    };
    expect(audit.items.map((a) => a.details)).toEqual([{ from: 'rep-a2', to: 'rep-a1', via: 'reassign' }]);
    const version = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: mgr,
      headers: { 'if-match': '"2"' },
      body: { version: 9 },
    });
    expect(version.status).toBe(400);
    expect((version.body as ProblemBody).errors?.[0]?.field).toBe('body');
  });

  it('completes the goal task over HTTP and the lead advances; a closed lead refuses a move with the rule code', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const lead = (await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin })).body as LeadBody;
    const task = lead.openTasks.find((t) => t.template === 'first-call');
    const rep = await login(server, 'rep-a1');
    const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}/complete`, rep);
    expect(done.status).toBe(200);
    // The answer's task is the engine's own result; a read of the task shows the same.
    const answered = (done.body as { task: { status: string; completedAt: string | null } }).task;
    expect(answered).toMatchObject({ status: 'done', completedAt: expect.any(String) });
    const reread = await call(server, 'GET', `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}`, rep);
    // The read is the queue's item: the task, and its lead beside it.
    expect(reread.body).toEqual({ ...answered, leadSummary: expect.objectContaining({ status: 'open' }) });
    const after = (await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin })).body as LeadBody;
    expect(after.stage).toBe('qualified');
    expect(after.openTasks.map((t) => t.template)).toEqual(['demo']);

    expect(
      (await call(server, 'POST', `/api/v1/leads/${id}/lose`, { token: admin, body: { reason: 'budget' } })).status,
    ).toBe(200);
    const refused = await call(server, 'POST', `/api/v1/leads/${id}/move`, {
      token: admin,
      body: { stage: 'proposal' },
    });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'lead_closed' });
    const timeline = (await call(server, 'GET', `/api/v1/leads/${id}/timeline`, { token: admin })).body as {
      items: { type: string }[];
    };
    expect(timeline.items.map((e) => e.type)).toEqual(['lead.created', 'task.completed', 'lead.lost']);
  });

  it('takes product signals by email with an inbound token and applies them to every open lead of that contact', async () => {
    const inbound = await tokenFor(server, 'admin', ['signals:inbound']);
    for (const id of ['S1', 'S2'])
      await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id, owner: 'rep-b1', contact: { email: 'Trial@Example.com' } },
      });
    const r = await call(server, 'POST', '/api/v1/inbound/signals/trial_started', {
      token: inbound,
      body: { email: 'trial@example.com' },
    });
    expect(r.status).toBe(200);
    expect((r.body as { matched: number }).matched).toBe(2);
    const notThis = await call(server, 'GET', '/api/v1/leads/S1', { token: inbound });
    expect(notThis.status).toBe(403);
    const timeline = (await call(server, 'GET', '/api/v1/leads/S2/timeline', { token: admin })).body as {
      items: { type: string }[];
    };
    expect(timeline.items.map((e) => e.type)).toContain('signal.received');
  });
});

describe.each(dialects)('contacts over HTTP on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('lists one contact per address, counting only the leads the caller reaches', async () => {
    const make = (id: string, owner: string, email: string, name: string) =>
      call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id, owner, contact: { email, name, company: 'Acme' } },
      });
    await make('C1', 'rep-a1', 'Pat@Acme.example', 'Pat');
    await make('C2', 'rep-b1', 'PAT@acme.example', 'Pat Smith');
    await make('C3', 'rep-a1', 'quinn@other.example', 'Quinn');
    const all = (await call(server, 'GET', '/api/v1/contacts?limit=1', { token: admin })).body as {
      items: { email: string; leads: number }[];
      nextCursor: string | null;
    };
    expect(all.items).toEqual([expect.objectContaining({ email: 'pat@acme.example', leads: 2, company: 'Acme' })]);
    const next = (
      await call(server, 'GET', `/api/v1/contacts?limit=1&cursor=${all.nextCursor ?? ''}`, { token: admin })
    ).body as {
      items: { email: string }[];
    };
    expect(next.items.map((c) => c.email)).toEqual(['quinn@other.example']);
    const rep = await tokenFor(server, 'rep-b1');
    const mine = (await call(server, 'GET', '/api/v1/contacts', { token: rep })).body as {
      items: { email: string; leads: number }[];
    };
    expect(mine.items).toEqual([expect.objectContaining({ email: 'pat@acme.example', leads: 1 })]);
    const found = (await call(server, 'GET', '/api/v1/contacts?q=quinn', { token: admin })).body as {
      items: { name: string }[];
    };
    expect(found.items.map((c) => c.name)).toEqual(['Quinn']);
  });
});
