import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * The API refuses a report option the report does not read as the CLI does (400, naming it),
 * instead of answering with the current month for everyone.
 */

describe('GET /api/v1/reports/:name with an option the report does not read', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startServer('sqlite');
    token = await tokenFor(server, 'admin', ['reports:read']);
  });
  afterAll(() => server.close());

  it.each([
    ['win-rate', 'period=2026-10', 'win-rate has no period option', 'query.period'],
    ['deal-size', 'owner=admin', 'deal-size has no owner option', 'query.owner'],
    ['cycle', 'window=30', 'cycle has no window option', 'query.window'],
    ['coaching', 'period=2026-10', 'coaching has no period option', 'query.period'],
  ])('%s?%s is a 400 naming the option', async (name, query, message, field) => {
    const r = await call(server, 'GET', `/api/v1/reports/${name}?${query}`, { token });
    expect(r.status).toBe(400);
    // In the API's words (period=), not the CLI's flag (--period), under the parameter it is about.
    expect((r.body as { errors: unknown[] }).errors).toEqual([{ field, message }]);
  });

  it('the same reports answer without it', async () => {
    const r = await call(server, 'GET', '/api/v1/reports/win-rate?from=2026-10-01', { token });
    expect(r.status).toBe(200);
  });

  it.each([
    ['forecast', 'perod=2026-12', 'perod'],
    ['deal-size', 'form=2026-10-01&by=owner', 'form'],
    ['win-rate', 'from=2026-10-01&Pipeline=sales', 'Pipeline'],
    ['coaching', 'owner=admin&windw=30', 'windw'],
  ])('%s?%s (a key no report reads) is a 400 naming it, not another period or scope', async (name, query, key) => {
    const r = await call(server, 'GET', `/api/v1/reports/${name}?${query}`, { token });
    expect(r.status).toBe(400);
    console.log(r.text);
    const errors = (r.body as { errors?: { field: string; message: string }[] }).errors ?? [];
    expect(errors).toEqual([
      { field: 'query', message: expect.stringContaining(`unknown parameter "${key}" (a report takes: from,`) },
    ]);
  });

  it.each([
    ['forecast', 'period=2026-12&by=owner&pipeline=sales&team=team-a'],
    ['quota', 'period=2026-10'],
    ['coaching', 'owner=admin&window=30'],
    ['adoption', 'from=2026-10-01&to=2026-11-01&window=7&by=team'],
  ])('%s?%s (every key one the report reads) answers', async (name, query) => {
    const r = await call(server, 'GET', `/api/v1/reports/${name}?${query}`, { token });
    expect(r.status, r.text).toBe(200);
  });

  it('the OpenAPI document lists every parameter a report reads, and says which reports read it', async () => {
    const doc = (await call(server, 'GET', '/openapi.json')).body as {
      paths: Record<string, { get?: { parameters?: { name: string; in: string; description?: string }[] } }>;
    };
    const params = doc.paths['/api/v1/reports/{name}']?.get?.parameters?.filter((p) => p.in === 'query') ?? [];
    expect(params.map((p) => p.name).sort()).toEqual([
      'by',
      'from',
      'owner',
      'period',
      'pipeline',
      'team',
      'to',
      'window',
    ]);
    expect(params.find((p) => p.name === 'period')?.description).toContain('forecast, quota:');
    expect(params.find((p) => p.name === 'window')?.description).toContain('coaching:');
  });
});
