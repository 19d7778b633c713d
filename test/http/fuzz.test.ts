import fc from 'fast-check';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { call, leadOf, login, startServer, tokenFor, type Session, type TestServer } from '../support/http.js';

/**
 * Fuzzing the API from its own OpenAPI document: for every operation the server publishes, requests
 * made wrong in every way we can think of (wrong types, missing and extra fields, huge strings,
 * odd Unicode, nulls, arrays for objects, broken JSON, wrong content types, odd path parameters and
 * query values, odd headers), sent over real HTTP by an admin token and by other callers. Whatever
 * comes in, the server answers below 500, every error is problem+json with a stageflow type, and no
 * answer carries a stack trace.
 *
 * The run is seeded (FUZZ_SEED to replay another); a failure lists the requests that broke the rules.
 */

const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_302);
const RUNS = 10_500;
const CONCURRENCY = 20;

// ---------------------------------------------------------------------------------------------
// The OpenAPI document

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  default?: unknown;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  format?: string;
  $ref?: string;
}

interface Param {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface OpenApi {
  paths: Record<
    string,
    Record<string, { parameters?: Param[]; requestBody?: { content?: Record<string, { schema?: Schema }> } }>
  >;
  components?: { schemas?: Record<string, Schema> };
}

interface Op {
  method: string;
  template: string;
  pathParams: Param[];
  query: Param[];
  headers: Param[];
  body: Schema | null;
}

function operations(doc: OpenApi): Op[] {
  const ops: Op[] = [];
  for (const [template, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        template,
        pathParams: params.filter((p) => p.in === 'path'),
        query: params.filter((p) => p.in === 'query'),
        headers: params.filter((p) => p.in === 'header'),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  return ops;
}

function resolver(doc: OpenApi) {
  return function resolve(s: Schema | undefined): Schema {
    let out = s ?? {};
    for (let i = 0; out.$ref && i < 10; i++) out = doc.components?.schemas?.[out.$ref.split('/').pop() ?? ''] ?? {};
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Values: a valid-looking base from a schema, then made wrong

/** A huge string, made only when the request is sent, so 10,000 recipes stay small. */
class Huge {
  constructor(
    readonly length: number,
    readonly char: string,
  ) {}
  toJSON(): string {
    return this.char.repeat(this.length);
  }
}

function baseValue(schema: Schema | undefined, resolve: (s: Schema | undefined) => Schema, depth = 0): unknown {
  const s = resolve(schema);
  if (depth > 6) return null;
  if (s.enum?.length) return s.enum[0];
  if (s.default !== undefined && s.default !== null) return s.default;
  const variants = s.anyOf ?? s.oneOf ?? s.allOf;
  if (variants?.length)
    return baseValue(variants.find((v) => resolve(v).type !== 'null') ?? variants[0], resolve, depth);
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type ?? (s.properties ? 'object' : undefined)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) out[k] = baseValue(s.properties?.[k], resolve, depth + 1);
      return out;
    }
    case 'array':
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => baseValue(s.items, resolve, depth + 1));
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      if (s.format === 'email') return 'fuzz@acme.example';
      if (s.format === 'date') return '2026-03-02';
      if (s.format === 'date-time') return '2026-03-02T09:00:00Z';
      return 'x'.repeat(Math.max(1, s.minLength ?? 1));
    default:
      return 'x';
  }
}

type Path = (string | number)[];

/** Every place in a value: the root, and each key and index below it. */
function slotsOf(v: unknown, at: Path = []): { path: Path; value: unknown }[] {
  const out = [{ path: at, value: v }];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...slotsOf(x, [...at, i])));
  else if (v !== null && typeof v === 'object')
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out.push(...slotsOf(x, [...at, k]));
  return out;
}

