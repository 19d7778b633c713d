import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit.js';
import { dialects } from '../support/stores.js';
import { call, leadOf, tokenFor, startServer, type TestServer } from '../support/http.js';

/**
 * POST /api/v1/users/{id}/handover: a manager hands a rep's open work to a colleague of their own
 * teams, an admin anyone's to anyone; reps are refused, a person out of a manager's reach is
 * missing (404), a taker out of it forbidden (403), and the rules are refused while the leaver is
 * active (422). Nothing moves when a request is refused.
 */

describe.each(dialects)('POST /api/v1/users/{id}/handover on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  const path = (id: string) => `/api/v1/users/${encodeURIComponent(id)}/handover`;
  const ownerOf = async (lead: string) =>
    (
      (await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(lead)}`, { token: admin })).body as {
        owner: string | null;
      }
    ).owner;

  it('lets the manager hand a rep’s open leads to a colleague: a dry run first, then the leads move and the audit log says who', async () => {
    const leads = [await leadOf(server, admin, 'rep-a1'), await leadOf(server, admin, 'rep-a1')];
    const mgr = await tokenFor(server, 'mgr-a');
    const dry = await call(server, 'POST', path('rep-a1'), { token: mgr, body: { to: 'rep-a2', dryRun: true } });
    expect(dry.status, dry.text).toBe(200);
    expect(dry.body).toMatchObject({ from: 'rep-a1', to: 'rep-a2', dryRun: true });
    expect((dry.body as { leads: unknown[] }).leads).toEqual(
      expect.arrayContaining(leads.map((lead) => ({ lead, owner: 'rep-a2' }))),
    );
    expect(await ownerOf(leads[0] ?? '')).toBe('rep-a1');

    const r = await call(server, 'POST', path('rep-a1'), { token: mgr, body: { to: 'rep-a2' } });
    expect(r.status, r.text).toBe(200);
    const body = r.body as { dryRun: boolean; leads: { lead: string }[]; kept: unknown[] };
    expect(body.dryRun).toBe(false);
    expect(body.leads.map((l) => l.lead)).toEqual(expect.arrayContaining(leads));
    expect(body.kept).toEqual([]);
    for (const lead of leads) expect(await ownerOf(lead)).toBe('rep-a2');
    const [entry] = await listAudit(server.store.db, { action: 'user.handover', target: 'rep-a1' });
    expect(entry).toMatchObject({ actor: 'mgr-a', details: { to: 'rep-a2' } });
  });

  it('refuses reps, people and takers outside a manager’s teams, an active leaver under the rules, and an unclear body; nothing moves', async () => {
    const lead = await leadOf(server, admin, 'rep-b1');
    const tries: [string, { token: string; body: unknown }, number][] = [
      ['rep', { token: await tokenFor(server, 'rep-b2'), body: { to: 'rep-b2' } }, 403],
      ['other team', { token: await tokenFor(server, 'mgr-a'), body: { to: 'rep-a2' } }, 404],
      ['taker out of reach', { token: await tokenFor(server, 'mgr-b'), body: { to: 'rep-a2' } }, 403],
      ['rules, leaver active', { token: admin, body: { rules: true } }, 422],
      ['both', { token: admin, body: { to: 'rep-b2', rules: true } }, 400],
      ['neither', { token: admin, body: {} }, 400],
      ['inactive or unknown taker', { token: admin, body: { to: 'nobody' } }, 422],
      ['unknown taker, manager', { token: await tokenFor(server, 'mgr-b'), body: { to: 'nobody' } }, 422],
      ['rules, manager', { token: await tokenFor(server, 'mgr-b'), body: { rules: true } }, 403],
    ];
    for (const [why, req, status] of tries) {
      const r = await call(server, 'POST', path('rep-b1'), req);
      expect(r.status, `${why}: ${r.text}`).toBe(status);
    }
    const refused = await call(server, 'POST', path('rep-b1'), { token: admin, body: { rules: true } });
    expect((refused.body as { detail: string }).detail).toMatch(/"rep-b1" is active and not out of office/);
    expect(await ownerOf(lead)).toBe('rep-b1');
  });
});
