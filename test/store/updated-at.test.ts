import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A lead's `updated_at` never goes back: an event dated before the lead's last write (a clock set
 * back; the engine handles it as of the lead's last change) still moves it on, so a client syncing
 * by `updated_since` from the later time sees the change.
 */

const PROCESS = `name: Sync
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna }
pipelines:
  - { id: nb, name: NB, default: true, stages: [{ id: open, name: Open }] }
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('updated_at on %s', (dialect) => {
  it('keeps the latest write time when an event is dated earlier', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const t0 = Date.parse('2026-03-02T09:00:00Z');
    await applyProcess(store, PROCESS, t0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'L', fields: {} }, t0);
    await engine.handle({ type: 'lead.updated', lead: 'L', fields: { company: 'Acme' } }, t0 + 3_600_000);
    await engine.handle({ type: 'lead.updated', lead: 'L', fields: { company: 'Acme GmbH' } }, t0 + 60_000);
    const row = await store.db
      .selectFrom('leads')
      .select(['updated_at', 'company'])
      .where('id', '=', 'L')
      .executeTakeFirstOrThrow();
    expect([Number(row.updated_at), row.company]).toEqual([t0 + 3_600_000, 'Acme GmbH']);
  });
});