function setAt(root: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: unknown = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  // defineProperty so that "__proto__" becomes an own key that JSON.stringify writes out.
  Object.defineProperty(node, path[path.length - 1] as string | number, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

function deleteAt(root: unknown, path: Path): unknown {
  if (path.length === 0) return undefined;
  const copy: unknown = structuredClone(root);
  let node = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (Array.isArray(node)) node.splice(Number(last), 1);
  else delete node[last];
  return copy;
}

const NASTY = [
  '',
  ' ',
  '\u0000',
  '\u202Eevil\u202C',
  'ünïcödé',
  '😀'.repeat(40),
  '\uFEFF',
  'a\u0301\u0302\u0303',
  '𝕏'.repeat(120),
  '\u200B\u200C\u200D',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '0x10',
  '99999999999999999999999',
  '{}',
  '[]',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  "'; drop table leads; --",
  '../../etc/passwd',
  '%00',
  '%',
  '\r\n',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'sf_pat_',
  'sf_ses_',
  '*',
  '"1"',
  'W/"1"',
  'me',
  'admin',
  '2026-02-30T25:61:00Z',
  '9999-12-31T23:59:59Z',
  '0000-01-01T00:00:00Z',
  '2026-13',
  '2026-Q9',
  'x'.repeat(600),
];

const nastyString = fc.constantFrom(...NASTY);
const weirdString = fc.oneof(
  { weight: 4, arbitrary: nastyString },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
);
const huge = fc
  .tuple(fc.constantFrom(3_000, 40_000, 300_000, 1_100_000), fc.constantFrom('a', 'é', '😀', '\u0000', ' '))
  .map(([n, c]) => new Huge(n, c));
const weirdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: weirdString },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e308, -1e308, 0.1, -1, 0, 2 ** 31, 2 ** 53),
    ),
  },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.array(weirdString, { maxLength: 4 }) },
  { weight: 2, arbitrary: fc.dictionary(weirdString, weirdString, { maxKeys: 4 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: huge },
);

/** Text that is not JSON, or is JSON of a dangerous kind. */
const BAD_JSON = [
  '{',
  '{"a":',
  '{"a":1,}',
  "{'a':1}",
  '{a:1}',
  'nul',
  'tru',
  '[1,2',
  '{"a":1}}',
  '{"a":1}{"b":2}',
  '\u0000',
  'NaN',
  'undefined',
  '{"a":01}',
  '{"a":1e99999}',
  '{"a":"\\x41"}',
  '{"a":"\\u12"}',
  '"\\ud800"',
  '{"name":"\\ud800\\udfff\\udc00"}',
  '\uFEFF{}',
  ' ',
  '//{}\n{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":1,"a":2}',
  '"just a string"',
  '12345',
  'true',
  'null',
  '[]',
  '[{}]',
  '{"fields":{"__proto__":{"x":1}}}',
];

type Body =
  | { kind: 'json'; value: unknown; contentType?: string }
  | { kind: 'raw'; text: string; contentType: string | null }
  | { kind: 'deep'; depth: number; shape: 'array' | 'object' }
  | { kind: 'none' };

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'text/csv',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/jsonx',
  'application/problem+json',
  'application/octet-stream',
  '*/*',
  'json',
  'application/json;;;',
];

