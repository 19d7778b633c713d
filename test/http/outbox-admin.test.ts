import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit.js';
import { FINAL_ANSWER, LEASE_MS } from '../../src/store/outbox-delivery.js';
import { dialects } from '../support/stores.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * An admin's hand on the outbox over the API: every state can be listed, one row can be cancelled
 * for good, a retry or cancel of a row whose state rules it out says why (409), and replay-dead
 * leaves final refusals dead unless asked.
 */

describe.each(dialects)('the outbox admin routes on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    const now = server.clock.now;
    const row = (id: string, status: string, over: Record<string, unknown> = {}) => ({
      id,
      lead_id: 'OX',
      kind: 'webhook',
      payload: JSON.stringify({ url: 'https://hooks.example/x' }),
      status,
      attempts: 1,
      next_attempt_at: now,
      created_at: now,
      last_error: null,
      ...over,
    });
    await server.store.db
      .insertInto('outbox')
      .values([
        row('OX:queued', 'pending'),
        row('OX:busy', 'sending', { next_attempt_at: now + LEASE_MS }),
        row('OX:done', 'sent', { last_attempt_at: now - 60_000, detail: 'HTTP 200' }),
        row('OX:refused', 'dead', {
          kind: 'email',
          detail: FINAL_ANSWER,
          last_error: 'SMTP server refused the recipient: 550',
        }),
        row('OX:outage', 'dead', { last_error: 'HTTP 503' }),
        row('OX:config', 'dead', {
          detail: FINAL_ANSWER,
          last_error: 'WEBHOOK_SECRET is not set: set it and replay the dead rows',
        }),
      ])
      .execute();
  });
  afterAll(() => server.close());

  const post = (path: string) => call(server, 'POST', `/api/v1/outbox${path}`, { token: admin });
  const statusOf = async (id: string) =>
    (
      await server.store.db
        .selectFrom('outbox')
        .select(['status', 'last_error'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  it('cancels a queued row for good, audited; it then lists under status=cancelled', async () => {
    const r = await post('/OX%3Aqueued/cancel');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ cancelled: 'OX:queued' });
    expect(await statusOf('OX:queued')).toBe('cancelled');
    const listed = await call(server, 'GET', '/api/v1/outbox?status=cancelled&lead=OX', { token: admin });
    expect(listed.status, listed.text).toBe(200);
    expect((listed.body as { items: { id: string; lastError: string }[] }).items).toEqual([
      expect.objectContaining({ id: 'OX:queued', lastError: expect.stringMatching(/^cancelled by admin at /) }),
    ]);
    expect(await listAudit(server.store.db, { action: 'outbox.cancelled', target: 'OX:queued' })).toHaveLength(1);
    const sending = await call(server, 'GET', '/api/v1/outbox?status=sending&lead=OX', { token: admin });
    expect((sending.body as { items: { id: string }[] }).items.map((i) => i.id)).toEqual(['OX:busy']);
  });

  it('answers 409 with the reason for a row in flight, delivered or cancelled, and 404 for an unknown id', async () => {
    const busy = await post('/OX%3Abusy/retry');
    expect(busy.status).toBe(409);
    expect((busy.body as { detail: string }).detail).toMatch(
      /is being delivered now \(lease until 2026-03-02T09:05:00\.000Z\)/,
    );
    expect((await post('/OX%3Abusy/cancel')).status).toBe(409);
    const done = await post('/OX%3Adone/retry');
    expect(done.status).toBe(409);
    expect((done.body as { detail: string }).detail).toMatch(/was already delivered at 2026-03-02T08:59:00\.000Z/);
    const cancelled = await post('/OX%3Aqueued/retry');
    expect(cancelled.status).toBe(409);
    expect((cancelled.body as { detail: string }).detail).toMatch(/is cancelled \(cancelled by admin/);
    expect((await post('/nope/retry')).status).toBe(404);
    expect((await post('/nope/cancel')).status).toBe(404);
    expect(await statusOf('OX:busy')).toBe('sending');
    expect(await statusOf('OX:done')).toBe('sent');
  });

  it('replays dead rows that may now succeed, and final refusals only with all=true', async () => {
    const r = await post('/replay-dead?lead=OX');
    expect(r.status, r.text).toBe(200);
    expect(r.body).toEqual({ replayed: 2, skipped: 1 });
    expect(await statusOf('OX:outage')).toBe('pending');
    expect(await statusOf('OX:config')).toBe('pending');
    expect(await statusOf('OX:refused')).toBe('dead');
    expect(await post('/replay-dead?lead=OX&all=true')).toMatchObject({ body: { replayed: 1, skipped: 0 } });
    expect(await statusOf('OX:refused')).toBe('pending');
  });

  it('queues mail kept as a file (SMTP_URL unset) again: one row by its retry, or every kept row', async () => {
    const now = server.clock.now;
    const kept = (id: string, lead: string) => ({
      id,
      lead_id: lead,
      kind: 'email',
      payload: '{}',
      status: 'kept',
      attempts: 1,
      next_attempt_at: now - 60_000,
      created_at: now - 60_000,
      last_error: null,
      last_attempt_at: now - 60_000,
      detail: `not sent (SMTP_URL is unset): kept as /srv/mail/${id}.eml`,
    });
    await server.store.db
      .insertInto('outbox')
      .values([kept('KP:one', 'KP'), kept('KP:two', 'KP'), kept('KQ:three', 'KQ')])
      .execute();
    const listed = await call(server, 'GET', '/api/v1/outbox?status=kept', { token: admin });
    expect(listed.status, listed.text).toBe(200);
    expect((listed.body as { items: { id: string }[] }).items.map((i) => i.id).sort()).toEqual([
      'KP:one',
      'KP:two',
      'KQ:three',
    ]);
    const one = await post('/KP%3Aone/retry');
    expect(one.status, one.text).toBe(200);
    expect(await statusOf('KP:one')).toBe('pending');
    const bulk = await post('/retry-kept?lead=KP');
    expect(bulk.status, bulk.text).toBe(200);
    expect(bulk.body).toEqual({ retried: 1 });
    expect(await statusOf('KP:two')).toBe('pending');
    expect(await statusOf('KQ:three')).toBe('kept');
    expect(await post('/retry-kept')).toMatchObject({ status: 200, body: { retried: 1 } });
    expect(await statusOf('KQ:three')).toBe('pending');
    const row = await server.store.db
      .selectFrom('outbox')
      .selectAll()
      .where('id', '=', 'KQ:three')
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ attempts: 0, next_attempt_at: now });
    expect(await listAudit(server.store.db, { action: 'outbox.kept_retried' })).toHaveLength(2);
  });
});

