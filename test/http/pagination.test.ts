import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { call, leadOf, login, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * Every list answers a page at a time with a keyset cursor. Each list here gets more records than
 * one page, most of them written in the same millisecond, and walking the pages must give every
 * record exactly once, in the order a single large page gives them.
 */

interface Page {
  items: unknown[];
  nextCursor: string | null;
}

// Every new lead queues a webhook, so the outbox has rows to page through.
const WITH_WEBHOOK = TEST_PROCESS.replace(
  '        probability: 0.1\n',
  "        probability: 0.1\n        on_enter:\n          - webhook: { url: 'https://hooks.example/new-lead' }\n",
);

describe.each(dialects)('every list pages on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let lead: string;

  /** Walks a list `limit` at a time and checks it against one page holding all of it. */
  async function walk(path: string, limit: number): Promise<{ pages: number; items: unknown[] }> {
    const sep = path.includes('?') ? '&' : '?';
    const whole = await call(server, 'GET', `${path}${sep}limit=500`, { token: admin });
    expect(whole.status, whole.text).toBe(200);
    const all = (whole.body as Page).items;
    expect(all.length, `${path} needs more records than one page`).toBeGreaterThan(limit);
    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await call(server, 'GET', `${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, {
        token: admin,
      });
      expect(r.status, r.text).toBe(200);
      const page = r.body as Page;
      expect(page.items.length).toBeLessThanOrEqual(limit);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 100);
    expect(seen).toEqual(all);
    expect(new Set(seen.map((s) => JSON.stringify(s))).size).toBe(seen.length);
    return { pages, items: seen };
  }

  beforeAll(async () => {
    server = await startServer(dialect, { process: WITH_WEBHOOK });
    admin = await tokenFor(server, 'admin');
    // Everything below happens at one instant: only the tiebreakers keep the pages apart.
    for (let i = 0; i < 5; i++) await leadOf(server, admin, 'rep-a1');
    lead = await leadOf(server, admin, 'rep-a1', 'PAGED');
    for (let i = 0; i < 5; i++) {
      const r = await call(server, 'POST', `/api/v1/leads/${lead}/activities`, {
        token: admin,
        body: { kind: 'call', note: `call ${i}` },
      });
      expect(r.status).toBe(201);
    }
    for (const stage of ['qualified', 'proposal', 'new', 'qualified']) {
      const r = await call(server, 'POST', `/api/v1/leads/${lead}/move`, { token: admin, body: { stage } });
      expect(r.status, r.text).toBe(200);
    }
    for (let i = 0; i < 3; i++) await tokenFor(server, 'admin');
    for (const v of ['v2', 'v3'])
      await applyProcess(
        server.store,
        WITH_WEBHOOK.replace('name: Test process', `name: Test process ${v}`),
        server.clock.now,
        'test',
      );
    for (const subject of ['rep-a1', 'rep-a2', 'rep-b1']) {
      const r = await call(server, 'PUT', '/api/v1/quotas', {
        token: admin,
        body: { subject, period: '2026-03', amount: 1000 },
      });
      expect(r.status, r.text).toBe(200);
    }
    for (let i = 0; i < 3; i++) {
      const r = await call(server, 'POST', '/api/v1/forecast/snapshots', { token: admin, body: { period: '2026-03' } });
      expect(r.status, r.text).toBe(201);
    }
    await login(server, 'rep-b1');
  });
  afterAll(() => server.close());

  it('users and teams', async () => {
    expect((await walk('/api/v1/users', 2)).items.length).toBe(7);
    expect((await walk('/api/v1/teams', 1)).pages).toBe(2);
  });

  it("a lead's activities, timeline and stays", async () => {
    expect((await walk(`/api/v1/leads/${lead}/activities`, 2)).items.length).toBe(5);
    const timeline = (await walk(`/api/v1/leads/${lead}/timeline`, 3)).items as { type: string; entries: unknown[] }[];
    expect(timeline.length).toBe(10);
    // Each page reads the run log of its own events only: every move keeps what the engine did about it.
    const moves = timeline.filter((e) => e.type === 'lead.moved');
    expect(moves.length).toBe(4);
    for (const move of moves) expect(move.entries.length).toBeGreaterThan(0);
    expect((await walk(`/api/v1/leads/${lead}/stays`, 2)).items.length).toBe(5);
  });

  it('process versions, tokens, quotas and forecast snapshots', async () => {
    expect((await walk('/api/v1/process/versions', 1)).items.length).toBe(3);
    expect((await walk('/api/v1/tokens', 2)).items.length).toBe(4);
    expect((await walk('/api/v1/quotas', 2)).items.length).toBe(3);
    expect((await walk('/api/v1/forecast/snapshots?period=2026-03', 2)).items.length).toBe(3);
  });

  it('the outbox and the audit log', async () => {
    expect((await walk('/api/v1/outbox', 4)).items.length).toBeGreaterThanOrEqual(6);
    expect((await walk('/api/v1/audit', 3)).items.length).toBeGreaterThan(6);
  });

  it("refuses another list's cursor and a forged one, naming query.cursor", async () => {
    const users = (await call(server, 'GET', '/api/v1/users?limit=1', { token: admin })).body as Page;
    expect(users.nextCursor).not.toBeNull();
    for (const path of [
      `/api/v1/outbox?cursor=${users.nextCursor ?? ''}`,
      `/api/v1/leads/${lead}/activities?cursor=${users.nextCursor ?? ''}`,
      `/api/v1/leads/${lead}/timeline?cursor=${users.nextCursor ?? ''}`,
      `/api/v1/leads/${lead}/stays?cursor=${users.nextCursor ?? ''}`,
      '/api/v1/teams?cursor=bm9wZQ',
    ]) {
      const r = await call(server, 'GET', path, { token: admin });
      expect(r.status, path).toBe(400);
      expect((r.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['query.cursor']);
    }
  });
});