function bodyArb(schema: Schema | null, resolve: (s: Schema | undefined) => Schema): fc.Arbitrary<[string, Body]> {
  const base = schema ? baseValue(schema, resolve) : {};
  const slots = slotsOf(base);
  const paths = slots.map((s) => s.path);
  const inner = paths.filter((p) => p.length > 0);
  const objects = slots.filter((s) => s.value !== null && typeof s.value === 'object' && !Array.isArray(s.value));
  const anySlot = fc.constantFrom(...paths);
  const json = (value: unknown): Body => ({ kind: 'json', value });
  const tag = (kind: string) => (b: Body) => [kind, b] as [string, Body];
  const kinds: fc.WeightedArbitrary<[string, Body]>[] = [
    { weight: 4, arbitrary: fc.constant(json(base)).map(tag('base')) },
    {
      weight: 14,
      arbitrary: fc
        .tuple(anySlot, weirdValue)
        .map(([p, v]) => json(setAt(base, p, v)))
        .map(tag('wrong-type')),
    },
    {
      weight: 6,
      arbitrary: anySlot.map((p) => json(setAt(base, p, null))).map(tag('null')),
    },
    {
      weight: 8,
      arbitrary: (inner.length ? fc.constantFrom(...inner) : fc.constant([] as Path))
        .map((p) => json(p.length ? deleteAt(base, p) : {}))
        .map(tag('missing')),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(
          objects.length ? fc.constantFrom(...objects.map((o) => o.path)) : fc.constant([] as Path),
          fc.oneof(weirdString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', 'id', 'role')),
          weirdValue,
        )
        .map(([p, k, v]) => json(objects.length ? setAt(base, [...p, k], v) : { [k]: v }))
        .map(tag('extra-field')),
    },
    {
      weight: 4,
      arbitrary: fc
        .tuple(anySlot, huge)
        .map(([p, h]) => json(setAt(base, p, h)))
        .map(tag('huge')),
    },
    {
      weight: 6,
      arbitrary: fc
        .tuple(anySlot, fc.oneof(nastyString, fc.string({ unit: 'binary', minLength: 1, maxLength: 80 })))
        .map(([p, v]) => json(setAt(base, p, v)))
        .map(tag('unicode')),
    },
    {
      weight: 5,
      arbitrary: (objects.length ? fc.constantFrom(...objects) : fc.constant({ path: [] as Path, value: base }))
        .map((o) => json(setAt(base, o.path, [o.value])))
        .map(tag('array-for-object')),
    },
    { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(json).map(tag('random-json')) },
    {
      weight: 10,
      arbitrary: fc
        .oneof(
          { weight: 3, arbitrary: fc.constantFrom(...BAD_JSON) },
          { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
          {
            weight: 1,
            arbitrary: fc.nat().map((n) => {
              const text = JSON.stringify(base) ?? '';
              return text.slice(0, text.length ? n % text.length : 0);
            }),
          },
        )
        .map((text): Body => ({ kind: 'raw', text, contentType: 'application/json' }))
        .map(tag('bad-json')),
    },
    {
      weight: 8,
      arbitrary: fc
        .tuple(fc.constantFrom(...CONTENT_TYPES), fc.boolean())
        .map(([contentType, asJson]): Body => ({
          kind: 'raw',
          text: asJson ? (JSON.stringify(base) ?? '') : 'a=1&b=%zz',
          contentType,
        }))
        .map(tag('content-type')),
    },
    {
      weight: 3,
      arbitrary: fc
        .constantFrom<Body>(
          { kind: 'raw', text: '', contentType: 'application/json' },
          { kind: 'none' },
          { kind: 'raw', text: JSON.stringify(base) ?? '', contentType: null },
        )
        .map(tag('empty')),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(64, 1_000, 20_000, 100_000), fc.constantFrom<'array' | 'object'>('array', 'object'))
        .map(([depth, shape]): Body => ({ kind: 'deep', depth, shape }))
        .map(tag('deep')),
    },
  ];
  return fc.oneof(...kinds);
}

// ---------------------------------------------------------------------------------------------
// Requests

type Auth = 'admin' | 'rep' | 'anonymous' | 'cookie' | 'cookie-without-csrf' | 'garbage';

interface Recipe {
  op: Op;
  method: string;
  auth: Auth;
  garbageAuth: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  mutation: string;
  body: Body;
}

/** No lone surrogates, so encodeURIComponent cannot throw. */
const wellFormed = (s: string) =>
  s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** An encoded path segment no longer than Fastify's maxParamLength (100): longer ones are fuzzed apart. */
function segment(raw: string): string {
  let s = wellFormed(raw);
  while (encodeURIComponent(s).length > 100) s = [...s].slice(0, -1).join('');
  return encodeURIComponent(s);
}

/** Header values fetch can send: Latin-1, no control characters. */
const headerValue = (s: string) =>
  [...s]
    .map((c) => (c.charCodeAt(0) > 0xff ? '?' : c))
    .join('')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .trim();

function recipeArb(ops: Op[], resolve: (s: Schema | undefined) => Schema, pool: string[]): fc.Arbitrary<Recipe> {
  const pathValue = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...pool) },
    { weight: 4, arbitrary: weirdString },
    { weight: 1, arbitrary: fc.constantFrom('', '.', '..', ' ', '%2F', '/') },
  );
  const queryValue = fc.oneof(
    { weight: 3, arbitrary: weirdString },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(501), 'x'.repeat(2_000)) },
    { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double()).map(String) },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', '1', '0', '-1', '500', '501', '1.5', 'e', '') },
  );
  const header = (name: string, values: fc.Arbitrary<string>) => fc.option(values.map((v) => [name, v] as const));
  const perOp = ops.map((op) =>
    fc.record({
      op: fc.constant(op),
      method: fc.oneof(
        { weight: 92, arbitrary: fc.constant(op.method) },
        { weight: 4, arbitrary: fc.constant(op.method === 'GET' ? 'HEAD' : 'OPTIONS') },
        { weight: 4, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE') },
      ),
      auth: fc.oneof(
        { weight: 70, arbitrary: fc.constant<Auth>('admin') },
        { weight: 8, arbitrary: fc.constant<Auth>('rep') },
        { weight: 7, arbitrary: fc.constant<Auth>('anonymous') },
        { weight: 8, arbitrary: fc.constant<Auth>('cookie') },
        { weight: 3, arbitrary: fc.constant<Auth>('cookie-without-csrf') },
        { weight: 4, arbitrary: fc.constant<Auth>('garbage') },
      ),
      garbageAuth: fc.oneof(
        fc.constantFrom(
          'Bearer',
          'Bearer ',
          'Basic YTpi',
          'Bearer sf_pat_',
          'Token abc',
          'Bearer sf_ses_x',
          'Bearer  x y',
        ),
        weirdString.map((s) => `Bearer ${s}`),
        weirdString,
      ),
      path: fc.tuple(...op.pathParams.map(() => pathValue)).map((values) => {
        let path = op.template;
        op.pathParams.forEach((p, i) => (path = path.replace(`{${p.name}}`, segment(values[i] ?? ''))));
        return path;
      }),
      query: fc
        .tuple(
          fc.tuple(
            ...op.query.map((q) => fc.option(fc.oneof(queryValue, fc.constant(String(baseValue(q.schema, resolve)))))),
          ),
          fc.array(fc.tuple(weirdString, queryValue), { maxLength: 2 }),
          fc.option(fc.constantFrom('&%zz=%E0%A4', '&limit=1&limit=2', '&&&', '&=x', '&a[b]=1', '&a[]=1&a[]=2')),
        )
        .map(([values, extra, raw]) => {
          const q = new URLSearchParams();
          op.query.forEach((p, i) => {
            const v = values[i];
            if (v !== null && v !== undefined) q.append(p.name, wellFormed(v));
          });
          for (const [k, v] of extra) q.append(wellFormed(k), wellFormed(v));
          const text = q.toString() + (raw ?? '');
          return text ? `?${text}` : '';
        }),
      headers: fc
        .tuple(
          header(
            'if-match',
            fc.oneof(
              fc.constantFrom('*', '"1"', '"2"', 'W/"1"', '"99999999999999999999"', '""', '1', '"1", "2"'),
              weirdString,
            ),
          ),
          header('idempotency-key', fc.oneof(fc.uuid(), weirdString, fc.constantFrom('k'.repeat(256), ''))),
          header('accept', fc.constantFrom('application/xml', 'text/html', '*/*', 'application/problem+json', '')),
          header('x-csrf-token', weirdString),
        )
        .map((pairs) => {
          const h: Record<string, string> = {};
          for (const pair of pairs) if (pair) h[pair[0]] = headerValue(pair[1]);
          return h;
        }),
      mutated: bodyArb(op.body, resolve),
    }),
  );
  return fc.oneof(...perOp).map(({ mutated, ...r }) => ({ ...r, mutation: mutated[0], body: mutated[1] }));
}

