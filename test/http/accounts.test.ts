import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAccounts } from '../../src/store/catalog.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * Accounts over HTTP: one per company on any lead (case and surrounding spaces ignored), merged with
 * an imported company record of that name, with figures over the leads in the caller's reach. The
 * expected figures are worked out by hand from the seven leads below.
 *
 *   lead  owner   company        value  status
 *   L1    rep-a1  "Acme Corp"     1000  open
 *   L2    rep-a1  " acme corp "   2500  open
 *   L3    rep-a1  "ACME CORP"     4000  won
 *   L4    rep-a1  "Globex"         700  lost
 *   L5    rep-b1  "Acme Corp"    10000  open
 *   L6    rep-b1  "Initech"        300  open
 *   L7    rep-a2  "Initech"        200  open
 *
 * Imported records: "Acme Corp" (Maven-like data: sector, employees, revenue) and "Umbrella" (no
 * leads at all: only an admin sees it).
 */

interface AccountBody {
  id: string;
  name: string;
  leads: number;
  openLeads: number;
  wonLeads: number;
  lostLeads: number;
  pipelineValue: number;
  wonValue: number;
  owners: { id: string; leads: number }[];
  lastActivityAt: string | null;
  sector: string | null;
  employees: number | null;
  revenue: number | null;
  importedFrom: string | null;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const T0 = Date.parse('2026-03-02T09:00:00Z');
const minute = 60_000;

describe.each(dialects)('accounts on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let repA1: string;
  let repB1: string;
  let managerA: string;
  const lead: Record<string, string> = {};

  const get = async <T>(token: string, path: string): Promise<{ status: number; body: T }> => {
    const r = await call(server, 'GET', path, { token });
    return { status: r.status, body: r.body as T };
  };
  const accountsOf = async (token: string, query = ''): Promise<AccountBody[]> => {
    const r = await get<Page<AccountBody>>(token, `/api/v1/accounts${query}`);
    expect(r.status).toBe(200);
    return r.body.items;
  };
  const path = (id: string): string => `/api/v1/accounts/${encodeURIComponent(id)}`;

  beforeAll(async () => {
    server = await startServer(dialect);
    [admin, repA1, repB1, managerA] = await Promise.all([
      tokenFor(server, 'admin'),
      tokenFor(server, 'rep-a1'),
      tokenFor(server, 'rep-b1'),
      tokenFor(server, 'mgr-a'),
    ]);
    const leads: [string, string, string, number][] = [
      ['L1', 'rep-a1', 'Acme Corp', 1000],
      ['L2', 'rep-a1', ' acme corp ', 2500],
      ['L3', 'rep-a1', 'ACME CORP', 4000],
      ['L4', 'rep-a1', 'Globex', 700],
      ['L5', 'rep-b1', 'Acme Corp', 10000],
      ['L6', 'rep-b1', 'Initech', 300],
      ['L7', 'rep-a2', 'Initech', 200],
    ];
    // One minute apart, so "newest first" and the last activity are known.
    for (const [i, [name, owner, company, value]] of leads.entries()) {
      server.clock.now = T0 + i * minute;
      const r = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { owner, contact: { name, company }, fields: { value } },
      });
      expect(r.status, r.text).toBe(201);
      lead[name] = (r.body as { id: string }).id;
    }
    server.clock.now = T0 + 10 * minute;
    expect((await call(server, 'POST', `/api/v1/leads/${lead['L3']}/win`, { token: admin })).status).toBe(200);
    server.clock.now = T0 + 11 * minute;
    const lost = await call(server, 'POST', `/api/v1/leads/${lead['L4']}/lose`, {
      token: admin,
      body: { reason: 'budget' },
    });
    expect(lost.status).toBe(200);
    // What a Maven import writes (import-service.ts writeMavenCatalog), through the same store function.
    await upsertAccounts(server.store.db, [
      {
        id: 'maven:Acme Corp',
        name: 'Acme Corp',
        sector: 'technology',
        year_established: 1996,
        revenue_minor: 110_004_000_000,
        employees: 2822,
        location: 'United States',
        parent: null,
        import_source: 'maven',
        updated_at: T0,
      },
      {
        id: 'maven:Umbrella',
        name: 'Umbrella',
        sector: 'medical',
        year_established: null,
        revenue_minor: null,
        employees: null,
        location: null,
        parent: null,
        import_source: 'maven',
        updated_at: T0,
      },
    ]);
  });
  afterAll(() => server.close());

  it('an admin sees every account: the companies on leads merged with imported records, with figures', async () => {
    const items = await accountsOf(admin);
    expect(items.map((a) => a.id)).toEqual(['maven:Acme Corp', 'company:globex', 'company:initech', 'maven:Umbrella']);
    const [acme, globex, initech, umbrella] = items;
    // L1, L2, L3 (three spellings of one name) and L5; open L1 + L2 + L5, won L3.
    expect(acme).toMatchObject({
      name: 'Acme Corp',
      leads: 4,
      openLeads: 3,
      wonLeads: 1,
      lostLeads: 0,
      pipelineValue: 13500,
      wonValue: 4000,
      owners: [
        { id: 'rep-a1', leads: 3 },
        { id: 'rep-b1', leads: 1 },
      ],
      // L3's win is the latest change among them.
      lastActivityAt: new Date(T0 + 10 * minute).toISOString(),
      sector: 'technology',
      employees: 2822,
      revenue: 1_100_040_000,
      importedFrom: 'maven',
    });
    expect(globex).toMatchObject({
      name: 'Globex',
      leads: 1,
      openLeads: 0,
      lostLeads: 1,
      pipelineValue: 0,
      wonValue: 0,
      importedFrom: null,
      sector: null,
      lastActivityAt: new Date(T0 + 11 * minute).toISOString(),
    });
    expect(initech).toMatchObject({
      leads: 2,
      openLeads: 2,
      pipelineValue: 500,
      owners: [
        { id: 'rep-a2', leads: 1 },
        { id: 'rep-b1', leads: 1 },
      ],
    });
    expect(umbrella).toMatchObject({
      name: 'Umbrella',
      leads: 0,
      pipelineValue: 0,
      owners: [],
      lastActivityAt: null,
      sector: 'medical',
    });
  });

  it('a rep sees only the accounts with their leads, counted over their leads only', async () => {
    const mine = await accountsOf(repA1);
    expect(mine.map((a) => a.id)).toEqual(['maven:Acme Corp', 'company:globex']);
    expect(mine[0]).toMatchObject({
      leads: 3,
      openLeads: 2,
      wonLeads: 1,
      pipelineValue: 3500,
      wonValue: 4000,
      owners: [{ id: 'rep-a1', leads: 3 }],
      sector: 'technology',
    });

    const theirs = await accountsOf(repB1);
    expect(theirs.map((a) => [a.id, a.leads, a.pipelineValue])).toEqual([
      ['maven:Acme Corp', 1, 10000],
      ['company:initech', 1, 300],
    ]);

    // Initech has no lead of rep-a1's, Umbrella none at all: both answer as if they did not exist.
    for (const id of ['company:initech', 'maven:Umbrella', 'company:nobody'])
      expect((await get(repA1, path(id))).status).toBe(404);
    const initech = await get<AccountBody>(repB1, path('company:initech'));
    expect(initech.status).toBe(200);
    expect(initech.body).toMatchObject({ leads: 1, owners: [{ id: 'rep-b1', leads: 1 }] });
    // The denial of an account that exists is audited like a lead's.
    const audit = await get<Page<{ actor: string; target: string }>>(admin, '/api/v1/audit?action=access.denied');
    const denials = audit.body.items.filter((a) => a.actor.startsWith('rep-a1 ')).map((a) => a.target);
    expect(denials).toEqual(expect.arrayContaining(['account "company:initech"', 'account "maven:Umbrella"']));
    expect(denials).not.toContain('account "company:nobody"');
  });

  it("a manager sees their teams' leads: rep-a2's Initech lead, not rep-b1's", async () => {
    const items = await accountsOf(managerA);
    expect(items.map((a) => [a.id, a.leads, a.pipelineValue])).toEqual([
      ['maven:Acme Corp', 3, 3500],
      ['company:globex', 1, 0],
      ['company:initech', 1, 200],
    ]);
  });

  it('reads one account by either id, and its leads in reach page by page, newest first', async () => {
    const byRecord = await get<AccountBody>(admin, path('maven:Acme Corp'));
    // A company: id is matched like the names, so any spelling finds the merged account.
    const byName = await get<AccountBody>(admin, path('company: ACME corp'));
    expect(byRecord.status).toBe(200);
    expect(byName.body).toEqual(byRecord.body);
    expect(byRecord.body).toMatchObject({ id: 'maven:Acme Corp', leads: 4, pipelineValue: 13500 });
    const umbrella = await get<AccountBody>(admin, path('maven:Umbrella'));
    expect(umbrella.body).toMatchObject({ leads: 0, sector: 'medical' });

    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const r: { status: number; body: Page<{ id: string; owner: string }> } = await get(
        repA1,
        `${path('maven:Acme Corp')}/leads${query}`,
      );
      expect(r.status).toBe(200);
      ids.push(...r.body.items.map((l) => l.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(2);
    expect(ids).toEqual([lead['L3'], lead['L2'], lead['L1']]);

    const open = await get<Page<{ id: string }>>(admin, `${path('maven:Acme Corp')}/leads?status=open`);
    expect(open.body.items.map((l) => l.id)).toEqual([lead['L5'], lead['L2'], lead['L1']]);
    expect((await get(repA1, `${path('company:initech')}/leads`)).status).toBe(404);
    expect((await get(admin, `${path('maven:Acme Corp')}/leads?cursor=forged`)).status).toBe(400);
  });

  it('searches by name and pages through the list without skipping or repeating', async () => {
    expect((await accountsOf(admin, '?q=ACM')).map((a) => a.id)).toEqual(['maven:Acme Corp']);
    expect((await accountsOf(admin, '?q=b')).map((a) => a.id)).toEqual(['company:globex', 'maven:Umbrella']);
    expect((await accountsOf(repA1, '?q=b')).map((a) => a.id)).toEqual(['company:globex']);
    // A LIKE wildcard in q is a literal character.
    expect(await accountsOf(admin, '?q=%25')).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { status: number; body: Page<AccountBody> } = await get(
        admin,
        `/api/v1/accounts?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.body.items).toHaveLength(1);
      seen.push(...r.body.items.map((a) => a.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['maven:Acme Corp', 'company:globex', 'company:initech', 'maven:Umbrella']);
  });
});
