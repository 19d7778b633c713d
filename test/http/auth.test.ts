import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/auth/accounts.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { buildApp } from '../../src/http/app.js';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { TOKEN_CACHE_MS } from '../../src/http/token-cache.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';
import {
  call,
  login,
  PASSWORD,
  startServer,
  TEST_PROCESS,
  tokenFor,
  type Answer,
  type CallOptions,
  type Session,
  type TestServer,
} from '../support/http.js';

/**
 * Sign-in, sessions, CSRF, API tokens, security headers and the audit log, over real HTTP. One
 * server per database; the clock only ever moves forward, and every test signs in afresh, so a
 * test that moves time does not disturb the others.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const PASSPHRASE = 'plum tractor seventeen lighthouse';

const unique = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;

function expectProblem(a: Answer, status: number, type: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect((a.body as { type: string }).type).toBe(PROBLEM_BASE + type);
}

function expectSecurityHeaders(a: Answer, what: string): void {
  expect(a.headers.get('content-security-policy'), what).toMatch(/frame-ancestors 'none'/);
  expect(a.headers.get('strict-transport-security'), what).toMatch(/max-age=\d+/);
  expect(a.headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(a.headers.get('referrer-policy'), what).toBeTruthy();
}

/** Every row of every table, as text, to look for secrets in. */
async function allRowsText(store: Store): Promise<Record<string, string>> {
  const tables =
    store.dialect === 'sqlite'
      ? await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db)
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.tables where table_schema = current_schema()`.execute(
          store.db,
        );
  const out: Record<string, string> = {};
  for (const { name } of tables.rows) {
    const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(store.db);
    out[name] = JSON.stringify(rows.rows);
  }
  return out;
}

describe.each(dialects)('sign-in, sessions, CSRF and tokens on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  const loginAnswer = (id: string, password: string, o: CallOptions = {}) =>
    call(server, 'POST', '/api/v1/auth/login', { ...o, body: { email: `${id}@test.example`, password } });
  const me = (o: CallOptions) => call(server, 'GET', '/api/v1/auth/me', o);
  /** A fresh rep account of our own, so tests that disable or throttle it disturb no one. */
  const newAccount = async (what: string, role = 'rep') => {
    const id = unique(what);
    const r = await call(server, 'POST', '/api/v1/users', {
      token: admin,
      body: { id, email: `${id}@test.example`, name: id, role, password: PASSWORD },
    });
    expect(r.status, r.text).toBe(201);
    return id;
  };

  describe('sessions', () => {
    it('sets stageflow_session HttpOnly, SameSite=Lax, Path=/ and (over plain http) not Secure', async () => {
      for (const headers of [{}, { 'x-forwarded-proto': 'https' }] as Record<string, string>[]) {
        const r = await loginAnswer('rep-a1', PASSWORD, { headers });
        expect(r.status, r.text).toBe(200);
        const cookies = r.headers.getSetCookie();
        expect(cookies).toHaveLength(1);
        const [pair = '', ...attrs] = (cookies[0] ?? '').split(';').map((s) => s.trim());
        expect(pair).toMatch(/^stageflow_session=sf_ses_[A-Za-z0-9_-]{43}$/);
        const lower = attrs.map((a) => a.toLowerCase());
        expect(lower).toContain('httponly');
        expect(lower).toContain('samesite=lax');
        expect(lower).toContain('path=/');
        expect(lower).not.toContain('secure');
        const body = r.body as { csrfToken: string; user: { id: string } };
        expect(body.user.id).toBe('rep-a1');
        expect(body.csrfToken.length).toBeGreaterThanOrEqual(22);
        expect(r.text).not.toMatch(/argon2|password/i);
      }
    });

    it('makes a new session at every login and ends the one whose cookie came with it', async () => {
      const first = await login(server, 'rep-a1');
      expect((await me({ cookie: first.cookie })).status).toBe(200);

      const again = await loginAnswer('rep-a1', PASSWORD, { cookie: first.cookie });
      expect(again.status, again.text).toBe(200);
      const second: Session = {
        cookie: (again.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
        csrf: (again.body as { csrfToken: string }).csrfToken,
      };
      expect(second.cookie).not.toBe(first.cookie);
      expect(second.csrf).not.toBe(first.csrf);

      expectProblem(await me({ cookie: first.cookie }), 401, 'unauthenticated');
      const now = await me({ cookie: second.cookie });
      expect(now.status).toBe(200);
      expect(now.body).toMatchObject({ via: 'session', csrfToken: second.csrf, user: { id: 'rep-a1' } });
    });

    it('answers a wrong password, and an unknown email, with the same 401 problem', async () => {
      const wrong = await loginAnswer('rep-a2', 'not the password at all');
      expectProblem(wrong, 401, 'unauthenticated');
      expect(wrong.headers.getSetCookie()).toEqual([]);
      const unknown = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'nobody@test.example', password: 'not the password at all' },
      });
      expectProblem(unknown, 401, 'unauthenticated');
      expect((unknown.body as { detail: string }).detail).toBe((wrong.body as { detail: string }).detail);
    });

    it('ends a session after 30 idle minutes', async () => {
      const s = await login(server, 'rep-a1');
      server.clock.now += 29 * MINUTE;
      expect((await me(s)).status).toBe(200);
      server.clock.now += 29 * MINUTE; // 58 minutes since login, 29 since last seen
      expect((await me(s)).status).toBe(200);
      server.clock.now += 31 * MINUTE;
      expectProblem(await me(s), 401, 'unauthenticated');
      // Ended for good: coming back earlier would not revive it.
      expectProblem(await me(s), 401, 'unauthenticated');
    });

    it('ends a session 8 hours after login even when it is used every 10 minutes', async () => {
      const s = await login(server, 'rep-a1');
      const start = server.clock.now;
      while (server.clock.now + 10 * MINUTE < start + 8 * HOUR) {
        server.clock.now += 10 * MINUTE;
        const r = await me(s);
        expect(r.status, `at +${(server.clock.now - start) / MINUTE} min`).toBe(200);
      }
      server.clock.now = start + 8 * HOUR;
      expectProblem(await me(s), 401, 'unauthenticated');
    });
  });

  describe('throttling', () => {
    it('allows 100 failed sign-ins an hour on one account; the 101st is 429, until the hour has passed', async () => {
      const id = await newAccount('throttled');
      for (let i = 1; i <= 100; i++) {
        const r = await loginAnswer(id, `wrong password ${i}`);
        expect(r.status, `attempt ${i}: ${r.text}`).toBe(401);
      }
      const blocked = await loginAnswer(id, 'wrong password 101');
      expectProblem(blocked, 429, 'too-many-requests');
      expect(blocked.headers.get('retry-after')).not.toBeNull();
      // The right password does not get through either, and no cookie is set.
      const right = await loginAnswer(id, PASSWORD);
      expectProblem(right, 429, 'too-many-requests');
      expect(right.headers.getSetCookie()).toEqual([]);
      // Per account: someone else signs in as usual.
      expect((await loginAnswer('rep-b1', PASSWORD)).status).toBe(200);

      server.clock.now += HOUR + 1_000;
      const later = await loginAnswer(id, PASSWORD);
      expect(later.status, later.text).toBe(200);
    });

    it('counts concurrent failures: a burst cannot check more passwords than the limit allows', async () => {
      // 95 failures already this hour; a burst of 30 may have only 5 passwords checked.
      const id = await newAccount('burst');
      const email = `${id}@test.example`;
      await server.store.db
        .insertInto('login_failures')
        .values(Array.from({ length: 95 }, (_, i) => ({ email, at: server.clock.now - i })))
        .execute();
      const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => loginAnswer(id, `burst guess ${i}`)));
      const counts: Record<number, number> = {};
      for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
      // At most 5 passwords are checked; attempts that count while others are in flight may see
      // them and be refused too, so fewer than 5 can be checked, never more.
      expect(Object.keys(counts).sort()).toEqual(expect.arrayContaining(['429']));
      expect(counts[401] ?? 0).toBeLessThanOrEqual(5);
      expect((counts[401] ?? 0) + (counts[429] ?? 0)).toBe(30);
    });
  });

  describe('passwords', () => {
    const create = (password: string) => {
      const id = unique('pw');
      return call(server, 'POST', '/api/v1/users', {
        token: admin,
        body: { id, email: `${id}@test.example`, name: 'Pat Word', role: 'rep', password },
      }).then((r) => ({ id, r }));
    };

    it.each(['password123', 'qwertyuiop', 'Password123', 'abcdefg', 'Ab1!xyz'])(
      'refuses the password %j for a new user (400 naming body.password) and makes no account',
      async (password) => {
        const { id, r } = await create(password);
        expectProblem(r, 400, 'validation-failed');
        const errors = (r.body as { errors: { field: string }[] }).errors;
        expect(errors.map((e) => e.field)).toContain('body.password');
        expect(r.text).not.toContain(password);
        expectProblem(await call(server, 'GET', `/api/v1/users/${id}`, { token: admin }), 404, 'not-found');
      },
    );

    it('lists a bad password with every other failing field in one answer', async () => {
      const r = await call(server, 'POST', '/api/v1/users', {
        token: admin,
        body: { id: unique('pw'), email: 'not-an-address', name: 'Pat Word', role: 'rep', password: 'short' },
      });
      expectProblem(r, 400, 'validation-failed');
      expect((r.body as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual([
        'body.email',
        'body.password',
      ]);
    });

    it('accepts a long passphrase, which then signs in', async () => {
      const { id, r } = await create(PASSPHRASE);
      expect(r.status, r.text).toBe(201);
      expect((await loginAnswer(id, PASSPHRASE)).status).toBe(200);
    });

    it('refuses a common password when an admin changes one', async () => {
      const id = await newAccount('pwchange');
      const got = await call(server, 'GET', `/api/v1/users/${id}`, { token: admin });
      const r = await call(server, 'PATCH', `/api/v1/users/${id}`, {
        token: admin,
        headers: { 'if-match': got.headers.get('etag') ?? '' },
        body: { password: 'password123' },
      });
      expectProblem(r, 400, 'validation-failed');
      expect((r.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain('body.password');
    });
  });

  describe('disabling a user', () => {
    it('ends their sessions and their tokens, and they cannot sign in', async () => {
      const id = await newAccount('disabled');
      const session = await login(server, id);
      const token = await tokenFor(server, id);
      expect((await me(session)).status).toBe(200);
      expect((await me({ token })).status).toBe(200);

      const got = await call(server, 'GET', `/api/v1/users/${id}`, { token: admin });
      expect(got.status).toBe(200);
      const etag = got.headers.get('etag');
      // Weak: it covers the routing part too; PATCH's If-Match takes its account part.
      expect(etag).toMatch(/^W\/"\d+\.\d+\.\d+"$/);
      expectProblem(
        await call(server, 'PATCH', `/api/v1/users/${id}`, { token: admin, body: { disabled: true } }),
        428,
        'precondition-required',
      );
      const r = await call(server, 'PATCH', `/api/v1/users/${id}`, {
        token: admin,
        headers: { 'if-match': etag ?? '' },
        body: { disabled: true },
      });
      expect(r.status, r.text).toBe(200);
      expect((r.body as { account: { disabled: boolean } }).account.disabled).toBe(true);

      expectProblem(await me(session), 401, 'unauthenticated');
      expectProblem(await me({ token }), 401, 'unauthenticated');
      expectProblem(await loginAnswer(id, PASSWORD), 401, 'unauthenticated');
    });
  });

  describe('CSRF', () => {
    const leadBody = () => ({ contact: { name: 'Cee Surf' }, fields: { source: unique('csrf') } });

    it('refuses a cookie-authenticated write without the session’s X-CSRF-Token, and takes it with', async () => {
      const s = await login(server, 'admin');
      const body = leadBody();
      expectProblem(await call(server, 'POST', '/api/v1/leads', { cookie: s.cookie, body }), 403, 'csrf-failed');
      expectProblem(
        await call(server, 'POST', '/api/v1/leads', { cookie: s.cookie, csrf: 'x'.repeat(s.csrf.length), body }),
        403,
        'csrf-failed',
      );
      // Another session's token is not this session's.
      const other = await login(server, 'admin');
      expectProblem(
        await call(server, 'POST', '/api/v1/leads', { cookie: s.cookie, csrf: other.csrf, body }),
        403,
        'csrf-failed',
      );
      const none = await call(server, 'GET', `/api/v1/leads?source=${body.fields.source}`, { token: admin });
      expect((none.body as { items: unknown[] }).items).toHaveLength(0);

      const ok = await call(server, 'POST', '/api/v1/leads', { ...s, body });
      expect(ok.status, ok.text).toBe(201);
      // Reads need no token, and GET /auth/me hands out the same one.
      const read = await me({ cookie: s.cookie });
      expect(read.status).toBe(200);
      expect((read.body as { csrfToken: string }).csrfToken).toBe(s.csrf);
      // A PATCH and a logout are writes too.
      const id = (ok.body as { id: string }).id;
      expectProblem(
        await call(server, 'PATCH', `/api/v1/leads/${id}`, {
          cookie: s.cookie,
          headers: { 'if-match': '"1"' },
          body: { fields: { note: 'x' } },
        }),
        403,
        'csrf-failed',
      );
      expectProblem(await call(server, 'POST', '/api/v1/auth/logout', { cookie: s.cookie }), 403, 'csrf-failed');
      expect((await me({ cookie: s.cookie })).status).toBe(200);
    });

    it('needs no CSRF token for a token-authenticated write', async () => {
      const r = await call(server, 'POST', '/api/v1/leads', { token: admin, body: leadBody() });
      expect(r.status, r.text).toBe(201);
    });
  });

  describe('API tokens', () => {
    it('are sf_pat_ and at least 128 random bits, stored only as a hash, and shown only once', async () => {
      const s = await login(server, 'rep-a1');
      const made = await Promise.all(
        ['one', 'two'].map((name) =>
          call(server, 'POST', '/api/v1/tokens', { ...s, body: { name, scopes: ['leads:read'] } }),
        ),
      );
      const secrets = made.map((r) => {
        expect(r.status, r.text).toBe(201);
        return (r.body as { token: string }).token;
      });
      for (const secret of secrets) {
        expect(secret).toMatch(/^sf_pat_[A-Za-z0-9_-]+$/);
        // base64url carries 6 bits a character: 128 bits need at least 22 characters.
        expect(secret.length - 'sf_pat_'.length).toBeGreaterThanOrEqual(22);
      }
      expect(secrets[0]).not.toBe(secrets[1]);

      const stored = JSON.stringify(await server.store.db.selectFrom('api_tokens').selectAll().execute());
      for (const secret of secrets) {
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(secret.slice('sf_pat_'.length));
      }

      const list = await call(server, 'GET', '/api/v1/tokens', { cookie: s.cookie });
      expect(list.status).toBe(200);
      const ids = (list.body as { items: { id: string }[] }).items.map((t) => t.id);
      for (const r of made) expect(ids).toContain((r.body as { id: string }).id);
      for (const secret of secrets) expect(list.text).not.toContain(secret.slice('sf_pat_'.length));
      const byToken = await call(server, 'GET', '/api/v1/tokens', { token: secrets[0] ?? '' });
      expect(byToken.status).toBe(200);
      for (const secret of secrets) expect(byToken.text).not.toContain(secret.slice('sf_pat_'.length));
    });

    it('work until revoked, and then answer 401', async () => {
      const s = await login(server, 'rep-a1');
      const made = await call(server, 'POST', '/api/v1/tokens', { ...s, body: { name: 'ci', scopes: ['*'] } });
      const { id, token } = made.body as { id: string; token: string };
      expect((await me({ token })).body).toMatchObject({ via: 'token', user: { id: 'rep-a1' } });

      // Someone else's token is not yours to revoke: it does not exist for you.
      const otherRep = await login(server, 'rep-a2');
      expectProblem(await call(server, 'DELETE', `/api/v1/tokens/${id}`, otherRep), 404, 'not-found');
      expect((await me({ token })).status).toBe(200);

      const revoked = await call(server, 'DELETE', `/api/v1/tokens/${id}`, s);
      expect(revoked.status, revoked.text).toBe(204);
      expectProblem(await me({ token }), 401, 'unauthenticated');
    });

    it('are read again after at most TOKEN_CACHE_MS, so another process revoking one is obeyed', async () => {
      const s = await login(server, 'rep-a1');
      const made = await call(server, 'POST', '/api/v1/tokens', { ...s, body: { name: 'cli-revoked', scopes: ['*'] } });
      const { id, token } = made.body as { id: string; token: string };
      expect((await me({ token })).status).toBe(200);
      // As `stageflow` in another process would: straight to the database, not through this server.
      await sql`update api_tokens set revoked_at = ${server.clock.now} where id = ${id}`.execute(server.store.db);
      await new Promise((r) => setTimeout(r, TOKEN_CACHE_MS + 50));
      expectProblem(await me({ token }), 401, 'unauthenticated');
    });

    it('expire after expiresInDays', async () => {
      const s = await login(server, 'rep-a1');
      const made = await call(server, 'POST', '/api/v1/tokens', {
        ...s,
        body: { name: 'short', scopes: ['leads:read'], expiresInDays: 1 },
      });
      expect(made.status, made.text).toBe(201);
      const { token } = made.body as { token: string };
      server.clock.now += DAY - MINUTE;
      expect((await call(server, 'GET', '/api/v1/leads', { token })).status).toBe(200);
      server.clock.now += 2 * MINUTE;
      expectProblem(await call(server, 'GET', '/api/v1/leads', { token }), 401, 'unauthenticated');
    });

    it('cannot make tokens, nor act beyond their scopes', async () => {
      const token = await tokenFor(server, 'rep-a1', ['leads:read']);
      expectProblem(
        await call(server, 'POST', '/api/v1/tokens', { token, body: { name: 'child', scopes: ['leads:read'] } }),
        403,
        'forbidden',
      );
      expectProblem(
        await call(server, 'POST', '/api/v1/leads', { token, body: { contact: { name: 'x' } } }),
        403,
        'forbidden',
      );
      const full = await tokenFor(server, 'admin');
      expectProblem(
        await call(server, 'POST', '/api/v1/tokens', { token: full, body: { name: 'child', scopes: ['*'] } }),
        403,
        'forbidden',
      );
    });

    it('refuse a malformed or unknown bearer token with 401', async () => {
      for (const authorization of ['Bearer nope', 'Basic YWRtaW46YWRtaW4=', `Bearer sf_pat_${'A'.repeat(43)}`, '']) {
        expectProblem(await me({ headers: { authorization } }), 401, 'unauthenticated');
      }
    });
  });

  describe('security headers', () => {
    it('are on every answer: 2xx, 4xx, problem answers, /openapi.json and /docs', async () => {
      const s = await login(server, 'rep-a1');
      const answers: [string, Answer][] = [
        ['healthz', await call(server, 'GET', '/healthz')],
        ['openapi', await call(server, 'GET', '/openapi.json')],
        ['docs', await call(server, 'GET', '/docs')],
        ['me', await me({ token: admin })],
        ['404 route', await call(server, 'GET', '/api/v1/no-such-thing', { token: admin })],
        ['404 anonymous', await call(server, 'GET', '/no-such-thing')],
        ['404 lead', await call(server, 'GET', '/api/v1/leads/L-missing', { token: admin })],
        ['401 anonymous', await call(server, 'GET', '/api/v1/leads')],
        ['401 bad token', await call(server, 'GET', '/api/v1/leads', { token: 'sf_pat_nope' })],
        ['403 role', await call(server, 'GET', '/api/v1/audit', { cookie: s.cookie })],
        ['403 csrf', await call(server, 'POST', '/api/v1/leads', { cookie: s.cookie, body: {} })],
        ['400 json', await call(server, 'POST', '/api/v1/leads', { token: admin, body: '{"contact":' })],
        [
          '415',
          await call(server, 'POST', '/api/v1/leads', {
            token: admin,
            body: 'contact=x',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
        ],
        [
          '415 text',
          await call(server, 'POST', '/api/v1/leads', {
            token: admin,
            body: 'hello',
            headers: { 'content-type': 'text/plain' },
          }),
        ],
        ['400 validation', await call(server, 'GET', '/api/v1/leads?limit=0', { token: admin })],
        ['login 401', await loginAnswer('rep-a1', 'wrong password here')],
      ];
      for (const [what, a] of answers) {
        expect(a.status, what).toBeGreaterThan(0);
        expectSecurityHeaders(a, `${what} (${a.status})`);
      }
      expect(answers.find(([w]) => w === '404 route')?.[1].status).toBe(404);
      expect(answers.find(([w]) => w === '401 anonymous')?.[1].status).toBe(401);
      expect(answers.find(([w]) => w === 'openapi')?.[1].status).toBe(200);
      expect(answers.find(([w]) => w === '415 text')?.[1].status).toBe(415);
      // API answers are never cached; a 401 names the scheme that would do.
      for (const [what, a] of answers)
        if (['me', '404 route', '404 lead', '401 anonymous', '400 validation', 'login 401'].includes(what))
          expect(a.headers.get('cache-control'), what).toBe('no-store');
      for (const what of ['401 anonymous', '401 bad token', 'login 401'])
        expect(answers.find(([w]) => w === what)?.[1].headers.get('www-authenticate'), what).toBe(
          'Bearer realm="stageflow"',
        );
    });

    it('are on the answers Fastify makes before routing: bad percent-encoding, an over-long path parameter', async () => {
      const badUrl = await call(server, 'GET', '/api/v1/leads/%E0%A4%A', { token: admin });
      const longParam = await call(server, 'GET', `/api/v1/leads/${'x'.repeat(150)}`, { token: admin });
      for (const [what, a] of [
        ['bad url', badUrl],
        ['long param', longParam],
      ] as const) {
        expect(a.status, what).toBeGreaterThanOrEqual(400);
        expect(a.status, what).toBeLessThan(500);
        expect(a.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
        expectSecurityHeaders(a, what);
      }
    });
  });

  describe('audit', () => {
    it('records sign-ins, tokens, role changes and disabling, and never a password or secret', async () => {
      const wrongPassword = `Wrong-${randomBytes(8).toString('hex')}`;
      const newPassword = `new passphrase ${randomBytes(6).toString('hex')}`;
      const id = await newAccount('audited');

      const session = await login(server, id);
      expectProblem(await loginAnswer(id, wrongPassword), 401, 'unauthenticated');
      const made = await call(server, 'POST', '/api/v1/tokens', { ...session, body: { name: 'aud', scopes: ['*'] } });
      const { id: tokenId, token } = made.body as { id: string; token: string };
      expect((await me({ token })).status).toBe(200);
      expect((await call(server, 'DELETE', `/api/v1/tokens/${tokenId}`, session)).status).toBe(204);

      const patch = async (body: object) => {
        const got = await call(server, 'GET', `/api/v1/users/${id}`, { token: admin });
        const r = await call(server, 'PATCH', `/api/v1/users/${id}`, {
          token: admin,
          headers: { 'if-match': got.headers.get('etag') ?? '' },
          body,
        });
        expect(r.status, r.text).toBe(200);
      };
      await patch({ password: newPassword });
      const later = await login(server, id, newPassword);
      await patch({ role: 'manager' });
      await patch({ disabled: true });

      const audit = async (action: string) => {
        const r = await call(server, 'GET', `/api/v1/audit?action=${action}&limit=500`, { token: admin });
        expect(r.status, r.text).toBe(200);
        return r;
      };
      const expectations: [string, string, Record<string, unknown>?][] = [
        ['login.succeeded', id],
        ['login.failed', `${id}@test.example`, { reason: 'wrong password' }],
        ['token.created', tokenId],
        ['token.revoked', tokenId],
        ['member.role_changed', id, { from: 'rep', to: 'manager' }],
        ['member.disabled', id],
        ['member.password_changed', id],
      ];
      const secrets = [
        PASSWORD,
        wrongPassword,
        newPassword,
        token,
        token.slice('sf_pat_'.length),
        session.cookie.split('=')[1] ?? '',
        later.cookie.split('=')[1] ?? '',
        admin.slice('sf_pat_'.length),
      ];
      expect(secrets.every((x) => x.length >= 20)).toBe(true);
      for (const [action, target, details] of expectations) {
        const r = await audit(action);
        const items = (r.body as { items: { action: string; target: string; details: object }[] }).items;
        const mine = items.filter((i) => i.target === target);
        expect(mine.length, action).toBeGreaterThanOrEqual(1);
        if (details) expect(mine[0]?.details).toMatchObject(details);
        for (const secret of secrets) expect(r.text, action).not.toContain(secret);
      }

      const rows = await allRowsText(server.store);
      expect(Object.keys(rows)).toEqual(expect.arrayContaining(['audit_log', 'api_tokens', 'sessions', 'members']));
      for (const [table, text] of Object.entries(rows))
        for (const secret of secrets) expect(text, `table ${table}`).not.toContain(secret);
    });
  });
});

describe.each(dialects)('the server log on %s', (dialect) => {
  it('never holds a password, token, session secret or CSRF token', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    });
    const store = await freshStore(dialect);
    const clock = { now: Date.parse('2026-03-02T09:00:00Z') };
    await applyProcess(store, TEST_PROCESS, clock.now, 'test');
    for (const [id, role] of [
      ['admin', 'admin'],
      ['rep-a1', 'rep'],
    ] as const)
      await createAccount(
        store,
        { id, email: `${id}@test.example`, name: id, role, password: PASSWORD },
        clock.now,
        't',
      );
    // The logger as src/server/serve.ts configures it, at the most verbose level.
    const app = await buildApp({
      store,
      now: () => clock.now,
      session: { idleMs: 30 * MINUTE, absoluteMs: 8 * HOUR },
      logger: {
        level: 'trace',
        stream,
        serializers: {
          req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
        },
      },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const server: TestServer = {
      url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
      store,
      app,
      clock,
      close: async () => {
        await app.close();
        await store.close();
      },
    };
    try {
      const wrongPassword = `Wrong-${randomBytes(8).toString('hex')}`;
      const s = await login(server, 'rep-a1');
      const failed = await call(server, 'POST', '/api/v1/auth/login', {
        body: { email: 'rep-a1@test.example', password: wrongPassword },
      });
      expect(failed.status).toBe(401);
      const made = await call(server, 'POST', '/api/v1/tokens', { ...s, body: { name: 'log', scopes: ['*'] } });
      expect(made.status, made.text).toBe(201);
      const { id: tokenId, token } = made.body as { id: string; token: string };
      // Secrets where a careless log would pick them up: headers, query strings, bodies of failed requests.
      await call(server, 'GET', `/api/v1/leads?token=${token}`, { token });
      await call(server, 'GET', '/api/v1/leads', { headers: { authorization: `Bearer ${token}x` } });
      await call(server, 'POST', '/api/v1/auth/login', {
        body: `{"email":"rep-a1@test.example","password":"${wrongPassword}"`,
      });
      await call(server, 'POST', '/api/v1/leads', { cookie: s.cookie, body: { contact: { name: 'x' } } });
      await call(server, 'DELETE', `/api/v1/tokens/${tokenId}`, s);
      await call(server, 'GET', '/api/v1/leads', { token });
      await call(server, 'POST', '/api/v1/auth/logout', s);

      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(10);
      expect(log).toContain('incoming request');
      for (const secret of [
        PASSWORD,
        wrongPassword,
        token.slice('sf_pat_'.length),
        s.cookie.split('=')[1] ?? '',
        s.csrf,
      ])
        expect(log).not.toContain(secret);
    } finally {
      await server.close();
    }
  });
});

describe.each(dialects)('the last active admin on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  const change = (id: string, body: object) =>
    call(server, 'PATCH', `/api/v1/users/${id}`, { token: admin, headers: { 'if-match': '*' }, body });

  it('can be neither disabled nor demoted, by themselves or anyone; with a second admin, one of two can', async () => {
    expectProblem(await change('admin', { disabled: true }), 409, 'conflict');
    expectProblem(await change('admin', { role: 'manager' }), 409, 'conflict');
    expect((await call(server, 'GET', '/api/v1/auth/me', { token: admin })).status).toBe(200);

    const second = await call(server, 'POST', '/api/v1/users', {
      token: admin,
      body: { id: 'admin-2', email: 'admin-2@test.example', name: 'Second', role: 'admin', password: PASSWORD },
    });
    expect(second.status, second.text).toBe(201);
    // Each demotes the other at once. Whichever goes second is refused: as the last admin (409),
    // or, when the first change reached its own account before its request was authorized, as a
    // manager (403). Never both.
    const token2 = await tokenFor(server, 'admin-2');
    const both = await Promise.all([
      call(server, 'PATCH', '/api/v1/users/admin-2', {
        token: admin,
        headers: { 'if-match': '*' },
        body: { role: 'manager' },
      }),
      call(server, 'PATCH', '/api/v1/users/admin', {
        token: token2,
        headers: { 'if-match': '*' },
        body: { role: 'manager' },
      }),
    ]);
    expect(both.filter((r) => r.status === 200)).toHaveLength(1);
    expect(both.filter((r) => r.status === 403 || r.status === 409)).toHaveLength(1);
    const admins = (
      (await call(server, 'GET', '/api/v1/users', { token: both[0]?.status === 200 ? admin : token2 })).body as {
        items: { id: string; account: { role: string } | null }[];
      }
    ).items.filter((u) => u.account?.role === 'admin');
    expect(admins).toHaveLength(1);
  });
});
