import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Migration 0016: expected close dates stored before they meant the organisation's day (a bare
 * date, its column at UTC midnight) become that day in the zone of the lead's process version.
 * Hand-computed: 31 March 2026 starts at 04:00 UTC in New York (UTC-4) and 15:00 UTC on the 30th
 * in Tokyo (UTC+9).
 */

const PROCESS = (zone: string): string => `name: Close dates
organisation: { timezone: ${zone} }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - { id: open, name: Open }
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('migration 0016 on %s', (dialect) => {
  it('rewrites a bare date in the zone of the process version the lead runs under, and leaves an offset one', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    const now = Date.parse('2026-03-02T09:00:00Z');
    await applyProcess(store, PROCESS('America/New_York'), now, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'NY', fields: { name: 'Acme' } }, now);
    await engine.handle({ type: 'lead.created', lead: 'WALL', fields: {} }, now);
    await engine.handle({ type: 'lead.created', lead: 'IMP', fields: {} }, now);
    await engine.handle({ type: 'lead.created', lead: 'NONE', fields: {} }, now);
    // Tokyo's version: NY, WALL and IMP stay on version 1 (open leads move; these three are closed first).
    for (const id of ['NY', 'WALL', 'IMP']) await engine.handle({ type: 'lead.lost', lead: id, reason: 'test' }, now);
    await applyProcess(store, PROCESS('Asia/Tokyo').replace('Close dates', 'Close dates 2'), now, 'test');
    await engine.handle({ type: 'lead.created', lead: 'TK', fields: {} }, now);
    // As the engine stored them before: the field as typed, the column parsed by Date.parse.
    const legacy = async (id: string, fields: Record<string, unknown>, column: number): Promise<void> => {
      await store.db
        .updateTable('leads')
        .set({ fields: JSON.stringify(fields), expected_close: column })
        .where('id', '=', id)
        .execute();
    };
    await legacy('NY', { name: 'Acme', expected_close: '2026-03-31' }, Date.parse('2026-03-31'));
    await legacy('TK', { expected_close: '2026-03-31' }, Date.parse('2026-03-31'));
    await legacy('WALL', { expected_close: '2026-03-31T17:00' }, Date.parse('2026-03-31T17:00:00Z'));
    await legacy('IMP', { expected_close: '2026-03-31T00:00:00-04:00' }, Date.parse('2026-03-31T04:00:00Z'));

    await migrations['0016_close_dates_in_zone']?.up(store.db);

    const rows = await store.db
      .selectFrom('leads')
      .select(['id', 'process_version', 'fields', 'expected_close'])
      .orderBy('id')
      .execute();
    expect(
      rows.map((r) => [
        r.id,
        r.process_version,
        (JSON.parse(r.fields) as Record<string, unknown>)['expected_close'] ?? null,
        r.expected_close === null ? null : Number(r.expected_close),
      ]),
    ).toEqual([
      ['IMP', 1, '2026-03-31T00:00:00-04:00', Date.parse('2026-03-31T04:00:00Z')],
      ['NONE', 2, null, null],
      ['NY', 1, '2026-03-31T00:00:00-04:00', Date.parse('2026-03-31T04:00:00Z')],
      ['TK', 2, '2026-03-31T00:00:00+09:00', Date.parse('2026-03-30T15:00:00Z')],
      ['WALL', 1, '2026-03-31T17:00:00-04:00', Date.parse('2026-03-31T21:00:00Z')],
    ]);
    // The other fields are kept.
    expect(JSON.parse(rows.find((r) => r.id === 'NY')?.fields ?? '{}')).toMatchObject({ name: 'Acme' });
  });
});
