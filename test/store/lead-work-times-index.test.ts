import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTransaction, type Store } from '../../src/store/db.js';
import { leadSearchQuery, type LeadSearch } from '../../src/store/lead-search.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Every lead answer and list reads the lead's last activity and next open task's due time
 * (lead-search.ts WORK_TIMES): each must be one seek of an index led by the lead's id
 * (activities_lead_at, tasks_lead; migration 0030), not a read of every activity or task of the
 * lead, let alone of all of them. The databases' own plans say so; PostgreSQL would scan tables
 * this small whatever their indexes, so sequential scans are turned off for the question.
 */

const BY_LAST_ACTIVITY: LeadSearch = {
  owner: 'rep-a1',
  reach: null,
  sort: 'last_activity_at',
  order: 'asc',
  limit: 50,
};

describe.each(dialects)('lead work times on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
  });
  afterAll(() => store.close());

  it('reads activities_lead_at and tasks_lead for each lead', async () => {
    const plan = await withTransaction(store, async (tx) => {
      const { sql: text, parameters } = leadSearchQuery(tx, BY_LAST_ACTIVITY, dialect).compile();
      if (dialect === 'postgres') await sql`set local enable_seqscan = off`.execute(tx);
      const explain = dialect === 'sqlite' ? 'explain query plan ' : 'explain ';
      const rows = await tx.executeQuery<Record<string, unknown>>(CompiledQuery.raw(explain + text, [...parameters]));
      return rows.rows.map((r) => String(r['detail'] ?? r['QUERY PLAN'])).join('\n');
    });
    expect(plan).toMatch(/activities_lead_at/);
    // The open tasks' earliest due time from the index alone, on either database.
    expect(plan).toMatch(dialect === 'sqlite' ? /COVERING INDEX tasks_lead/ : /Index Only Scan using tasks_lead/);
  });
});
