import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/** Mailing-list rows follow the contact across events, on a real SQLite file and a real PostgreSQL. */

const PROCESS = `name: Lists
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: new
        name: New
        on_enter: [{ subscribe: { list: nurture, tags: [trial] } }]
      - id: later
        name: Later
        on_enter: [{ unsubscribe: { list: nurture } }]
`;
const T0 = Date.parse('2026-11-29T12:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('mailing lists through the engine on %s', (dialect) => {
  it('an address change moves the membership with its tags; the stage unsubscribe then reaches the new address', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    const events = [
      { type: 'lead.created', lead: 'K1', fields: { name: 'Kay', email: 'kay@old.example', first_name: 'Kay' } },
      { type: 'lead.updated', lead: 'K1', fields: { email: 'kay@new.example' } },
      { type: 'lead.moved', lead: 'K1', stage: 'later', override: false },
    ] as const;
    for (const [i, event] of events.entries()) {
      const out = await engine.handle(event, T0 + i * 60_000);
      expect(out.ok, JSON.stringify(out)).toBe(true);
    }
    const rows = await store.db.selectFrom('outbox').select(['id', 'payload']).orderBy('id').execute();
    expect(
      rows.map((r) => {
        const p = JSON.parse(r.payload) as { email: string; tags?: string[] };
        return [r.id, p.email, p.tags];
      }),
    ).toEqual([
      ['K1:1:0:list.subscribe', 'kay@old.example', ['trial']],
      ['K1:2:0:list.unsubscribe', 'kay@old.example', undefined],
      ['K1:2:1:list.subscribe', 'kay@new.example', ['trial']],
      ['K1:3:0:list.unsubscribe', 'kay@new.example', undefined],
    ]);
  });
});
