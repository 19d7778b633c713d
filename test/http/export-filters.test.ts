import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * `updated_since` on GET /exports takes a date alone, the start of that day in the organisation's
 * zone, as the lead list's filters do. The organisation is in Kolkata (UTC+05:30), so its 2 March
 * begins at 18:30 UTC on 1 March; read as UTC, the bound would fall 5.5 hours later.
 */

const KOLKATA = TEST_PROCESS.replace('timezone: UTC', 'timezone: Asia/Kolkata');

interface ProblemBody {
  type: string;
  errors: { field: string; message: string }[];
}

describe.each(dialects)('export updated_since on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  const exported = async (table: string, query: string, column = 'id') => {
    const r = await call(server, 'GET', `/api/v1/exports/${table}?format=jsonl&${query}`, { token: admin });
    expect(r.status, r.text).toBe(200);
    const values = r.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => String((JSON.parse(l) as Record<string, unknown>)[column]));
    return [...new Set(values)].sort();
  };

  beforeAll(async () => {
    server = await startServer(dialect, { process: KOLKATA });
    admin = await tokenFor(server, 'admin');
    // Last changes: a millisecond before Kolkata's 2 March, exactly at it, and later that day (lost).
    for (const [id, at] of [
      ['X-BEFORE', '2026-03-01T18:29:59.999Z'],
      ['X-AT', '2026-03-01T18:30:00.000Z'],
      ['X-AFTER', '2026-03-02T10:00:00.000Z'],
    ] as const) {
      server.clock.now = Date.parse(at);
      const r = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id, owner: 'rep-a1' } });
      expect(r.status, r.text).toBe(201);
    }
    const lost = await call(server, 'POST', '/api/v1/leads/X-AFTER/lose', { token: admin, body: { reason: 'price' } });
    expect(lost.status, lost.text).toBe(200);
  });
  afterAll(() => server.close());

  it('reads a date alone as the start of that day in Kolkata; a lead changed exactly then is in', async () => {
    expect(await exported('leads', 'updated_since=2026-03-02')).toEqual(['X-AFTER', 'X-AT']);
    expect(await exported('leads', 'updated_since=2026-03-03')).toEqual([]);
    expect(await exported('leads', 'updated_since=2026-03-01')).toEqual(['X-AFTER', 'X-AT', 'X-BEFORE']);
  });

  it('carries the chosen leads’ rows in the other exports, and combines with status', async () => {
    expect(await exported('tasks', 'updated_since=2026-03-02', 'lead_id')).toEqual(['X-AFTER', 'X-AT']);
    expect(await exported('stays', 'updated_since=2026-03-02', 'lead_id')).toEqual(['X-AFTER', 'X-AT']);
    expect(await exported('leads', 'updated_since=2026-03-02&status=open')).toEqual(['X-AT']);
    const csv = await call(server, 'GET', '/api/v1/exports/leads?format=csv&updated_since=2026-03-02', {
      token: admin,
    });
    expect(csv.status).toBe(200);
    expect(csv.text.trim().split('\n')).toHaveLength(3); // header and two leads
  });

  it('still takes instants with their own offset, to the millisecond', async () => {
    expect(await exported('leads', 'updated_since=2026-03-01T18:30:00Z')).toEqual(['X-AFTER', 'X-AT']);
    expect(await exported('leads', 'updated_since=2026-03-01T18:30:00.001Z')).toEqual(['X-AFTER']);
    expect(await exported('leads', `updated_since=${encodeURIComponent('2026-03-02T00:00:00+05:30')}`)).toEqual([
      'X-AFTER',
      'X-AT',
    ]);
  });

  it('refuses what is neither an instant nor a date, naming the parameter and the value', async () => {
    const r = await call(server, 'GET', '/api/v1/exports/leads?updated_since=2026-03-32', { token: admin });
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const body = r.body as ProblemBody;
    expect(body.type).toMatch(/validation-failed$/);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]?.field).toBe('query.updated_since');
    expect(body.errors[0]?.message).toMatch(/^not an instant or a date "2026-03-32"/);
  });

  it('says so in the OpenAPI document', async () => {
    const r = await call(server, 'GET', '/openapi.json');
    const doc = r.body as {
      paths: Record<string, Record<string, { parameters?: { name: string; in: string; description?: string }[] }>>;
    };
    const param = doc.paths['/api/v1/exports/{table}']?.['get']?.parameters?.find((p) => p.name === 'updated_since');
    expect(param?.description).toMatch(/a date for the start of that day in the organisation’s time zone/);
  });
});
