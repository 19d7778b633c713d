import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';

describe.each(dialects)('the server on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('routes a new lead by territory to a team rep and creates its first task', async () => {
    const r = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { contact: { name: 'Jo', email: 'jo@acme.example' }, fields: { territory: 'south' } },
    });
    expect(r.status).toBe(201);
    const lead = r.body as {
      owner: string;
      stage: string;
      openTasks: { template: string; assignee: string }[];
      version: number;
    };
    expect(['rep-b1', 'rep-b2']).toContain(lead.owner);
    expect(lead.stage).toBe('new');
    expect(lead.openTasks.map((t) => [t.template, t.assignee])).toEqual([['first-call', lead.owner]]);
    expect(r.headers.get('etag')).toBe('"1"');
  });

  it('answers a lead with an ETag and a stale If-Match with 412 and the current ETag', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const got = await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin });
    expect(got.headers.get('etag')).toBe('"1"');
    const ok = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { fields: { note: 'a' } },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe('"2"');
    const stale = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: admin,
      headers: { 'if-match': '"1"' },
      body: { fields: { note: 'b' } },
    });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('etag')).toBe('"2"');
    expect(stale.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const missing = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: admin,
      body: { fields: { note: 'c' } },
    });
    expect(missing.status).toBe(428);
  });
});
