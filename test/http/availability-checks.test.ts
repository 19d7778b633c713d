import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProcess, ProcessRejected } from '../../src/engine/process-service.js';
import { noteAvailabilityChange, saveOverride } from '../../src/store/availability.js';
import { withTransaction } from '../../src/store/db.js';
import { session, tempFile } from '../cli/helpers.js';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';

/**
 * Availability overrides and what they meet (review findings 1, 5 and 8): a process apply is
 * checked with the overrides it keeps merged in, a user read's ETag changes with its availability,
 * and an override can be dropped field by field and is written under If-Match.
 */

interface UserAnswer {
  account: { version: number } | null;
  routing: {
    active: boolean;
    outOfOffice: { from: string; to: string }[];
    workingHours: unknown;
    territories: string[];
    availabilitySetBy: { fields: string[] } | null;
    availabilityTag: string;
  };
}

const AS_DEFAULT = TEST_PROCESS.replace('default_owner: admin', 'default_owner: rep-a2');

describe.each(dialects)('availability checks on %s', (dialect) => {
  let server: TestServer;
  let url: string;
  let admin: string;
  let mgr: string;
  beforeAll(async () => {
    url = await freshDatabaseUrl(dialect);
    server = await startServer(dialect, { url });
    admin = await tokenFor(server, 'admin');
    mgr = await tokenFor(server, 'mgr-a');
  });
  afterAll(async () => server.close());

  const path = (id: string) => `/api/v1/users/${id}/availability`;
  const user = async (id: string) =>
    (await call(server, 'GET', `/api/v1/users/${id}`, { token: admin })).body as UserAnswer;

  it('refuses an apply that makes a person kept inactive by an override the default owner, naming the override; diff says so too', async () => {
    expect(AS_DEFAULT).not.toBe(TEST_PROCESS);
    const put = await call(server, 'PUT', path('rep-a2'), { token: mgr, body: { active: false } });
    expect(put.status, put.text).toBe(200);

    const refused = await applyProcess(server.store, AS_DEFAULT, server.clock.now, 'test').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ProcessRejected);
    const message = (refused as ProcessRejected).message;
    expect(message).toContain('default_owner');
    expect(message).toContain("rep-a2's availability override of active, set by mgr-a at 20");
    expect(message).toContain('PUT /users/rep-a2/availability');
    const versions = await server.store.db
      .selectFrom('process_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(versions.n)).toBe(1);

    const diff = await session(url)(['process', 'diff', tempFile('as-default.yaml', AS_DEFAULT)]);
    expect(diff.stdout + diff.stderr).toContain("rep-a2's availability override of active");

    // Cleared, the same file applies.
    const cleared = await call(server, 'PUT', path('rep-a2'), { token: mgr, body: { active: null } });
    expect(cleared.status, cleared.text).toBe(200);
    expect((cleared.body as UserAnswer).routing).toMatchObject({ active: true, availabilitySetBy: null });
    expect((await applyProcess(server.store, AS_DEFAULT, server.clock.now, 'test')).version).toBe(2);
  });

  it('refuses a change on a person whose override already breaks the process, not only a new problem', async () => {
    // The state the apply above could leave before it checked: rep-a2, the default owner, kept inactive.
    await withTransaction(server.store, async (tx) => {
      await noteAvailabilityChange(tx);
      await saveOverride(tx, 'rep-a2', { active: false }, server.clock.now, 'mgr-a');
    });
    const more = await call(server, 'PUT', path('rep-a2'), {
      token: mgr,
      body: { active: false, capacity: { per_day: 2 } },
    });
    expect(more.status, more.text).toBe(422);
    expect(more.text).toContain('default_owner');
    // Someone else's change is not blamed for it.
    const other = await call(server, 'PUT', path('rep-a1'), { token: mgr, body: { capacity: { per_day: 3 } } });
    expect(other.status, other.text).toBe(200);
    const fixed = await call(server, 'PUT', path('rep-a2'), { token: mgr, body: { active: null } });
    expect(fixed.status, fixed.text).toBe(200);
    expect((await applyProcess(server.store, TEST_PROCESS, server.clock.now, 'test')).unchanged).toBe(false);
    await call(server, 'PUT', path('rep-a1'), { token: mgr, body: { capacity: null } });
  });

  it('a user read answers 200 with the new body after an availability change or a process apply, and PATCH takes its tag', async () => {
    const first = await call(server, 'GET', '/api/v1/users/rep-a1', { token: admin });
    const etag = first.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\//);
    const put = await call(server, 'PUT', path('rep-a1'), {
      token: mgr,
      body: { outOfOffice: [{ from: '2026-03-01', to: '2026-03-20' }] },
    });
    expect(put.status, put.text).toBe(200);
    const second = await call(server, 'GET', '/api/v1/users/rep-a1', {
      token: admin,
      headers: { 'if-none-match': etag },
    });
    expect(second.status).toBe(200);
    expect((second.body as UserAnswer).routing.outOfOffice).toEqual([{ from: '2026-03-01', to: '2026-03-20' }]);
    const tag = second.headers.get('etag') ?? '';
    expect(tag).not.toBe(etag);
    const same = await call(server, 'GET', '/api/v1/users/rep-a1', { token: admin, headers: { 'if-none-match': tag } });
    expect(same.status).toBe(304);

    const moved = TEST_PROCESS.replace(
      '{ id: rep-a1, name: Anna A1, territories: [north] }',
      '{ id: rep-a1, name: Anna A1, territories: [north, east] }',
    );
    expect(moved).not.toBe(TEST_PROCESS);
    await applyProcess(server.store, moved, server.clock.now, 'test');
    const third = await call(server, 'GET', '/api/v1/users/rep-a1', {
      token: admin,
      headers: { 'if-none-match': tag },
    });
    expect(third.status).toBe(200);
    expect((third.body as UserAnswer).routing.territories).toEqual(['north', 'east']);

    // PATCH's If-Match takes the read's tag (its account part) and refuses a stale one.
    const readTag = third.headers.get('etag') ?? '';
    const patched = await call(server, 'PATCH', '/api/v1/users/rep-a1', {
      token: admin,
      headers: { 'if-match': readTag },
      body: { name: 'Anna A. One' },
    });
    expect(patched.status, patched.text).toBe(200);
    const stale = await call(server, 'PATCH', '/api/v1/users/rep-a1', {
      token: admin,
      headers: { 'if-match': readTag },
      body: { name: 'Anna Again' },
    });
    expect(stale.status, stale.text).toBe(412);
    await call(server, 'PUT', path('rep-a1'), { token: mgr, body: { outOfOffice: null } });
  });

  it('working hours set through the API are replaced by new ones and dropped by null, back to the file', async () => {
    const first = await call(server, 'PUT', path('rep-b1'), {
      token: admin,
      body: { workingHours: { days: [1, 2], start: '09:00', end: '10:00' } },
    });
    expect(first.status, first.text).toBe(200);
    const second = await call(server, 'PUT', path('rep-b1'), {
      token: admin,
      body: { workingHours: { days: [5], start: '13:00', end: '17:00' } },
    });
    expect(second.status, second.text).toBe(200);
    expect((await user('rep-b1')).routing.workingHours).toEqual({ days: [5], start: '13:00', end: '17:00' });
    const cleared = await call(server, 'PUT', path('rep-b1'), { token: admin, body: { workingHours: null } });
    expect(cleared.status, cleared.text).toBe(200);
    expect((await user('rep-b1')).routing).toMatchObject({ workingHours: null, availabilitySetBy: null });
  });

  it('takes If-Match: a change based on a stale read is 412 and loses nothing; no If-Match still works', async () => {
    const read = (await user('rep-a2')).routing.availabilityTag;
    const one = await call(server, 'PUT', path('rep-a2'), {
      token: mgr,
      headers: { 'if-match': read },
      body: { outOfOffice: [{ from: '2026-04-01', to: '2026-04-05' }] },
    });
    expect(one.status, one.text).toBe(200);
    expect(one.headers.get('etag')).toBe((one.body as UserAnswer).routing.availabilityTag);
    const two = await call(server, 'PUT', path('rep-a2'), {
      token: admin,
      headers: { 'if-match': read },
      body: { outOfOffice: [{ from: '2026-05-01', to: '2026-05-05' }] },
    });
    expect(two.status, two.text).toBe(412);
    expect(two.headers.get('etag')).toBe((one.body as UserAnswer).routing.availabilityTag);
    expect((await user('rep-a2')).routing.outOfOffice).toEqual([{ from: '2026-04-01', to: '2026-04-05' }]);
    const both = await call(server, 'PUT', path('rep-a2'), {
      token: admin,
      headers: { 'if-match': two.headers.get('etag') ?? '' },
      body: {
        outOfOffice: [
          { from: '2026-04-01', to: '2026-04-05' },
          { from: '2026-05-01', to: '2026-05-05' },
        ],
      },
    });
    expect(both.status, both.text).toBe(200);
    const plain = await call(server, 'PUT', path('rep-a2'), { token: admin, body: { outOfOffice: null } });
    expect(plain.status, plain.text).toBe(200);
    expect((plain.body as UserAnswer).routing.outOfOffice).toEqual([]);
  });
});
