import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * `forecast_category` is read by the forecast report and every snapshot: a spelling of a category
 * is stored as that category, anything else is refused naming the field and the allowed values
 * (review r6, finding 8), rather than stored and silently counted as pipeline.
 */

interface Lead {
  fields: Record<string, unknown>;
}
interface ProblemBody {
  errors?: { field: string; message: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('forecast_category over the API (%s)', (dialect) => {
  it('stores each spelling of a category as that category and refuses any other value', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const id = await leadOf(s, admin, 'rep-a1');
    const patch = (value: string) =>
      call(s, 'PATCH', `/api/v1/leads/${id}`, {
        token: admin,
        headers: { 'if-match': '*' },
        body: { fields: { forecast_category: value } },
      });

    for (const [written, stored] of [
      ['Commit', 'commit'],
      [' Best case ', 'best_case'],
      ['BEST-CASE', 'best_case'],
      ['pipeline', 'pipeline'],
    ]) {
      const ok = await patch(written!);
      expect(ok.status, ok.text).toBe(200);
      expect((ok.body as Lead).fields['forecast_category']).toBe(stored);
    }

    const bad = await patch('comit');
    expect(bad.status).toBe(400);
    const errors = (bad.body as ProblemBody).errors ?? [];
    expect(errors.map((e) => e.field)).toEqual(['body.fields.forecast_category']);
    expect(errors[0]?.message).toContain('commit, best_case, pipeline');
    const after = await call(s, 'GET', `/api/v1/leads/${id}`, { token: admin });
    expect((after.body as Lead).fields['forecast_category']).toBe('pipeline');

    const created = await call(s, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a2', fields: { value: 10, forecast_category: 'best case' } },
    });
    expect(created.status, created.text).toBe(201);
    expect((created.body as Lead).fields['forecast_category']).toBe('best_case');
  });
});
