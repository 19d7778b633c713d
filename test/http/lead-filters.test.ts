import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * `updated_since` and `updated_before` on GET /leads: the change feed a syncing client polls.
 * The organisation is in Tokyo (UTC+9, no DST), so its 2 March begins at 15:00 UTC on 1 March; a
 * date read as UTC would put that bound nine hours later and the boundary leads on the wrong side.
 * Each lead's last change is placed by the server's clock at the moment it is written.
 */

const TOKYO = TEST_PROCESS.replace('timezone: UTC', 'timezone: Asia/Tokyo');

/** Tokyo midnight of 2 and 3 March, in UTC. */
const MAR2 = '2026-03-01T15:00:00.000Z';
const MAR3 = '2026-03-02T15:00:00.000Z';

interface Lead {
  id: string;
  updatedAt: string;
}
interface Page {
  items: Lead[];
  nextCursor: string | null;
}
interface ProblemBody {
  type: string;
  errors: { field: string; message: string }[];
}

describe.each(dialects)('lead list updated_* filters on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  const page = async (query: string, token = admin) => {
    const r = await call(server, 'GET', `/api/v1/leads?source=sync&${query}`, { token });
    expect(r.status, r.text).toBe(200);
    return r.body as Page;
  };
  const ids = async (query: string, token = admin) => (await page(query, token)).items.map((l) => l.id).sort();

  /** Every page of a query with `limit` leads each, in the order given. */
  const walk = async (query: string, limit: number, between?: (pageNo: number) => Promise<void>) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let n = 0; n < 50; n++) {
      const p: Page = await page(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(p.items.length).toBeLessThanOrEqual(limit);
      seen.push(...p.items.map((l) => l.id));
      if (p.nextCursor === null) return seen;
      cursor = p.nextCursor;
      if (between) await between(n);
    }
    throw new Error('the walk did not end');
  };

  const at = async (iso: string, method: string, path: string, body: unknown) => {
    server.clock.now = Date.parse(iso);
    const headers: Record<string, string> = method === 'PATCH' ? { 'if-match': '*' } : {};
    const r = await call(server, method, path, { token: admin, body, headers });
    expect(r.status, r.text).toBeLessThan(300);
  };
  const create = (iso: string, id: string, owner: string) =>
    at(iso, 'POST', '/api/v1/leads', { id, owner, fields: { source: 'sync', value: 100 } });
  const touch = (iso: string, id: string) =>
    at(iso, 'PATCH', `/api/v1/leads/${id}`, { fields: { value: Math.round(Date.parse(iso) / 1000) % 10_000 } });

  beforeAll(async () => {
    server = await startServer(dialect, { process: TOKYO });
    admin = await tokenFor(server, 'admin');
    // Last changes: A a millisecond before Tokyo's 2 March; B and D exactly at it (D created in
    // February, changed then); C an hour later and lost then; E exactly at Tokyo's 3 March.
    await create('2026-03-01T14:59:59.999Z', 'S-A', 'rep-a1');
    await create(MAR2, 'S-B', 'rep-a1');
    await create('2026-03-01T16:00:00.000Z', 'S-C', 'rep-b1');
    await at('2026-03-01T16:00:00.000Z', 'POST', '/api/v1/leads/S-C/lose', { reason: 'budget' });
    await create('2026-02-20T00:00:00.000Z', 'S-D', 'rep-b1');
    await touch(MAR2, 'S-D');
    await create(MAR3, 'S-E', 'rep-b1');
  });
  afterAll(() => server.close());

  it('places each lead at its last change, not its creation', async () => {
    const byId = Object.fromEntries((await page('limit=50')).items.map((l) => [l.id, l.updatedAt]));
    expect(byId).toEqual({
      'S-A': '2026-03-01T14:59:59.999Z',
      'S-B': MAR2,
      'S-C': '2026-03-01T16:00:00.000Z',
      'S-D': MAR2,
      'S-E': MAR3,
    });
  });

  it('reads a date alone as the start of that day in Tokyo, half-open: in at since, out at before', async () => {
    expect(await ids('updated_since=2026-03-02')).toEqual(['S-B', 'S-C', 'S-D', 'S-E']);
    expect(await ids('updated_before=2026-03-02')).toEqual(['S-A']);
    expect(await ids('updated_since=2026-03-02&updated_before=2026-03-03')).toEqual(['S-B', 'S-C', 'S-D']);
    expect(await ids('updated_since=2026-03-03')).toEqual(['S-E']);
  });

  it('takes instants with their own offset, to the millisecond', async () => {
    expect(await ids(`updated_since=${MAR2}`)).toEqual(['S-B', 'S-C', 'S-D', 'S-E']);
    expect(await ids('updated_since=2026-03-01T15:00:00.001Z')).toEqual(['S-C', 'S-E']);
    expect(await ids(`updated_before=${MAR2}`)).toEqual(['S-A']);
    expect(await ids(`updated_before=${encodeURIComponent('2026-03-02T01:00:00+09:00')}`)).toEqual([
      'S-A',
      'S-B',
      'S-D',
    ]);
  });

  it('combines with the other filters and with the caller’s reach', async () => {
    expect(await ids('owner=rep-b1&updated_since=2026-03-02&updated_before=2026-03-03')).toEqual(['S-C', 'S-D']);
    expect(await ids('status=open&updated_since=2026-03-02')).toEqual(['S-B', 'S-D', 'S-E']);
    expect(await ids('created_from=2026-03-01&updated_since=2026-03-02')).toEqual(['S-B', 'S-C', 'S-E']);
    const rep = await tokenFor(server, 'rep-a1');
    expect(await ids('updated_since=2026-03-02', rep)).toEqual(['S-B']);
  });

  it('pages through the filter one lead at a time, in order, neither skipping nor repeating', async () => {
    // B and D share their last change to the millisecond: the id orders them, across pages.
    expect(await walk('updated_since=2026-03-02&sort=updated_at&order=asc', 1)).toEqual(['S-B', 'S-D', 'S-C', 'S-E']);
    expect(await walk('updated_since=2026-03-02&sort=updated_at&order=desc', 2)).toEqual(['S-E', 'S-C', 'S-D', 'S-B']);
    expect(await walk('updated_since=2026-03-02&updated_before=2026-03-03', 1)).toEqual(['S-C', 'S-B', 'S-D']);
  });

  it('a sync walk sees leads changed while it pages once, at the end, and skips none', async () => {
    // After the first page (B, D), A (outside the range) and C (not yet read) change: both come at the end.
    const seen = await walk('updated_since=2026-03-02&sort=updated_at&order=asc', 2, async (n) => {
      if (n !== 0) return;
      await touch('2026-03-05T00:00:00.000Z', 'S-A');
      await touch('2026-03-05T00:00:00.000Z', 'S-C');
    });
    expect(seen).toEqual(['S-B', 'S-D', 'S-E', 'S-A', 'S-C']);
  });

  it('refuses what is neither an instant nor a date, naming the filter and the value', async () => {
    const r = await call(server, 'GET', '/api/v1/leads?updated_since=2026-13-01&updated_before=yesterday', {
      token: admin,
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = r.body as ProblemBody;
    expect(body.type).toMatch(/validation-failed$/);
    const byField = Object.fromEntries(body.errors.map((e) => [e.field, e.message]));
    expect(Object.keys(byField).sort()).toEqual(['query.updated_before', 'query.updated_since']);
    expect(byField['query.updated_since']).toMatch(/^not an instant or a date "2026-13-01"/);
    expect(byField['query.updated_before']).toMatch(/^not an instant or a date "yesterday"/);
  });

  it('a process apply that moves the open leads to the new version puts them in the feed; closed leads stay out', async () => {
    // Open leads get a new version (ETag) on apply: a client that synced before must read them again.
    server.clock.now = Date.parse('2026-03-10T00:00:00.000Z');
    const r = await call(server, 'POST', '/api/v1/process', {
      token: admin,
      body: { source: TOKYO.replace('name: Test process', 'name: Test process v2') },
    });
    expect(r.status, r.text).toBe(201);
    expect(await ids('updated_since=2026-03-10')).toEqual(['S-A', 'S-B', 'S-D', 'S-E']);
    const byId = Object.fromEntries((await page('limit=50')).items.map((l) => [l.id, l.updatedAt]));
    expect(byId['S-B']).toBe('2026-03-10T00:00:00.000Z');
    expect(byId['S-C']).toBe('2026-03-05T00:00:00.000Z');
  });

  it('is in the OpenAPI document', async () => {
    const r = await call(server, 'GET', '/openapi.json');
    const doc = r.body as { paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> };
    const names = (doc.paths['/api/v1/leads']?.['get']?.parameters ?? []).filter((p) => p.in === 'query');
    expect(names.map((p) => p.name)).toEqual(expect.arrayContaining(['updated_since', 'updated_before']));
  });
});
