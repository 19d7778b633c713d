import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Migration 0024: mail kept as an .eml file while SMTP_URL was unset had been recorded 'sent', so
 * nothing could send it later; such rows become 'kept' (which `outbox retry` queues again). Rows
 * that did leave, and kept rows whose file an erasure deleted, stay as they are.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');
const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('migration 0024 on %s', (dialect) => {
  it("gives rows kept as a file the status 'kept', and leaves mail that left alone", async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const row = (id: string, status: string, detail: string | null) => ({
      id,
      lead_id: 'L1',
      kind: 'email',
      payload: '{}',
      status,
      attempts: 1,
      next_attempt_at: T0,
      created_at: T0,
      last_error: null,
      last_attempt_at: T0,
      detail,
    });
    await store.db
      .insertInto('outbox')
      .values([
        row('kept', 'sent', 'not sent (SMTP_URL is unset): kept as /srv/mail/L1%3A1%3A0%3Aemail.eml'),
        row('smtp', 'sent', '250 2.0.0 Ok: queued as 4F2'),
        row('erased', 'sent', 'not sent (SMTP_URL is unset): its file was deleted when the contact was erased'),
        row('cancelled', 'cancelled', 'not sent (SMTP_URL is unset): kept as /srv/mail/x.eml'),
        row('none', 'sent', null),
      ])
      .execute();
    await migrations['0024_outbox_kept']?.up(store.db);
    const rows = await store.db.selectFrom('outbox').select(['id', 'status']).orderBy('id').execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      cancelled: 'cancelled',
      erased: 'sent',
      kept: 'kept',
      none: 'sent',
      smtp: 'sent',
    });
  });
});
