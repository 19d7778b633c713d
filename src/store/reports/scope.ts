import { sql, type RawBuilder } from 'kysely';
import { isTimeDimension, type Bucket, type Dimension, type TeamMembership } from '../../domain/reporting.js';
import { jsonField, type DialectName } from '../db.js';

/**
 * What every report query shares: the period, the grouping, the pipeline filter and the owners the
 * report is limited to, turned into SQL that runs unchanged on SQLite and PostgreSQL. Teams and time
 * buckets come in as small VALUES tables (`team_map`, `buckets`), so neither database needs to know
 * the process or time zones.
 */

export interface ReportScope {
  dialect: DialectName;
  from: number;
  to: number;
  by: Dimension | null;
  pipeline: string | null;
  /** The buckets of [from, to) when `by` is week, month or quarter. */
  buckets: readonly Bucket[];
  teams: readonly TeamMembership[];
  /**
   * The people the report is limited to (a manager's reach, `--team`), or null for everyone. A
   * lead-level figure counts a lead whose current owner is one of them (as the lead API scopes
   * leads, so a lead without an owner is out); a figure about a person (adoption) counts when that
   * person is one of them. An empty list matches nothing.
   */
  owners: readonly string[] | null;
}

/**
 * `with team_map(...) as (values ...), buckets(...) as (values ...)`, each with at least one row.
 * `recursive` when one of `extra` refers to itself (PostgreSQL needs the keyword, SQLite accepts it).
 */
export function withTables(
  scope: ReportScope,
  extra: RawBuilder<unknown>[] = [],
  recursive = false,
): RawBuilder<unknown> {
  const teams = scope.teams.length > 0 ? scope.teams : [{ version: -1, user: '', team: '' }];
  const buckets = scope.buckets.length > 0 ? scope.buckets : [{ label: '', start: 0, end: 0 }];
  const teamRows = sql.join(
    teams.map((t) => sql`(cast(${t.version} as integer), cast(${t.user} as text), cast(${t.team} as text))`),
  );
  const bucketRows = sql.join(
    buckets.map((b) => sql`(cast(${b.label} as text), cast(${b.start} as bigint), cast(${b.end} as bigint))`),
  );
  return sql`with ${sql.raw(recursive ? 'recursive ' : '')}team_map (version, user_id, team) as (values ${teamRows}),
    buckets (label, starts, ends) as (values ${bucketRows})${extra.length > 0 ? sql`, ${sql.join(extra)}` : sql``}`;
}

/** The group key of every row of an ungrouped query: the one group, the total. */
export const UNGROUPED_KEY = 'all';

/**
 * The grouping of a lead-level query over `leads l`: the expression to group by and the joins it
 * needs. `timeColumn` is the event time a time bucket groups on (closed_at for win rate, …).
 */
export function dimension(
  scope: ReportScope,
  timeColumn: RawBuilder<unknown>,
): { expr: RawBuilder<unknown>; join: RawBuilder<unknown> } {
  const by = scope.by;
  if (by === null) return { expr: sql.lit(UNGROUPED_KEY), join: sql`` };
  if (isTimeDimension(by))
    return { expr: sql`b.label`, join: sql`join buckets b on ${timeColumn} >= b.starts and ${timeColumn} < b.ends` };
  if (by === 'team')
    return {
      expr: sql`coalesce(tm.team, '')`,
      join: sql`left join team_map tm on tm.version = l.process_version and tm.user_id = l.owner`,
    };
  return { expr: sql`coalesce(${sql.ref(`l.${by}`)}, '')`, join: sql`` };
}

/** `and l.pipeline = ?` when the report is for one pipeline. */
export function pipelineFilter(scope: ReportScope, column = sql`l.pipeline`): RawBuilder<unknown> {
  return scope.pipeline === null ? sql`` : sql`and ${column} = ${scope.pipeline}`;
}

/**
 * `and <column> in (...)` when the report is limited to some owners (`ownerFilter(scope)` filters
 * `l.owner`, the lead's current owner); nothing when it is not, so an unscoped query keeps its SQL
 * and its plan. An empty list matches nothing, never everything. `keyword` 'where' starts a clause.
 */
export function ownerFilter(
  scope: Pick<ReportScope, 'owners'>,
  column: RawBuilder<unknown> = sql`l.owner`,
  keyword: 'and' | 'where' = 'and',
): RawBuilder<unknown> {
  if (scope.owners === null) return sql``;
  const k = sql.raw(keyword);
  if (scope.owners.length === 0) return sql`${k} 1 = 0`;
  return sql`${k} ${column} in (${sql.join(scope.owners)})`;
}

/** A text field of a JSON column (`leads.fields`), the one place the two databases spell differently. */
export function jsonText(scope: ReportScope, column: RawBuilder<unknown>, key: string): RawBuilder<string | null> {
  return jsonField(scope.dialect, column, key);
}
