import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';

/**
 * A lead's expected close typed by a person is that day in the organisation's zone (docs/process.md,
 * "Expected close"), over the API as through an import: the field keeps the organisation's offset,
 * `expectedClose` and the export show the instant in it, the filters and reports count it on that
 * day. Hand-computed: Tokyo is UTC+9 all year; New York is UTC-5 until Sunday 8 March 2026 02:00,
 * UTC-4 from then on.
 */

const inZone = (zone: string): string =>
  TEST_PROCESS.replace('organisation: { timezone: UTC }', `organisation: { timezone: ${zone} }`);

interface Lead {
  id: string;
  version: number;
  expectedClose: string | null;
  fields: Record<string, unknown>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serverIn(dialect: (typeof dialects)[number], zone: string): Promise<{ s: TestServer; token: string }> {
  const s = await startServer(dialect, { process: inZone(zone) });
  servers.push(s);
  expect(s.clock.now).toBe(Date.parse('2026-03-02T09:00:00Z'));
  return { s, token: await tokenFor(s, 'admin') };
}

async function create(s: TestServer, token: string, id: string, expected: string): Promise<Lead> {
  const r = await call(s, 'POST', '/api/v1/leads', {
    token,
    body: { id, owner: 'rep-a1', fields: { value: 1000, expected_close: expected } },
  });
  expect(r.status, r.text).toBe(201);
  return r.body as Lead;
}

async function patch(s: TestServer, token: string, id: string, expected: string): Promise<Lead> {
  const r = await call(s, 'PATCH', `/api/v1/leads/${id}`, {
    token,
    body: { fields: { expected_close: expected } },
    headers: { 'if-match': '*' },
  });
  expect(r.status, r.text).toBe(200);
  return r.body as Lead;
}

async function ids(s: TestServer, token: string, query: string): Promise<string[]> {
  const r = await call(s, 'GET', `/api/v1/leads?${query}`, { token });
  expect(r.status, r.text).toBe(200);
  return (r.body as { items: Lead[] }).items.map((l) => l.id).sort();
}

async function exported(s: TestServer, token: string): Promise<Map<string, unknown>> {
  const r = await call(s, 'GET', '/api/v1/exports/leads?format=jsonl', { token });
  expect(r.status, r.text).toBe(200);
  const rows = r.text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return new Map(rows.map((row) => [String(row['id']), row['expected_close']]));
}

describe.each(dialects)('expected close over HTTP on %s', (dialect) => {
  it("Tokyo: a date is that day's midnight in Tokyo, shown with +09:00; a time with Z is that instant", async () => {
    const { s, token } = await serverIn(dialect, 'Asia/Tokyo');
    const t1 = await create(s, token, 'T1', '2026-03-31');
    // Midnight on 31 March in Tokyo is 15:00 UTC on 30 March.
    expect(t1.fields['expected_close']).toBe('2026-03-31T00:00:00+09:00');
    expect(t1.expectedClose).toBe('2026-03-31T00:00:00.000+09:00');
    expect(Date.parse(t1.expectedClose ?? '')).toBe(Date.parse('2026-03-30T15:00:00Z'));
    // A read answers what the write answered.
    const read = await call(s, 'GET', '/api/v1/leads/T1', { token });
    expect((read.body as Lead).expectedClose).toBe('2026-03-31T00:00:00.000+09:00');

    // The column (filters, reports) is that instant: in from 15:00 UTC on the 30th, not before.
    expect(await ids(s, token, 'expected_close_from=2026-03-30T15:00:00Z')).toEqual(['T1']);
    expect(await ids(s, token, 'expected_close_to=2026-03-30T15:00:00Z')).toEqual([]);
    expect(await ids(s, token, 'expected_close_from=2026-03-31T00:00:00Z')).toEqual([]);

    expect((await exported(s, token)).get('T1')).toBe('2026-03-31T00:00:00.000+09:00');

    // A full time keeps its instant: 12:00 UTC is 21:00 in Tokyo, the same day.
    const later = await patch(s, token, 'T1', '2026-04-15T12:00:00Z');
    expect(later.fields['expected_close']).toBe('2026-04-15T21:00:00+09:00');
    expect(later.expectedClose).toBe('2026-04-15T21:00:00.000+09:00');
    expect(
      await ids(s, token, 'expected_close_from=2026-04-15T12:00:00Z&expected_close_to=2026-04-15T12:00:00.001Z'),
    ).toEqual(['T1']);
    // A time of day without an offset is Tokyo's wall clock.
    const wall = await patch(s, token, 'T1', '2026-04-16T09:30');
    expect(wall.expectedClose).toBe('2026-04-16T09:30:00.000+09:00');
    expect(Date.parse(wall.expectedClose ?? '')).toBe(Date.parse('2026-04-16T00:30:00Z'));
  });

  it('New York: the day starts at 05:00 UTC before the DST change and 04:00 UTC after it', async () => {
    const { s, token } = await serverIn(dialect, 'America/New_York');
    const winter = await create(s, token, 'N1', '2026-03-07');
    const summer = await create(s, token, 'N2', '2026-03-09');
    expect([winter.expectedClose, summer.expectedClose]).toEqual([
      '2026-03-07T00:00:00.000-05:00',
      '2026-03-09T00:00:00.000-04:00',
    ]);
    expect([Date.parse(winter.expectedClose ?? ''), Date.parse(summer.expectedClose ?? '')]).toEqual([
      Date.parse('2026-03-07T05:00:00Z'),
      Date.parse('2026-03-09T04:00:00Z'),
    ]);
    const rows = await exported(s, token);
    expect([rows.get('N1'), rows.get('N2')]).toEqual([
      '2026-03-07T00:00:00.000-05:00',
      '2026-03-09T00:00:00.000-04:00',
    ]);

    // 1 April is in April in New York: at UTC midnight it was 31 March, 20:00 there.
    await create(s, token, 'N3', '2026-04-01');
    expect(
      await ids(s, token, 'expected_close_from=2026-03-01T05:00:00Z&expected_close_to=2026-04-01T04:00:00Z'),
    ).toEqual(['N1', 'N2']);
    const forecast = await call(s, 'GET', '/api/v1/reports/forecast?from=2026-03-01&to=2026-04-01', { token });
    expect(forecast.status, forecast.text).toBe(200);
    expect((forecast.body as { rows: { open_leads: number }[] }).rows[0]?.open_leads).toBe(2);
  });

  it('slippage counts calendar days in the organisation zone: 1 to 31 March is 30 days across the DST change', async () => {
    const { s, token } = await serverIn(dialect, 'America/New_York');
    await create(s, token, 'P1', '2026-03-01');
    s.clock.now = Date.parse('2026-03-03T15:00:00Z');
    const pushed = await patch(s, token, 'P1', '2026-03-31');
    expect(pushed.expectedClose).toBe('2026-03-31T00:00:00.000-04:00');
    const r = await call(s, 'GET', '/api/v1/reports/slippage?from=2026-03-01&to=2026-04-01', { token });
    expect(r.status, r.text).toBe(200);
    // 30 days less the hour the clocks skip would be 29.96 in elapsed days.
    expect((r.body as { rows: Record<string, unknown>[] }).rows[0]).toMatchObject({
      pushes: 1,
      mean_days_pushed: 30,
      median_days_pushed: 30,
    });
  });
});