interface Sent {
  method: string;
  url: string;
  status: number;
  contentType: string;
  text: string;
  headers: Headers;
}

function bodyText(b: Body): { text?: string; contentType?: string | null } {
  switch (b.kind) {
    case 'none':
      return {};
    case 'json':
      return { text: JSON.stringify(b.value) ?? 'null', contentType: b.contentType ?? 'application/json' };
    case 'raw':
      return { text: b.text, contentType: b.contentType };
    case 'deep':
      return {
        text:
          b.shape === 'array'
            ? '['.repeat(b.depth) + ']'.repeat(b.depth)
            : '{"a":'.repeat(b.depth) + '1' + '}'.repeat(b.depth),
        contentType: 'application/json',
      };
  }
}

const STACK_PATTERNS = [
  /\bat [^\s()]+ \([^)]*:\d+:\d+\)/,
  /\bat (?:file:\/\/|\/)[^\s]*:\d+/,
  /\.(?:ts|js|mjs|cjs):\d+/,
  /node_modules/,
  /\/work\/main\b/,
];

/** The rules every answer must keep; returns what was wrong, or null. */
function violation(s: Sent): string | null {
  if (s.status >= 500) return `status ${s.status}`;
  for (const re of STACK_PATTERNS) if (re.test(s.text)) return `body matches ${String(re)}`;
  if (!s.headers.get('content-security-policy')) return 'no security headers';
  if (s.status < 400) return null;
  if (!s.contentType.startsWith('application/problem+json')) return `error answered as "${s.contentType}"`;
  if (s.method === 'HEAD') return null;
  let body: { type?: unknown; status?: unknown; title?: unknown };
  try {
    body = JSON.parse(s.text) as typeof body;
  } catch {
    return 'problem body is not JSON';
  }
  if (typeof body.type !== 'string' || !body.type.startsWith(PROBLEM_BASE)) return `problem type ${String(body.type)}`;
  if (body.status !== s.status) return `problem status ${String(body.status)} on a ${s.status}`;
  if (typeof body.title !== 'string') return 'problem without title';
  return null;
}

