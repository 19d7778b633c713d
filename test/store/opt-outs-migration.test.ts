import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import type { Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Migration 0026: the addresses of leads opted out before remembered opt-outs existed are
 * remembered, as keyed hashes, since the field history says the opt-out was set (else since the
 * lead came in); leads that did not opt out, or have no address, add nothing.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');
const PROCESS = `
name: Migration test
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - { id: new, name: New }
assignment:
  default_owner: anna
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('migration 0026 on %s', (dialect) => {
  it('remembers the addresses of leads opted out already', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0 - 1000, 'test');
    const engine = new Engine(store);
    const created = [
      ['L1', { email: 'Ann@Buyer.example' }],
      ['L2', { email: 'bo@buyer.example', unsubscribed: false }],
      ['L3', { email: 'cy@buyer.example', unsubscribed: 'yes' }],
      ['L4', { unsubscribed: true }],
    ] as const;
    for (const [lead, fields] of created)
      expect((await engine.handle({ type: 'lead.created', lead, fields }, T0)).ok).toBe(true);
    expect(
      (await engine.handle({ type: 'lead.updated', lead: 'L1', fields: { unsubscribed: true } }, T0 + 5000)).ok,
    ).toBe(true);
    // As before the migration: no remembered opt-outs yet.
    await sql`drop table opt_outs`.execute(store.db);
    await migrations['0026_opt_outs']?.up(store.db);
    const keys = await contactKeys(store.db);
    const rows = await store.db.selectFrom('opt_outs').selectAll().orderBy('at').execute();
    expect(rows.map((r) => ({ ...r, at: Number(r.at) }))).toEqual([
      { email_hash: keys.hash('cy@buyer.example'), at: T0, source: 'an earlier lead' },
      { email_hash: keys.hash('ann@buyer.example'), at: T0 + 5000, source: 'an earlier lead' },
    ]);
  });
});
