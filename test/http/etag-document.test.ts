import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * ETags as a generated client sees them: declared on the answers that carry one, If-Match required
 * where the server answers 428 without it, and a conditional GET answered 304 while nothing changed.
 */

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
}
interface Operation {
  parameters?: Parameter[];
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: unknown }>;
}
type Paths = Record<string, Record<string, Operation>>;

describe.each(dialects)('ETags and conditional requests on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let rep: string;
  let paths: Paths;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    rep = await tokenFor(server, 'rep-a1');
    paths = ((await call(server, 'GET', '/openapi.json')).body as { paths: Paths }).paths;
  });
  afterAll(() => server.close());

  const op = (path: string, method: string): Operation => {
    const o = paths[path]?.[method];
    if (!o) throw new Error(`no ${method} ${path} in the document`);
    return o;
  };
  const header = (o: Operation, name: string) => o.parameters?.find((p) => p.in === 'header' && p.name === name);

  it('declares the ETag header on every lead answer that sends one', () => {
    const carrying: [string, string, string][] = [
      ['/api/v1/leads', 'post', '201'],
      ['/api/v1/leads/{id}', 'get', '200'],
      ['/api/v1/leads/{id}', 'patch', '200'],
      ['/api/v1/leads/{id}/move', 'post', '200'],
      ['/api/v1/leads/{id}/reassign', 'post', '200'],
      ['/api/v1/leads/{id}/tasks', 'post', '201'],
      ['/api/v1/tasks/{id}', 'patch', '200'],
      ['/api/v1/users/{id}', 'get', '200'],
    ];
    for (const [path, method, status] of carrying)
      expect(op(path, method).responses[status]?.headers, `${method} ${path}`).toHaveProperty('ETag');
    // A list has no one version to carry.
    expect(op('/api/v1/leads', 'get').responses['200']?.headers).toBeUndefined();
  });

  it('marks If-Match required where a write without it answers 428, and only there', () => {
    expect(header(op('/api/v1/leads/{id}', 'patch'), 'if-match')?.required).toBe(true);
    expect(op('/api/v1/leads/{id}', 'patch').responses['428']).toBeDefined();
    expect(header(op('/api/v1/leads/{id}/move', 'post'), 'if-match')?.required).toBe(false);
    // Editing a task takes If-Match on its lead but does not require it: no 428 to declare.
    expect(header(op('/api/v1/tasks/{id}', 'patch'), 'if-match')?.required).toBe(false);
    expect(op('/api/v1/tasks/{id}', 'patch').responses['428']).toBeUndefined();
  });

  it('declares If-None-Match and a 304 without content on the reads that send an ETag', () => {
    const read = op('/api/v1/leads/{id}', 'get');
    expect(header(read, 'if-none-match')?.required).toBe(false);
    expect(read.responses['304']).toEqual({ description: expect.stringMatching(/^Not Modified/) });
    expect(op('/api/v1/users/{id}', 'get').responses['304']).toBeDefined();
    expect(op('/api/v1/leads', 'get').responses['304']).toBeUndefined();
  });

  it('answers a GET whose If-None-Match names the current ETag 304 without a body, and 200 once it changed', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const first = await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep });
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"\d+"$/);
    const same = await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep, headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect(same.headers.get('etag')).toBe(etag);
    // Several tags, a weak one among them, and `*`, as RFC 9110 compares them.
    const listed = { 'if-none-match': `"999", W/${etag}` };
    expect((await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep, headers: listed })).status).toBe(304);
    expect(
      (await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep, headers: { 'if-none-match': '*' } })).status,
    ).toBe(304);
    const other = await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep, headers: { 'if-none-match': '"0"' } });
    expect(other.status).toBe(200);

    await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: rep,
      headers: { 'if-match': etag },
      body: { fields: { budget: 5000 } },
    });
    const changed = await call(server, 'GET', `/api/v1/leads/${id}`, {
      token: rep,
      headers: { 'if-none-match': etag },
    });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    // Out of reach is still 404, whatever the tag.
    const outsider = await tokenFor(server, 'rep-b1');
    const hidden = await call(server, 'GET', `/api/v1/leads/${id}`, {
      token: outsider,
      headers: { 'if-none-match': '*' },
    });
    expect(hidden.status).toBe(404);
  });

  it('a user read answers 304 too', async () => {
    const first = await call(server, 'GET', '/api/v1/users/rep-a1', { token: rep });
    const etag = first.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const same = await call(server, 'GET', '/api/v1/users/rep-a1', { token: rep, headers: { 'if-none-match': etag } });
    expect(same.status).toBe(304);
  });
});
