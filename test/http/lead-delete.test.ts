import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit.js';
import { dialects } from '../support/stores.js';
import { call, leadOf, login, tokenFor, startServer, type TestServer } from '../support/http.js';

/**
 * DELETE /api/v1/leads/{id}: a manager deletes a lead of their teams, an admin any; a rep is
 * refused, and a lead out of the caller's reach answers 404 as if it did not exist.
 */

describe.each(dialects)('DELETE /api/v1/leads/{id} on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  const path = (id: string) => `/api/v1/leads/${encodeURIComponent(id)}`;
  const exists = async (id: string) => (await call(server, 'GET', path(id), { token: admin })).status === 200;

  it('lets the manager of the owner delete the lead: 204, then it is gone, and the audit log says who', async () => {
    const lead = await leadOf(server, admin, 'rep-a1');
    const mgr = await tokenFor(server, 'mgr-a');
    const r = await call(server, 'DELETE', path(lead), { token: mgr });
    expect(r.status, r.text).toBe(204);
    expect(r.text).toBe('');
    expect(await exists(lead)).toBe(false);
    const [entry] = await listAudit(server.store.db, { action: 'lead.deleted', target: lead });
    expect(entry).toMatchObject({ actor: 'mgr-a', details: { owner: 'rep-a1', status: 'open' } });
    // Deleting it again: nothing is there any more.
    expect((await call(server, 'DELETE', path(lead), { token: mgr })).status).toBe(404);
  });

  it('works with a session cookie and its CSRF token, as the web app calls it', async () => {
    const lead = await leadOf(server, admin, 'rep-a2');
    const s = await login(server, 'mgr-a');
    const r = await call(server, 'DELETE', path(lead), { cookie: s.cookie, csrf: s.csrf });
    expect(r.status, r.text).toBe(204);
    expect(await exists(lead)).toBe(false);
  });

  it('refuses reps (403), and answers 404 for a lead outside a manager’s teams; the lead stays', async () => {
    const lead = await leadOf(server, admin, 'rep-a1');
    const owner = await call(server, 'DELETE', path(lead), { token: await tokenFor(server, 'rep-a1') });
    expect(owner.status).toBe(403);
    const other = await call(server, 'DELETE', path(lead), { token: await tokenFor(server, 'mgr-b') });
    expect(other.status).toBe(404);
    const readOnly = await call(server, 'DELETE', path(lead), {
      token: await tokenFor(server, 'admin', ['leads:read']),
    });
    expect(readOnly.status).toBe(403);
    expect(await exists(lead)).toBe(true);
    const denied = await listAudit(server.store.db, { action: 'access.denied', target: `lead "${lead}"` });
    expect(denied).toMatchObject([{ actor: expect.stringMatching(/^mgr-b/) }]);
    expect(await listAudit(server.store.db, { action: 'lead.deleted', target: lead })).toEqual([]);
  });
});
