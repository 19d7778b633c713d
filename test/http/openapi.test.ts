import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PROBLEM_BASE, PROBLEM_TYPES } from '../../src/http/problem.js';
import { dialects } from '../support/stores.js';
import {
  call,
  leadOf,
  login,
  startServer,
  TEST_PROCESS,
  tokenFor,
  type Answer,
  type TestServer,
} from '../support/http.js';

/**
 * /openapi.json tells the whole truth: every operation declares its success answer and every
 * error it can give, each error as problem+json with the one Problem component; real answers of
 * the running server validate against the schemas the document gives for them, and their status
 * codes are among those it lists. A path asked with a method it does not answer is 405 with Allow.
 */

type JsonSchema = Record<string, unknown>;
interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: unknown;
  responses: Record<string, { description: string; content?: Record<string, { schema?: JsonSchema }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

const PROBLEM_REF = { $ref: '#/components/schemas/Problem' };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function operations(doc: OpenApi): { method: string; path: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
}

/** A zod validator for a schema of the document, its component references resolved. */
function validator(doc: OpenApi, schema: JsonSchema): z.ZodType {
  const text = JSON.stringify({ ...schema, $defs: doc.components.schemas }).replaceAll(
    '#/components/schemas/',
    '#/$defs/',
  );
  return z.fromJSONSchema(JSON.parse(text) as Parameters<typeof z.fromJSONSchema>[0]);
}

/** The schema the document gives for this answer: its operation, its status, its media type. */
function schemaFor(doc: OpenApi, method: string, path: string, a: Answer): JsonSchema {
  const op = doc.paths[path]?.[method.toLowerCase()];
  const response = op?.responses[String(a.status)];
  const media = (a.headers.get('content-type') ?? '').split(';')[0] ?? '';
  const schema = response?.content?.[media]?.schema;
  if (!schema) throw new Error(`${method} ${path}: the document has no ${a.status} ${media} answer`);
  return schema;
}

function expectValid(doc: OpenApi, method: string, path: string, a: Answer): void {
  const result = validator(doc, schemaFor(doc, method, path, a)).safeParse(a.body);
  expect(result.error?.issues ?? [], `${method} ${path} ${a.status}: ${a.text.slice(0, 300)}`).toEqual([]);
}

/** A path of the document with each parameter filled in. */
const filled = (path: string, value = 'no-such-thing') => path.replace(/\{[^}]+\}/g, value);

