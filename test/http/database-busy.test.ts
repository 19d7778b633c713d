import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { call, PASSWORD, startServer, tokenFor, type TestServer } from '../support/http.js';

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
});
