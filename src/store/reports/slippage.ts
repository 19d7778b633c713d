import { sql } from 'kysely';
import type { Tx } from '../db.js';
import { dimension, ownerFilter, pipelineFilter, withTables, type ReportScope } from './scope.js';

/**
 * The expected_close changes made in the period (field_history rows with field 'expected_close'
 * and `at` in [from, to)) that moved an existing date: both the old and the new value are set.
 * Setting a first date or clearing one is not a push or a pull. The values stay JSON text here;
 * the report parses them, since a field may hold an ISO date or epoch milliseconds.
 */

export interface CloseDateChange {
  key: string;
  lead: string;
  at: number;
  oldValue: string;
  newValue: string;
}

type Raw = Record<string, string | number | null>;

/**
 * Grouped by the lead's owner, team, … now; a time bucket groups on the change's time. Limited to
 * owners, the changes of leads whose current owner is one of them.
 */
export async function closeDateChanges(tx: Tx, scope: ReportScope): Promise<CloseDateChange[]> {
  const d = dimension(scope, sql`fh.at`);
  const res = await sql<Raw>`${withTables(scope)}
    select ${d.expr} as key, fh.lead_id, fh.at, fh.old_value, fh.new_value
    from field_history fh
    join leads l on l.id = fh.lead_id
    ${d.join}
    where fh.field = 'expected_close' and fh.at >= ${scope.from} and fh.at < ${scope.to}
      and fh.old_value is not null and fh.new_value is not null ${pipelineFilter(scope)} ${ownerFilter(scope)}
    order by 1, fh.lead_id, fh.at, fh.seq, fh.idx`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    lead: String(r['lead_id']),
    at: Number(r['at']),
    oldValue: String(r['old_value']),
    newValue: String(r['new_value']),
  }));
}
