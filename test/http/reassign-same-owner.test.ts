import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * Reassigning a lead to the owner it already has changes nothing, so it is refused as a move to the
 * current stage is (409), and writes no event: the rep holding the lead open can still save it.
 */

interface ProblemBody {
  status: number;
  code?: string;
  detail: string;
  errors?: { field: string; message: string }[];
}

describe.each(dialects)('POST /leads/{id}/reassign to the current owner on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let manager: string;
  let rep: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    manager = await tokenFor(server, 'mgr-a');
    rep = await tokenFor(server, 'rep-a1');
  });
  afterAll(() => server.close());

  it('answers 409 already_owner naming body.owner; the version stays, so the rep saves', async () => {
    const id = await leadOf(server, admin, 'rep-a1');
    const before = await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep });
    const etag = before.headers.get('etag') ?? '';
    expect(etag).not.toBe('');

    const same = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: manager,
      body: { owner: 'rep-a1' },
    });
    expect(same.status, same.text).toBe(409);
    const problem = same.body as ProblemBody;
    expect(problem.code).toBe('already_owner');
    expect(problem.detail).toBe(`lead ${id} is already owned by "rep-a1"`);
    expect(problem.errors?.map((e) => e.field)).toEqual(['body.owner']);

    const after = await call(server, 'GET', `/api/v1/leads/${id}`, { token: rep });
    expect(after.headers.get('etag')).toBe(etag);
    const saved = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
      token: rep,
      headers: { 'if-match': etag },
      body: { fields: { value: 2000 } },
    });
    expect(saved.status, saved.text).toBe(200);

    const moved = await call(server, 'POST', `/api/v1/leads/${id}/reassign`, {
      token: manager,
      body: { owner: 'rep-a2' },
    });
    expect(moved.status, moved.text).toBe(200);
  });
});
