import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction, type Store } from '../../src/store/db.js';
import { leadSearchQuery, type LeadSearch } from '../../src/store/lead-search.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A client syncing by `updated_since` (GET /leads, export) reads one range of `leads_updated`
 * instead of every lead: the database's own plan for the query the API runs says so. PostgreSQL
 * would scan a table this small whatever its indexes, so sequential scans are turned off for the
 * question (only the plan is read; nothing runs).
 */

const SYNC: LeadSearch = {
  updatedFrom: Date.parse('2026-03-02T00:00:00Z'),
  reach: null,
  sort: 'updated_at',
  order: 'asc',
  limit: 500,
};

describe.each(dialects)('lead sync by last change on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
  });
  afterAll(() => store.close());

  it('reads the leads_updated index for updated_since', async () => {
    const plan = await withTransaction(store, async (tx) => {
      const { sql: text, parameters } = leadSearchQuery(tx, SYNC, dialect).compile();
      if (dialect === 'postgres') await sql`set local enable_seqscan = off`.execute(tx);
      const explain = dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
      const rows = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(explain + text, [...parameters]));
      return rows.rows.map((r) => String(r['detail'] ?? r['QUERY PLAN'])).join('\n');
    });
    expect(plan).toMatch(/leads_updated/);
  });
});