describe.each(dialects)('reading a kept message over the API on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('answers the .eml of a row kept while SMTP_URL was unset, and 409 for a row that was not kept', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stageflow-kept-'));
    const file = join(dir, 'K1.eml');
    writeFileSync(file, 'Subject: Welcome\r\nTo: ann@acme.example\r\n\r\nHello\r\n');
    const now = server.clock.now;
    const base = { lead_id: 'K1', kind: 'email', payload: '{}', attempts: 1, next_attempt_at: now, created_at: now };
    await server.store.db
      .insertInto('outbox')
      .values([
        { ...base, id: 'K1:kept', status: 'sent', detail: `not sent (SMTP_URL is unset): kept as ${file}` },
        { ...base, id: 'K1:smtp', status: 'sent', detail: '<K1@seller.example>' },
      ])
      .execute();
    const kept = await call(server, 'GET', '/api/v1/outbox/K1%3Akept/message', { token: admin });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(kept.text).toBe('Subject: Welcome\nTo: ann@acme.example\n\nHello\n');
    const smtp = await call(server, 'GET', '/api/v1/outbox/K1%3Asmtp/message', { token: admin });
    expect(smtp.status).toBe(409);
    expect((smtp.body as { detail: string }).detail).toMatch(/was not kept as a file/);
    expect((await call(server, 'GET', '/api/v1/outbox/nope/message', { token: admin })).status).toBe(404);
  });
});