async function runPool<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await work(item);
      }
    }),
  );
}

/** A request fetch will not send (oversized headers): plain node:http, one connection each. */
function rawRequest(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Sent | { error: string }> {
  const u = new URL(base);
  return new Promise((resolve) => {
    const req = httpRequest(
      { host: u.hostname, port: u.port, method, path, headers: { ...headers, connection: 'close' }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          resolve({
            method,
            url: path,
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            text: Buffer.concat(chunks).toString('utf8'),
            headers: h,
          });
        });
      },
    );
    req.on('error', (e) => resolve({ error: String(e) }));
    req.end();
  });
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing the API from its OpenAPI document (sqlite)', () => {
  let server: TestServer;
  let admin: string;
  let rep: string;
  let session: Session;
  let doc: OpenApi;
  let pool: string[];

  beforeAll(async () => {
    server = await startServer('sqlite');
    admin = await tokenFor(server, 'admin');
    rep = await tokenFor(server, 'rep-b1');
    session = await login(server, 'admin');
    const lead = await leadOf(server, admin, 'rep-a1');
    const got = await call(server, 'GET', `/api/v1/leads/${lead}`, { token: admin });
    const task = (got.body as { openTasks: { id: string }[] }).openTasks[0]?.id ?? 'no-task';
    const r = await call(server, 'GET', '/openapi.json');
    expect(r.status).toBe(200);
    doc = r.body as OpenApi;
    // Real ids, so some requests get past "not found" to the work; never a token id or the admin.
    pool = [lead, task, 'rep-a1', 'mgr-a', 'team-a', '1', '2', 'funnel', 'coaching', 'trial_started', 'leads', 'tasks'];
    for (const op of operations(doc))
      for (const p of op.pathParams) for (const v of resolve(p.schema).enum ?? []) pool.push(String(v));
  });
  afterAll(() => server.close());

  const resolve = (s: Schema | undefined) => resolver(doc)(s);

  it(`answers ${RUNS} malformed requests with no 5xx, problem+json errors and no stack traces`, async () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThan(30);
    const recipes = fc.sample(recipeArb(ops, resolve, [...new Set(pool)]), { seed: SEED, numRuns: RUNS });

    const failures: string[] = [];
    const byStatus = new Map<number, number>();
    const byOp = new Map<string, number>();
    const byMutation = new Map<string, number>();
    const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
    const started = Date.now();

    await runPool(recipes, CONCURRENCY, async (r) => {
      const headers: Record<string, string> = { ...r.headers };
      let auth = r.auth;
      // Logging the fuzzing session out would make every later cookie request a plain 401.
      if (r.op.template.endsWith('/auth/logout') && auth.startsWith('cookie')) auth = 'admin';
      if (auth === 'admin') headers['authorization'] = `Bearer ${admin}`;
      if (auth === 'rep') headers['authorization'] = `Bearer ${rep}`;
      if (auth === 'garbage') headers['authorization'] = headerValue(r.garbageAuth);
      if (auth === 'cookie' || auth === 'cookie-without-csrf') headers['cookie'] = session.cookie;
      if (auth === 'cookie') headers['x-csrf-token'] = session.csrf;
      const { text, contentType } = r.method === 'GET' || r.method === 'HEAD' ? {} : bodyText(r.body);
      if (contentType) headers['content-type'] = contentType;
      const url = r.path + r.query;
      let sent: Sent;
      try {
        const res = await fetch(server.url + url, {
          method: r.method,
          headers,
          ...(text !== undefined ? { body: text } : {}),
        });
        sent = {
          method: r.method,
          url,
          status: res.status,
          contentType: res.headers.get('content-type') ?? '',
          text: await res.text(),
          headers: res.headers,
        };
      } catch (e) {
        failures.push(`${r.method} ${url} [${r.mutation}]: no answer (${String(e)})`);
        return;
      }
      bump(byStatus, sent.status);
      bump(byOp, `${r.op.method} ${r.op.template}`);
      bump(byMutation, r.mutation);
      const wrong = violation(sent);
      if (wrong)
        failures.push(
          `${r.method} ${url.slice(0, 160)} [${r.mutation}, ${auth}]: ${wrong}: ${sent.text.slice(0, 300)}${
            text !== undefined ? `\n    body: ${text.slice(0, 200)}` : ''
          }\n    headers: ${JSON.stringify(r.headers).slice(0, 300)}`,
        );
    });

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(
      `fuzz seed ${SEED}: ${recipes.length} requests in ${seconds} s\n` +
        `  statuses: ${JSON.stringify(Object.fromEntries([...byStatus].sort((a, b) => a[0] - b[0])))}\n` +
        `  mutations: ${JSON.stringify(Object.fromEntries(byMutation))}`,
    );
    expect(failures.slice(0, 25), `${failures.length} of ${recipes.length} requests broke the rules`).toEqual([]);

    // The run reached every operation and the errors we meant to provoke.
    expect(recipes.length).toBeGreaterThanOrEqual(10_000);
    for (const op of ops) expect(byOp.get(`${op.method} ${op.template}`) ?? 0, op.template).toBeGreaterThan(20);
    for (const status of [200, 400, 401, 403, 404, 413, 415])
      expect(byStatus.get(status) ?? 0, `${status}`).toBeGreaterThan(0);
    // ...and the server is still well.
    expect((await call(server, 'GET', '/healthz')).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/auth/me', { token: admin })).status).toBe(200);
    expect((await call(server, 'GET', '/api/v1/auth/me', { cookie: session.cookie })).status).toBe(200);
  });

  it('routes every path parameter its schema allows: long lead ids, their tasks, ids full of colons', async () => {
    // Lead ids may be 100 characters (^[A-Za-z0-9._:-]{1,100}$); a task id is "<lead>#<seq>:<template>".
    for (const id of ['L' + 'a'.repeat(94), 'L:' + 'a:'.repeat(40)]) {
      const made = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id, owner: 'rep-a1' } });
      expect(made.status, made.text).toBe(201);
      const task = (made.body as { openTasks: { id: string }[] }).openTasks[0]?.id ?? '';
      const lead = await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(id)}`, { token: admin });
      expect(lead.status, `GET lead ${id}: ${lead.text.slice(0, 120)}`).toBe(200);
      const got = await call(server, 'GET', `/api/v1/tasks/${encodeURIComponent(task)}`, { token: admin });
      expect(got.status, `GET task ${task}: ${got.text.slice(0, 120)}`).toBe(200);
      const done = await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task)}/complete`, { token: admin });
      expect(done.status, `complete ${task}: ${done.text.slice(0, 120)}`).toBe(200);
    }
  });

  it('answers requests that are malformed before routing (bad percent-encoding, over-long parameters, oversized URL or headers) the same way', async () => {
    const ops = operations(doc).filter((o) => o.pathParams.length > 0);
    const badSegment = fc.oneof(
      fc.constantFrom('%', '%G0', '%E0%A4%A', '%zz', '%C3%28', '%ED%A0%80', 'x%', '%%'),
      fc.integer({ min: 101, max: 2_000 }).map((n) => 'p'.repeat(n)),
    );
    const cases = fc.sample(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.tuple(fc.constantFrom(...ops), badSegment).map(([op, seg]) => ({
            method: op.method,
            path: op.template.replace(/\{[^}]+\}/, seg).replace(/\{[^}]+\}/g, 'x'),
            headers: {} as Record<string, string>,
          })),
        },
        {
          weight: 1,
          arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({
            method: 'GET',
            path: `/api/v1/leads?q=${'q'.repeat(n)}`,
            headers: {} as Record<string, string>,
          })),
        },
        {
          weight: 1,
          arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((n) => ({
            method: 'GET',
            path: '/api/v1/auth/me',
            headers: { 'x-fuzz': 'h'.repeat(n) } as Record<string, string>,
          })),
        },
      ),
      { seed: SEED, numRuns: 160 },
    );
    const failures: string[] = [];
    await runPool(cases, 8, async (c) => {
      const sent = await rawRequest(server.url, c.method, c.path, { ...c.headers, authorization: `Bearer ${admin}` });
      const shown = `${c.method} ${c.path.slice(0, 60)}${c.path.length > 60 ? `… (${c.path.length} chars)` : ''}`;
      if ('error' in sent) {
        failures.push(`${shown}: no answer (${sent.error})`);
        return;
      }
      const wrong = violation(sent);
      if (wrong) failures.push(`${shown}: ${sent.status} ${wrong}: ${sent.text.slice(0, 160)}`);
    });
    expect(failures.slice(0, 12), `${failures.length} of ${cases.length} requests broke the rules`).toEqual([]);
  });
});
