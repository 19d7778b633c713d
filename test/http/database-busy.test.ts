import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { call, login, PASSWORD, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * A write the database cannot take because another process holds SQLite's write lock past the
 * wait (an import's batch, a second Stageflow process) answers 503 with Retry-After, not a 500 that
 * reads like a bug, and wrote nothing; sent again once the lock is free, it succeeds.
 */

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('a busy SQLite database over HTTP', () => {
  it('answers 503 database-busy with Retry-After while another connection holds the write lock', async () => {
    server = await startServer('sqlite');
    const admin = await tokenFor(server, 'admin');
    server.store.writeWaitMs = 300;
    const other = new Database(server.store.location);
    other.exec('begin immediate');
    const body = { id: 'BUSY-1', fields: { value: 100 } };
    let busy;
    try {
      busy = await call(server, 'POST', '/api/v1/leads', { token: admin, body });
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect(busy.status).toBe(503);
    expect(busy.headers.get('retry-after')).toBe('5');
    expect(busy.body).toMatchObject({ type: `${PROBLEM_BASE}database-busy`, status: 503 });
    // The server's file path is for its log, not for clients.
    expect(busy.text).not.toContain(server.store.location);
    expect((await call(server, 'GET', '/api/v1/leads/BUSY-1', { token: admin })).status).toBe(404);
    const again = await call(server, 'POST', '/api/v1/leads', { token: admin, body });
    expect(again.status).toBe(201);
  });
  it('answers a sign-in that cannot write its session while the lock is held with 503, not 500', async () => {
    server = await startServer('sqlite');
    server.store.writeWaitMs = 300;
    const other = new Database(server.store.location);
    other.exec('begin immediate');
    let busy;
    try {
      busy = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'admin@test.example', password: PASSWORD },
      });
    } finally {
      other.exec('rollback');
      other.close();
    }
    expect(busy.status).toBe(503);
    expect(busy.body).toMatchObject({ type: `${PROBLEM_BASE}database-busy` });
    const again = await call(server, 'POST', '/api/v1/auth/login', {
      body: { email: 'admin@test.example', password: PASSWORD },
    });
    expect(again.status).toBe(200);
  });

  /**
   * Writes outside the engine (a sign-in's attempt, session and audit line; an Idempotency-Key;
   * a logout) wait for another connection's lock like the engine's: the server keeps answering
   * meanwhile (a timer fires, a health check is served), and the write completes after the release.
   */
  describe('writes wait for the lock without freezing the server', () => {
    const heldFor = (ms: number, events: string[]): Database.Database => {
      const other = new Database((server as TestServer).store.location);
      other.exec('begin immediate');
      setTimeout(() => {
        events.push('released');
        other.exec('commit');
        other.close();
      }, ms);
      return other;
    };

    it('a sign-in', async () => {
      server = await startServer('sqlite');
      const events: string[] = [];
      heldFor(300, events);
      const health = call(server, 'GET', '/healthz').then((r) => events.push(`health ${r.status}`));
      const login = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'admin@test.example', password: PASSWORD },
      });
      events.push(`login ${login.status}`);
      await health;
      expect(events).toEqual(['health 200', 'released', 'login 200']);
    });

    it('an Idempotency-Key claim, and a logout', async () => {
      server = await startServer('sqlite');
      const admin = await tokenFor(server, 'admin');
      const events: string[] = [];
      heldFor(300, events);
      const created = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id: 'KEYED-1', fields: { value: 100 } },
        headers: { 'idempotency-key': 'busy-1' },
      });
      events.push(`create ${created.status}`);
      const session = await login(server, 'admin');
      heldFor(300, events);
      const out = await call(server, 'POST', '/api/v1/auth/logout', { ...session });
      events.push(`logout ${out.status}`);
      expect(events).toEqual(['released', 'create 201', 'released', 'logout 204']);
      const replayed = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id: 'KEYED-1', fields: { value: 100 } },
        headers: { 'idempotency-key': 'busy-1' },
      });
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect((await call(server, 'GET', '/api/v1/auth/me', { ...session })).status).toBe(401);
    });

    it('an audited refusal and an audited admin action', async () => {
      server = await startServer('sqlite');
      const rep = await tokenFor(server, 'rep-a1');
      const admin = await tokenFor(server, 'admin');
      const events: string[] = [];
      heldFor(300, events);
      const denied = await call(server, 'POST', '/api/v1/outbox/replay-dead', { token: rep });
      events.push(`denied ${denied.status}`);
      heldFor(300, events);
      const replayed = await call(server, 'POST', '/api/v1/outbox/replay-dead', { token: admin });
      events.push(`replayed ${replayed.status}`);
      expect(events).toEqual(['released', 'denied 403', 'released', 'replayed 200']);
      const audit = await server.store.db.selectFrom('audit_log').select('action').execute();
      expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['access.denied', 'outbox.replayed']));
    });
  });
});