describe.each(dialects)('the OpenAPI document on %s', (dialect) => {
  let server: TestServer;
  let doc: OpenApi;
  let admin: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    const r = await call(server, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    doc = r.body as OpenApi;
  });
  afterAll(() => server.close());

  it('lists every route of the route table, and nothing else', () => {
    const documented = operations(doc).map((o) => `${o.method} ${o.path.replace(/\{([^}]+)\}/g, ':$1')}`);
    const api = server.app.routeTable.filter((r) => r.url.startsWith('/api/')).map((r) => `${r.method} ${r.url}`);
    expect(documented.sort()).toEqual(api.sort());
  });

  it('gives every operation a success answer with a schema, or an explicit answer without content', () => {
    const missing: string[] = [];
    for (const { method, path, op } of operations(doc)) {
      const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
      if (success.length === 0) missing.push(`${method} ${path}: no 2xx answer`);
      for (const [status, r] of success) {
        const media = Object.entries(r.content ?? {});
        if (status === '204' ? media.length > 0 : media.length === 0 || media.some(([, m]) => !m.schema))
          missing.push(`${method} ${path}: ${status} ${status === '204' ? 'has content' : 'has no schema'}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('describes every success answer in one line of its own, never "Default Response"', () => {
    const vague: string[] = [];
    for (const { method, path, op } of operations(doc))
      for (const [status, r] of Object.entries(op.responses))
        if (/^2\d\d$/.test(status) && (r.description === 'Default Response' || !/^\S[^\n]{5,}$/.test(r.description)))
          vague.push(`${method} ${path}: ${status} "${r.description}"`);
    expect(vague).toEqual([]);
    expect(doc.paths['/api/v1/leads']?.['get']?.responses['200']?.description).toBe(
      'List leads you can see, filtered and sorted, a page at a time',
    );
    expect(doc.paths['/api/v1/leads']?.['post']?.responses['201']?.description).toMatch(/^Created: Create a lead/);
    expect(doc.paths['/api/v1/tokens/{id}']?.['delete']?.responses['204']?.description).toMatch(/^No Content: \w/);
  });

  it('gives every operation but the public ones a 401, and every error the Problem schema as problem+json', () => {
    const wrong: string[] = [];
    const publicRoutes = new Set(
      server.app.routeTable.filter((r) => r.access.roles === 'public').map((r) => `${r.method} ${r.url}`),
    );
    for (const { method, path, op } of operations(doc)) {
      const key = `${method} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
      if (!publicRoutes.has(key) && !op.responses['401']) wrong.push(`${key}: no 401`);
      if (!op.responses['500']) wrong.push(`${key}: no 500`);
      for (const [status, r] of Object.entries(op.responses))
        if (
          Number(status) >= 400 &&
          JSON.stringify(r.content) !== JSON.stringify({ 'application/problem+json': { schema: PROBLEM_REF } })
        )
          wrong.push(`${key}: ${status} is not the Problem as problem+json`);
    }
    expect(wrong).toEqual([]);
    // Exactly the statuses of the problem types the route table derived for each route, no more.
    for (const route of server.app.routeTable.filter((r) => r.url.startsWith('/api/'))) {
      const op = doc.paths[route.url.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
      const errors = Object.keys(op?.responses ?? {}).filter((s) => Number(s) >= 400);
      const derived = [...new Set(route.problems.map((t) => String(PROBLEM_TYPES[t][0])))];
      expect(errors.sort(), `${route.method} ${route.url}`).toEqual(derived.sort());
    }
    // The login refuses a wrong password with 401 and throttles with 429, though it is public.
    expect(Object.keys(doc.paths['/api/v1/auth/login']?.['post']?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '401', '429']),
    );
  });

  it('derives the errors from what each route declares: If-Match, idempotency, bodies, path parameters', () => {
    const codes = (path: string, method: string) => Object.keys(doc.paths[path]?.[method]?.responses ?? {});
    expect(codes('/api/v1/leads/{id}', 'patch')).toEqual(expect.arrayContaining(['404', '412', '428', '415']));
    expect(codes('/api/v1/leads/{id}/move', 'post')).toEqual(expect.arrayContaining(['409', '412', '422']));
    expect(codes('/api/v1/leads/{id}/move', 'post')).not.toContain('428');
    // A new lead has no version: If-Match is no header of creation, so no 412.
    expect(codes('/api/v1/leads', 'post')).not.toContain('412');
    expect(codes('/api/v1/leads', 'get')).not.toContain('415');
    // Enum and signal-name path parameters name no record.
    expect(codes('/api/v1/exports/{table}', 'get')).not.toContain('404');
    expect(codes('/api/v1/inbound/signals/{name}', 'post')).not.toContain('404');
    // Open to every role with no token scope: nothing to forbid on a read.
    expect(codes('/api/v1/auth/me', 'get')).not.toContain('403');
    const refusals = doc.paths['/api/v1/leads/{id}']?.['patch']?.responses['403']?.description ?? '';
    expect(refusals).toMatch(/forbidden/);
    expect(refusals).toMatch(/csrf-failed/);
  });

  it('answers wrong requests of every kind with statuses it documents for the operation', async () => {
    const rep = await tokenFor(server, 'rep-a1');
    const session = await login(server, 'rep-a2');
    const undeclared: string[] = [];
    let checked = 0;
    const send = async (method: string, path: string, url: string, o: Parameters<typeof call>[3] = {}) => {
      const a = await call(server, method, url, o);
      checked++;
      if (!doc.paths[path]?.[method.toLowerCase()]?.responses[String(a.status)])
        undeclared.push(`${method} ${path}: ${a.status} ${a.text.slice(0, 120)}`);
    };
    for (const { method, path } of operations(doc)) {
      const url = filled(path);
      // Nobody; a rep's token; a rep's cookie (writes without the CSRF token); a query no route takes.
      await send(method, path, url);
      await send(method, path, url, { token: rep });
      await send(method, path, url, { cookie: session.cookie });
      await send(method, path, `${url}?limit=0&bogus=1`, { token: admin });
      if (method === 'GET') continue;
      // Bodies that are not JSON, not readable, not the right shape, or too large.
      await send(method, path, url, { token: admin, body: 'x', headers: { 'content-type': 'text/plain' } });
      await send(method, path, url, { token: admin, body: '{"unclosed": ' });
      await send(method, path, url, { token: admin, body: [] });
      await send(method, path, url, { token: admin, body: { bogus: true }, headers: { 'if-match': 'nonsense' } });
      await send(method, path, url, { token: admin, body: 'x'.repeat(1024 * 1024 + 1) });
    }
    expect(undeclared).toEqual([]);
    expect(checked).toBeGreaterThan(300);
  });

  it('answers real requests with bodies that validate against the document', async () => {
    const lead = await leadOf(server, admin, 'rep-a1');
    const id = encodeURIComponent(lead);
    const gets = [
      `/api/v1/leads/${id}`,
      '/api/v1/leads?limit=2',
      `/api/v1/leads/${id}/timeline`,
      `/api/v1/leads/${id}/stays`,
      `/api/v1/leads/${id}/activities`,
      '/api/v1/tasks?limit=5',
      '/api/v1/users',
      '/api/v1/users/rep-a1',
      '/api/v1/teams',
      '/api/v1/tokens',
      '/api/v1/auth/me',
      '/api/v1/process',
      '/api/v1/process/versions',
      '/api/v1/process/versions/1',
      '/api/v1/reports',
      '/api/v1/reports/win-rate',
      '/api/v1/outbox',
      '/api/v1/audit?limit=5',
      '/api/v1/board',
      '/api/v1/admin/config',
      '/api/v1/contacts',
      '/api/v1/accounts',
      '/api/v1/quotas',
      '/api/v1/forecast/snapshots',
    ];
    for (const url of gets) {
      const a = await call(server, 'GET', url, { token: admin });
      expect(a.status, `GET ${url}: ${a.text.slice(0, 200)}`).toBe(200);
      const template = operations(doc).find(
        (o) => o.method === 'GET' && new RegExp(`^${o.path.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?|$)`).test(url),
      );
      expectValid(doc, 'GET', template?.path ?? url, a);
    }
    const task = (
      (await call(server, 'GET', `/api/v1/tasks?lead=${id}`, { token: admin })).body as { items: { id: string }[] }
    ).items[0]?.id;
    expect(task).toBeDefined();
    const writes: [string, string, string, unknown][] = [
      ['POST', '/api/v1/tasks/{id}/complete', `/api/v1/tasks/${encodeURIComponent(task ?? '')}/complete`, undefined],
      ['POST', '/api/v1/leads/{id}/activities', `/api/v1/leads/${id}/activities`, { kind: 'call' }],
      ['POST', '/api/v1/leads/{id}/signals/{name}', `/api/v1/leads/${id}/signals/trial_started`, undefined],
      ['POST', '/api/v1/leads/{id}/win', `/api/v1/leads/${id}/win`, {}],
      ['PUT', '/api/v1/quotas', '/api/v1/quotas', { subject: 'rep-a1', period: '2026-03', amount: 1000 }],
      ['POST', '/api/v1/forecast/snapshots', '/api/v1/forecast/snapshots', {}],
      ['POST', '/api/v1/admin/tick', '/api/v1/admin/tick', undefined],
      ['POST', '/api/v1/process/diff', '/api/v1/process/diff', { source: TEST_PROCESS }],
      ['POST', '/api/v1/process', '/api/v1/process', { source: TEST_PROCESS }],
    ];
    for (const [method, path, url, body] of writes) {
      const a = await call(server, method, url, { token: admin, ...(body !== undefined ? { body } : {}) });
      expect(a.status, `${method} ${url}: ${a.text.slice(0, 200)}`).toBeLessThan(300);
      expectValid(doc, method, path, a);
    }
    const revoked = await call(server, 'DELETE', `/api/v1/tokens/no-such-token`, { token: admin });
    expectValid(doc, 'DELETE', '/api/v1/tokens/{id}', revoked);
  });

  it('describes a real error answer with its Problem component: a validation failure lists each field', async () => {
    const a = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { contact: { email: 'not an address' }, bogus: 1 },
    });
    expect(a.status).toBe(400);
    expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expectValid(doc, 'POST', '/api/v1/leads', a);
    const problem = validator(doc, PROBLEM_REF);
    expect((a.body as { errors: unknown[] }).errors.length).toBeGreaterThanOrEqual(2);
    // The component is no rubber stamp: a body without its type, or with a type of no table, fails.
    const { type, ...untyped } = a.body as { type: string };
    expect(type).toBe(`${PROBLEM_BASE}validation-failed`);
    expect(problem.safeParse(untyped).success).toBe(false);
    expect(problem.safeParse({ ...untyped, type: `${PROBLEM_BASE}no-such-type` }).success).toBe(false);
  });

  it('answers 405 with Allow when the path exists but not with that method, as a problem', async () => {
    const a = await call(server, 'PUT', '/api/v1/leads', { token: admin, body: {} });
    expect(a.status).toBe(405);
    expect(a.headers.get('allow')).toBe('GET, HEAD, POST');
    expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(validator(doc, PROBLEM_REF).safeParse(a.body).success).toBe(true);
    expect((a.body as { type: string }).type).toBe(`${PROBLEM_BASE}method-not-allowed`);
    const withParam = await call(server, 'DELETE', '/api/v1/leads/L-1/win', { token: admin });
    expect(withParam.status).toBe(405);
    expect(withParam.headers.get('allow')).toBe('POST');
    const options = await call(server, 'OPTIONS', '/api/v1/tokens/tok_1');
    expect(options.status).toBe(405);
    expect(options.headers.get('allow')).toBe('DELETE');
    // A path no route has is still 404, whatever the method.
    expect((await call(server, 'PUT', '/api/v1/no-such-resource', { token: admin })).status).toBe(404);
    expect((await call(server, 'GET', '/api/v1/leads/L-1/no-such-part', { token: admin })).status).toBe(404);
  });
});

describe('docs/api.md', () => {
  it('lists every problem type problem.ts can answer, with its status, and no other', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'api.md'), 'utf8');
    const table = [...doc.matchAll(/^\| `([a-z-]+)` +\| (\d{3}) /gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(table)).toEqual(
      Object.fromEntries(Object.entries(PROBLEM_TYPES).map(([type, [status]]) => [type, status])),
    );
  });
});
