import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * A date alone in a time filter is the start of that day in the organisation's zone. Kiritimati is
 * UTC+14, so its 2 March begins at 10:00 UTC on 1 March: a lead made at 09:00 UTC on 1 March was
 * made on its 1 March, one made at 11:00 UTC on its 2 March. Read as UTC dates, both are 1 March.
 */

const FAR_EAST = TEST_PROCESS.replace('timezone: UTC', 'timezone: Pacific/Kiritimati');

interface Page {
  items: { id: string }[];
}
interface ProblemBody {
  errors: { field: string; message: string }[];
}

describe.each(dialects)('date-only time filters on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  const ids = async (query: string) => {
    const r = await call(server, 'GET', `/api/v1/leads?source=dates&${query}`, { token: admin });
    expect(r.status, r.text).toBe(200);
    return (r.body as Page).items.map((l) => l.id).sort();
  };

  beforeAll(async () => {
    server = await startServer(dialect, { process: FAR_EAST });
    admin = await tokenFor(server, 'admin');
    for (const [id, at, close] of [
      ['LATE-1ST', '2026-03-01T09:00:00Z', '2026-03-09'],
      ['EARLY-2ND', '2026-03-01T11:00:00Z', '2026-03-10'],
    ] as const) {
      server.clock.now = Date.parse(at);
      const r = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { id, owner: 'rep-a1', fields: { source: 'dates', expected_close: close } },
      });
      expect(r.status, r.text).toBe(201);
      const lost = await call(server, 'POST', `/api/v1/leads/${id}/lose`, { token: admin, body: { reason: 'test' } });
      expect(lost.status).toBe(200);
    }
  });
  afterAll(() => server.close());

  it('reads a date as the start of that day in the organisation’s zone, half-open', async () => {
    expect(await ids('created_from=2026-03-02')).toEqual(['EARLY-2ND']);
    expect(await ids('created_to=2026-03-02')).toEqual(['LATE-1ST']);
    expect(await ids('created_from=2026-03-01&created_to=2026-03-02')).toEqual(['LATE-1ST']);
    expect(await ids('closed_from=2026-03-02&closed_to=2026-03-03')).toEqual(['EARLY-2ND']);
    expect(await ids('expected_close_from=2026-03-10')).toEqual(['EARLY-2ND']);
    expect(await ids('expected_close_to=2026-03-10')).toEqual(['LATE-1ST']);
  });

  it('still takes full ISO 8601 times, with their own offset', async () => {
    expect(await ids('created_from=2026-03-01T10:00:00Z')).toEqual(['EARLY-2ND']);
    expect(await ids(`created_to=${encodeURIComponent('2026-03-01T12:00:00+02:00')}`)).toEqual(['LATE-1ST']);
  });

  it('refuses what is neither, naming each filter', async () => {
    const r = await call(
      server,
      'GET',
      '/api/v1/leads?created_from=2026-02-30&closed_to=03/02/2026&created_to=2026-03-01T10:00',
      {
        token: admin,
      },
    );
    expect(r.status).toBe(400);
    const errors = (r.body as ProblemBody).errors;
    expect(errors.map((e) => e.field).sort()).toEqual(['query.closed_to', 'query.created_from', 'query.created_to']);
    expect(errors[0]?.message).toContain('a date (2026-03-31)');
  });
});
