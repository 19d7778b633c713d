import { sql, type RawBuilder } from 'kysely';

/**
 * A small table from the process (stages, thresholds, users) as a CTE `name (cols) as (values …)`,
 * with every value cast so both databases agree on the column types. An empty list becomes one
 * placeholder row that no real key matches, since `values` needs at least one row.
 */

export type ColumnType = 'text' | 'bigint' | 'integer';

export interface Column {
  name: string;
  type: ColumnType;
}

export function valuesTable(
  name: string,
  columns: readonly Column[],
  rows: readonly (readonly (string | number)[])[],
): RawBuilder<unknown> {
  const placeholder = columns.map((c) => (c.type === 'text' ? '' : -1));
  const body = (rows.length > 0 ? rows : [placeholder]).map(
    (row) => sql`(${sql.join(columns.map((c, i) => sql`cast(${row[i]} as ${sql.raw(c.type)})`))})`,
  );
  return sql`${sql.id(name)} (${sql.join(columns.map((c) => sql.id(c.name)))}) as (values ${sql.join(body)})`;
}
