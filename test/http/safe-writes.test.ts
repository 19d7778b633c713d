import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { dialects } from '../support/stores.js';
import { call, leadOf, login, startServer, tokenFor, type Answer, type TestServer } from '../support/http.js';

/**
 * Safe writes over real HTTP: If-Match makes concurrent updates lose cleanly (one winner, the rest
 * 412 with the current ETag), a missing If-Match is 428, and Idempotency-Key makes a retried create
 * or transition answer the first answer again without a second effect.
 */

interface LeadJson {
  id: string;
  version: number;
  status: string;
  stage: string;
  fields: Record<string, unknown>;
  openTasks: { id: string; template: string; status: string }[];
}

const unique = (what: string) => `${what}-${randomBytes(5).toString('hex')}`;

function statusCounts(answers: Answer[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const a of answers) counts[a.status] = (counts[a.status] ?? 0) + 1;
  return counts;
}

function expectProblem(a: Answer, status: number, type: string): void {
  expect(a.status, a.text).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect((a.body as { type: string }).type).toBe(PROBLEM_BASE + type);
}

describe.each(dialects)('safe writes on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  const getLead = async (id: string, token = admin) => {
    const r = await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(id)}`, { token });
    expect(r.status, r.text).toBe(200);
    return { lead: r.body as LeadJson, etag: r.headers.get('etag') };
  };
  const timelineTypes = async (id: string) => {
    const r = await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(id)}/timeline`, { token: admin });
    expect(r.status, r.text).toBe(200);
    return (r.body as { items: { type: string }[] }).items.map((e) => e.type);
  };
  const leadsWithSource = async (source: string) => {
    const r = await call(server, 'GET', `/api/v1/leads?source=${encodeURIComponent(source)}&limit=500`, {
      token: admin,
    });
    expect(r.status, r.text).toBe(200);
    return (r.body as { items: { id: string }[] }).items;
  };

  describe('If-Match', () => {
    it('lets exactly one of 50 concurrent PATCHes with the same ETag win; the other 49 get 412 and the current ETag', async () => {
      const id = await leadOf(server, admin, 'rep-a1');
      const before = await getLead(id);
      expect(before.etag).toBe('"1"');

      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          call(server, 'PATCH', `/api/v1/leads/${id}`, {
            token: admin,
            headers: { 'if-match': before.etag ?? '' },
            body: { fields: { note: `writer ${i}` } },
          }),
        ),
      );

      expect(statusCounts(answers)).toEqual({ 200: 1, 412: 49 });
      const winner = answers.find((a) => a.status === 200);
      expect(winner?.headers.get('etag')).toBe('"2"');
      for (const a of answers.filter((x) => x.status === 412)) {
        expectProblem(a, 412, 'precondition-failed');
        expect(a.headers.get('etag')).toBe('"2"');
      }

      const after = await getLead(id);
      expect(after.lead.version).toBe(before.lead.version + 1);
      expect(after.etag).toBe('"2"');
      expect(after.lead.fields['note']).toBe((winner?.body as LeadJson).fields['note']);
      expect((await timelineTypes(id)).filter((t) => t === 'lead.updated')).toHaveLength(1);
    });

    it('answers a PATCH without If-Match with 428 problem+json and changes nothing', async () => {
      const id = await leadOf(server, admin, 'rep-a1');
      const r = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
        token: admin,
        body: { fields: { note: 'no precondition' } },
      });
      expectProblem(r, 428, 'precondition-required');
      expect(r.headers.get('etag')).toBe('"1"');
      const after = await getLead(id);
      expect(after.lead.version).toBe(1);
      expect(after.lead.fields['note']).toBeUndefined();
    });

    it('applies a PATCH with If-Match: * at whatever version the lead is', async () => {
      const id = await leadOf(server, admin, 'rep-a1');
      for (const note of ['first', 'second']) {
        const r = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
          token: admin,
          headers: { 'if-match': '*' },
          body: { fields: { note } },
        });
        expect(r.status, r.text).toBe(200);
      }
      const after = await getLead(id);
      expect(after.lead.version).toBe(3);
      expect(after.lead.fields['note']).toBe('second');
    });

    it('never refuses If-Match: * as stale, even when other writers get in first', async () => {
      // RFC 9110 §13.1.1: "*" is false only when there is no current representation.
      const id = await leadOf(server, admin, 'rep-a1');
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          call(server, 'PATCH', `/api/v1/leads/${id}`, {
            token: admin,
            headers: { 'if-match': '*' },
            body: { fields: { note: `star ${i}` } },
          }),
        ),
      );
      expect(statusCounts(answers)).toEqual({ 200: 10 });
      expect((await getLead(id)).lead.version).toBe(11);
    });

    it('matches an If-Match list when one of its ETags is current', async () => {
      // RFC 9110 §13.1.1: If-Match = "*" / #entity-tag; src/http/routes/shared.ts says "(or a list, or `*`)".
      const id = await leadOf(server, admin, 'rep-a1');
      const r = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
        token: admin,
        headers: { 'if-match': '"7", "1"' },
        body: { fields: { note: 'listed' } },
      });
      expect(r.status, r.text).toBe(200);
      expect(r.headers.get('etag')).toBe('"2"');
      const stale = await call(server, 'PATCH', `/api/v1/leads/${id}`, {
        token: admin,
        headers: { 'if-match': '"7", "1"' },
        body: { fields: { note: 'listed again' } },
      });
      expectProblem(stale, 412, 'precondition-failed');
    });
  });

  describe('Idempotency-Key', () => {
    const newLeadBody = (source: string, name = 'Ida Empotent') => ({
      contact: { name, email: `${source}@acme.example` },
      fields: { source, value: 2500 },
    });

    it('replays a repeated create (same key, same body) without making a second lead', async () => {
      const source = unique('idem-create');
      const key = unique('key');
      const body = newLeadBody(source);
      const first = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(first.status, first.text).toBe(201);
      expect(first.headers.get('idempotent-replayed')).toBeNull();

      const second = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(second.status).toBe(first.status);
      expect(second.text).toBe(first.text);
      expect(second.headers.get('idempotent-replayed')).toBe('true');
      expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
      expect(second.headers.get('location')).toBe(first.headers.get('location'));
      expect(second.headers.get('content-type')).toMatch(/^application\/json/);

      const leads = await leadsWithSource(source);
      expect(leads.map((l) => l.id)).toEqual([(first.body as LeadJson).id]);
    });

    it('refuses the same key with a different body (422) and makes nothing', async () => {
      const source = unique('idem-reuse');
      const key = unique('key');
      const first = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: newLeadBody(source),
        headers: { 'idempotency-key': key },
      });
      expect(first.status, first.text).toBe(201);
      const other = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: newLeadBody(source, 'Someone Else'),
        headers: { 'idempotency-key': key },
      });
      expectProblem(other, 422, 'idempotency-key-reused');
      expect((other.body as { type: string }).type.endsWith('idempotency-key-reused')).toBe(true);
      expect(other.headers.get('idempotent-replayed')).toBeNull();
      expect(await leadsWithSource(source)).toHaveLength(1);
    });

    it('scopes keys to the token or user: another caller with the same key runs for real', async () => {
      const source = unique('idem-scope');
      const key = unique('key');
      const body = newLeadBody(source);
      const first = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(first.status, first.text).toBe(201);

      const otherToken = await tokenFor(server, 'admin');
      const byOtherToken = await call(server, 'POST', '/api/v1/leads', {
        token: otherToken,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(byOtherToken.status, byOtherToken.text).toBe(201);
      expect(byOtherToken.headers.get('idempotent-replayed')).toBeNull();
      expect((byOtherToken.body as LeadJson).id).not.toBe((first.body as LeadJson).id);

      const manager = await tokenFor(server, 'mgr-a');
      const byManager = await call(server, 'POST', '/api/v1/leads', {
        token: manager,
        body: { ...body, owner: 'rep-a2' },
        headers: { 'idempotency-key': key },
      });
      expect(byManager.status, byManager.text).toBe(201);
      expect(byManager.headers.get('idempotent-replayed')).toBeNull();

      const session = await login(server, 'admin');
      const bySession = await call(server, 'POST', '/api/v1/leads', {
        ...session,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(bySession.status, bySession.text).toBe(201);
      expect(bySession.headers.get('idempotent-replayed')).toBeNull();
      // ...and the session's own retry is replayed.
      const bySessionAgain = await call(server, 'POST', '/api/v1/leads', {
        ...session,
        body,
        headers: { 'idempotency-key': key },
      });
      expect(bySessionAgain.headers.get('idempotent-replayed')).toBe('true');
      expect(bySessionAgain.text).toBe(bySession.text);

      expect(await leadsWithSource(source)).toHaveLength(4);
    });

    it('runs 20 concurrent creates with one key once: the rest are replays or 409 in-use', async () => {
      const source = unique('idem-race');
      const key = unique('key');
      const body = newLeadBody(source);
      const answers = await Promise.all(
        Array.from({ length: 20 }, () =>
          call(server, 'POST', '/api/v1/leads', { token: admin, body, headers: { 'idempotency-key': key } }),
        ),
      );
      const fresh = answers.filter((a) => a.status === 201 && a.headers.get('idempotent-replayed') === null);
      expect(fresh).toHaveLength(1);
      for (const a of answers) {
        if (a === fresh[0]) continue;
        if (a.status === 409) expectProblem(a, 409, 'idempotency-key-in-use');
        else {
          expect(a.status).toBe(201);
          expect(a.headers.get('idempotent-replayed')).toBe('true');
          expect(a.text).toBe(fresh[0]?.text);
        }
      }
      expect(await leadsWithSource(source)).toHaveLength(1);
    });

    it('replays a transition (win) with one effect; a different body is 422', async () => {
      const id = await leadOf(server, admin, 'rep-a1');
      const key = unique('key');
      const first = await call(server, 'POST', `/api/v1/leads/${id}/win`, {
        token: admin,
        body: { reason: 'signed' },
        headers: { 'idempotency-key': key },
      });
      expect(first.status, first.text).toBe(200);
      expect((first.body as LeadJson).status).toBe('won');
      expect(first.headers.get('etag')).toBe('"2"');

      const again = await call(server, 'POST', `/api/v1/leads/${id}/win`, {
        token: admin,
        body: { reason: 'signed' },
        headers: { 'idempotency-key': key },
      });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.headers.get('etag')).toBe('"2"');

      const other = await call(server, 'POST', `/api/v1/leads/${id}/win`, {
        token: admin,
        body: { reason: 'another reason' },
        headers: { 'idempotency-key': key },
      });
      expectProblem(other, 422, 'idempotency-key-reused');

      const after = await getLead(id);
      expect(after.lead.version).toBe(2);
      expect(after.lead.status).toBe('won');
      expect((await timelineTypes(id)).filter((t) => t === 'lead.won')).toHaveLength(1);

      // Without the key, a second win really runs, and is refused: the lead is closed.
      const unkeyed = await call(server, 'POST', `/api/v1/leads/${id}/win`, {
        token: admin,
        body: { reason: 'signed' },
      });
      expectProblem(unkeyed, 409, 'conflict');
    });

    it('replays a task completion with one effect', async () => {
      const id = await leadOf(server, admin, 'rep-a1');
      const { lead } = await getLead(id);
      const task = lead.openTasks.find((t) => t.template === 'first-call');
      expect(task).toBeDefined();
      const path = `/api/v1/tasks/${encodeURIComponent(task?.id ?? '')}/complete`;
      const key = unique('key');

      const first = await call(server, 'POST', path, { token: admin, headers: { 'idempotency-key': key } });
      expect(first.status, first.text).toBe(200);
      expect((first.body as { task: { status: string } }).task.status).toBe('done');

      const again = await call(server, 'POST', path, { token: admin, headers: { 'idempotency-key': key } });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect(again.headers.get('idempotent-replayed')).toBe('true');

      // One effect: one completion, and the goal advanced the lead once (new -> qualified).
      const after = await getLead(id);
      expect(after.lead.stage).toBe('qualified');
      expect(after.lead.version).toBe(2);
      expect(after.lead.openTasks.map((t) => t.template)).toEqual(['demo']);
      expect((await timelineTypes(id)).filter((t) => t === 'task.completed')).toHaveLength(1);

      const unkeyed = await call(server, 'POST', path, { token: admin });
      expectProblem(unkeyed, 409, 'conflict');
    });

    it('answers 409 idempotency-key-in-use while the first request with the key is still running', async () => {
      // A token of our own, found by its unique name in GET /tokens, so we know its scope.
      const session = await login(server, 'admin');
      const name = unique('in-use');
      const made = await call(server, 'POST', '/api/v1/tokens', { ...session, body: { name, scopes: ['*'] } });
      expect(made.status, made.text).toBe(201);
      const token = (made.body as { token: string }).token;
      const list = await call(server, 'GET', '/api/v1/tokens', { token });
      const tokenId = (list.body as { items: { id: string; name: string }[] }).items.find((t) => t.name === name)?.id;
      expect(tokenId).toBe((made.body as { id: string }).id);
      const scope = `token:${tokenId ?? ''}`;

      // A finished request gives us the hash the server computes for this exact request...
      const source = unique('idem-running');
      const body = newLeadBody(source);
      const done = await call(server, 'POST', '/api/v1/leads', {
        token,
        body,
        headers: { 'idempotency-key': 'k-done' },
      });
      expect(done.status, done.text).toBe(201);
      const row = await server.store.db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'state'])
        .where('scope', '=', scope)
        .where('key', '=', 'k-done')
        .executeTakeFirstOrThrow();
      expect(row.state).toBe('done');

      // ...and a 'running' row with another key stands for a first request still in flight.
      await server.store.db
        .insertInto('idempotency_keys')
        .values({
          scope,
          key: 'k-running',
          request_hash: row.request_hash,
          state: 'running',
          status_code: null,
          headers: null,
          body: null,
          created_at: server.clock.now,
        })
        .execute();
      const retry = await call(server, 'POST', '/api/v1/leads', {
        token,
        body,
        headers: { 'idempotency-key': 'k-running' },
      });
      expectProblem(retry, 409, 'idempotency-key-in-use');
      expect(retry.headers.get('retry-after')).not.toBeNull();
      expect(await leadsWithSource(source)).toHaveLength(1);

      // The key is this token's only: the admin's other token runs the same request for real.
      const elsewhere = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body,
        headers: { 'idempotency-key': 'k-running' },
      });
      expect(elsewhere.status, elsewhere.text).toBe(201);
      expect(await leadsWithSource(source)).toHaveLength(2);
    });

    it('refuses an Idempotency-Key that is not 1 to 255 visible ASCII characters', async () => {
      const source = unique('idem-badkey');
      const r = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: newLeadBody(source),
        headers: { 'idempotency-key': 'k'.repeat(256) },
      });
      expectProblem(r, 400, 'validation-failed');
      expect(await leadsWithSource(source)).toHaveLength(0);
    });
  });
});
