import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrate, type Store } from '../../src/store/db.js';
import { freshStore } from '../support/stores.js';

/**
 * Every foreign key has an index led by its column, so deleting a parent row (a re-import replacing
 * a lead's stays, a lead deleted) finds its children by a seek: without `tasks (stay_id)` each
 * deleted stay scanned every task, and a re-import into the demo ran twelve times slower than the
 * first import. Read from SQLite's own catalogue; the migrations are the same for PostgreSQL.
 */

// Parents that are never deleted: a stored process version, a member (deactivated, not removed).
const PARENTS_NEVER_DELETED = new Set(['leads.process_version', 'api_tokens.member_id']);

let store: Store;
beforeAll(async () => {
  store = await freshStore('sqlite');
  await migrate(store);
});
afterAll(() => store.close());

it('indexes every foreign key whose parent rows can be deleted', () => {
  const db = store.sqlite;
  if (!db) throw new Error('not SQLite');
  const tables = db.prepare(`select name from sqlite_master where type = 'table'`).pluck().all() as string[];
  const keys = tables.flatMap((t) =>
    (db.prepare(`select "from" as col from pragma_foreign_key_list(?)`).all(t) as { col: string }[]).map(
      (k) => `${t}.${k.col}`,
    ),
  );
  expect(keys).toContain('tasks.stay_id');
  const unindexed = keys.filter((key) => {
    const [table, col] = key.split('.') as [string, string];
    const leading = db
      .prepare(
        `select 1 from pragma_index_list(?) il join pragma_index_info(il.name) ii on ii.seqno = 0 where ii.name = ?`,
      )
      .get(table, col);
    return leading === undefined && !PARENTS_NEVER_DELETED.has(key);
  });
  expect(unindexed).toEqual([]);
});

it('deletes a stay by seeking its tasks, not scanning them', () => {
  const plan = store.sqlite?.prepare(`explain query plan delete from stage_stays where lead_id = ?`).all('x') as {
    detail: string;
  }[];
  expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/SCAN tasks/);
});
