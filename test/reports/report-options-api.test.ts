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
    ['win-rate', 'period=2026-10', 'win-rate has no --period option'],
    ['deal-size', 'owner=admin', 'deal-size has no --owner option'],
    ['cycle', 'window=30', 'cycle has no --window option'],
    ['coaching', 'period=2026-10', 'coaching has no --period option'],
  ])('%s?%s is a 400 naming the option', async (name, query, message) => {
    const r = await call(server, 'GET', `/api/v1/reports/${name}?${query}`, { token });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain(message);
  });

  it('the same reports answer without it', async () => {
    const r = await call(server, 'GET', '/api/v1/reports/win-rate?from=2026-10-01', { token });
    expect(r.status).toBe(200);
  });
});
