import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAccount } from '../../src/auth/accounts.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { buildApp, type App, type AppDeps } from '../../src/http/app.js';
import { openStore, type DialectName, type Store } from '../../src/store/db.js';
import type { Role } from '../../src/store/members.js';
import { freshStore } from './stores.js';

/**
 * The real server on a loopback port over a fresh database, with a small organisation: two teams
 * (A managed by mgr-a, B by mgr-b), reps in each, and an admin. Every test makes its own server, so
 * nothing needs cleaning up. The clock is settable so tests can move time (sessions, throttling).
 */

export const TEST_PROCESS = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'two-teams.process.yaml'), 'utf8');

export const PASSWORD = 'correct horse battery staple';

/** Everyone in TEST_PROCESS gets an account with this role; emails are id@test.example. */
export const PEOPLE: Record<string, Role> = {
  admin: 'admin',
  'mgr-a': 'manager',
  'mgr-b': 'manager',
  'rep-a1': 'rep',
  'rep-a2': 'rep',
  'rep-b1': 'rep',
  'rep-b2': 'rep',
};

export interface TestServer {
  url: string;
  store: Store;
  app: App;
  clock: { now: number };
  close(): Promise<void>;
}

export async function startServer(
  dialect: DialectName,
  opts: {
    process?: string;
    people?: boolean;
    publicRoutes?: AppDeps['publicRoutes'];
    /** A database of the test's own (freshDatabaseUrl), so it can open a second store on it. */
    url?: string;
  } = {},
): Promise<TestServer> {
  const store = opts.url ? await openStore(opts.url) : await freshStore(dialect);
  const clock = { now: Date.parse('2026-03-02T09:00:00Z') };
  await applyProcess(store, opts.process ?? TEST_PROCESS, clock.now, 'test');
  if (opts.people !== false)
    for (const [id, role] of Object.entries(PEOPLE))
      await createAccount(
        store,
        { id, email: `${id}@test.example`, name: id, role, password: PASSWORD },
        clock.now,
        'test',
      );
  const app = await buildApp({
    store,
    now: () => clock.now,
    session: { idleMs: 30 * 60_000, absoluteMs: 8 * 3_600_000 },
    // Unsubscribe links and Mailchimp's webhook off unless a test turns them on, whatever the environment says.
    publicRoutes: opts.publicRoutes ?? { unsubscribeSecret: '', mailchimpWebhook: { secret: '', lists: new Map() } },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    app,
    clock,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

export interface CallOptions {
  token?: string;
  cookie?: string;
  csrf?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One HTTP call with fetch; JSON in and out. */
export async function call(server: TestServer, method: string, path: string, o: CallOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers['authorization'] = `Bearer ${o.token}`;
  if (o.cookie) headers['cookie'] = o.cookie;
  if (o.csrf) headers['x-csrf-token'] = o.csrf;
  if (o.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(server.url + path, {
    method,
    headers,
    ...(o.body !== undefined ? { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, headers: res.headers, body, text };
}

export interface Session {
  cookie: string;
  csrf: string;
}

export async function login(server: TestServer, id: string, password = PASSWORD): Promise<Session> {
  const r = await call(server, 'POST', '/api/v1/auth/login', { body: { email: `${id}@test.example`, password } });
  if (r.status !== 200) throw new Error(`login ${id}: ${r.status} ${r.text}`);
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return { cookie, csrf: (r.body as { csrfToken: string }).csrfToken };
}

/** An API token for a person, made through the API as they would make it. */
export async function tokenFor(server: TestServer, id: string, scopes: string[] = ['*']): Promise<string> {
  const s = await login(server, id);
  const r = await call(server, 'POST', '/api/v1/tokens', { ...s, body: { name: `test ${id}`, scopes } });
  if (r.status !== 201) throw new Error(`token ${id}: ${r.status} ${r.text}`);
  return (r.body as { token: string }).token;
}

/** A lead owned by `owner`, made by the admin token. */
export async function leadOf(server: TestServer, adminToken: string, owner: string, id?: string): Promise<string> {
  const r = await call(server, 'POST', '/api/v1/leads', {
    token: adminToken,
    body: {
      ...(id ? { id } : {}),
      owner,
      contact: { name: `Lead of ${owner}`, email: `${owner}-${Math.random().toString(36).slice(2)}@acme.example` },
      fields: { value: 1000 },
    },
  });
  if (r.status !== 201) throw new Error(`lead for ${owner}: ${r.status} ${r.text}`);
  return (r.body as { id: string }).id;
}
