import type SqliteDatabase from 'better-sqlite3';

/**
 * Prepared statements on the raw SQLite connection, for the engine's hot path. Kysely compiles
 * every query anew and a multi-row statement's text changes with its row count, so on SQLite a
 * batch costs more in query building and parsing than in SQLite's own work; a statement prepared
 * once per connection and run once per row leaves only the binding and the insert itself.
 * PostgreSQL keeps Kysely's multi-row statements, where one round trip per row would cost more.
 */

export type Connection = SqliteDatabase.Database;
export type Statement = SqliteDatabase.Statement;

const caches = new WeakMap<Connection, Map<string, Statement>>();

/** The statement for `text` on this connection, prepared on first use. */
export function prepared(db: Connection, text: string): Statement {
  let cache = caches.get(db);
  if (!cache) {
    cache = new Map();
    caches.set(db, cache);
  }
  let stmt = cache.get(text);
  if (!stmt) {
    stmt = db.prepare(text);
    cache.set(text, stmt);
  }
  return stmt;
}

const quote = (name: string): string => `"${name}"`;

/**
 * `insert into table (cols) values (@cols) <tail>` for rows whose keys are the columns, bound by
 * name from the row object itself; the column list follows the row (like Kysely's `values`).
 */
export function insertText(table: string, cols: readonly string[], tail = ''): string {
  const names = cols.map(quote).join(', ');
  const params = cols.map((c) => `@${c}`).join(', ');
  return `insert into ${quote(table)} (${names}) values (${params})${tail ? ` ${tail}` : ''}`;
}

/** `on conflict (key) do update set col = excluded.col, …`, an upsert's tail. */
export function upsertTail(key: string, updates: readonly string[], where = ''): string {
  const set = updates.map((c) => `${quote(c)} = excluded.${quote(c)}`).join(', ');
  return `on conflict (${quote(key)}) do update set ${set}${where ? ` where ${where}` : ''}`;
}

/**
 * `update table set col = @col, … where key = @key [and <where>]`, bound by name from the row; the
 * key is never SET, so SQLite re-checks no foreign key that points at it.
 */
export function updateText(table: string, key: string, cols: readonly string[], where = ''): string {
  const set = cols
    .filter((c) => c !== key)
    .map((c) => `${quote(c)} = @${c}`)
    .join(', ');
  return `update ${quote(table)} set ${set} where ${quote(key)} = @${key}${where ? ` and ${where}` : ''}`;
}

/** Runs one prepared update per row (`updateText`); returns how many rows it changed. */
export function runUpdates(db: Connection, table: string, key: string, rows: Iterable<object>, where = ''): number {
  let stmt: Statement | null = null;
  let changed = 0;
  for (const row of rows) {
    stmt ??= prepared(db, updateText(table, key, Object.keys(row), where));
    changed += stmt.run(row).changes;
  }
  return changed;
}

/**
 * Updates one row, setting only the columns whose values differ from `before` (all of them when
 * `before` is null) and always `version`, the concurrency token `where` may compare; returns how
 * many rows changed. Statements are prepared per set of columns, and a few sets recur.
 */
export function runChangedUpdate<T extends object>(
  db: Connection,
  table: string,
  key: keyof T & string,
  row: Readonly<T>,
  before: Readonly<Partial<T>> | null,
  where = '',
): number {
  const params: Partial<T> = {};
  for (const c of Object.keys(row) as (keyof T & string)[])
    if (c === key || c === 'version' || before === null || row[c] !== before[c]) params[c] = row[c];
  return prepared(db, updateText(table, key, Object.keys(params), where)).run(params).changes;
}

/**
 * Runs one prepared insert per row; returns how many rows it inserted or updated (an upsert whose
 * `where` fails, or `do nothing`, counts 0).
 */
export function runRows(db: Connection, table: string, rows: Iterable<object>, tail = ''): number {
  let stmt: Statement | null = null;
  let changed = 0;
  for (const row of rows) {
    stmt ??= prepared(db, insertText(table, Object.keys(row), tail));
    changed += stmt.run(row).changes;
  }
  return changed;
}
