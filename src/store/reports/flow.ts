import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../db.js';
import { dimension, ownerFilter, pipelineFilter, withTables, type ReportScope } from './scope.js';

/**
 * The flow view of METRICS.md §2: stays entered during the period, and stays left during it by
 * exit kind, per pipeline and stage (as recorded on the stay). A time bucket groups entries by
 * entered_at and exits by exited_at. Limited to owners, a stay counts when its lead's current owner
 * is one of them.
 */

export interface FlowCounts {
  key: string;
  pipeline: string;
  stage: string;
  index: number;
  entries: number;
  goal: number;
  moved: number;
  won: number;
  lost: number;
  pipelineMoves: number;
  /**
   * Won and lost exits whose lead was reopened afterwards: its outcome now (the one win-rate counts,
   * at its closed_at) is not this exit.
   */
  wonReopened: number;
  lostReopened: number;
}

type Raw = Record<string, string | number | null>;

/**
 * The exit's lead was reopened since: it is no longer closed with this outcome at this exit's time
 * (reopened and open now, closed the other way, or closed this way again later). Read from the lead
 * row the query joins anyway, so the count costs no extra scan.
 */
function reopened(kind: 'won' | 'lost'): RawBuilder<unknown> {
  return sql`(l.status <> ${kind} or l.closed_at is null or l.closed_at <> s.exited_at)`;
}

export async function flowCounts(tx: Tx, scope: ReportScope): Promise<FlowCounts[]> {
  const entered = dimension(scope, sql`s.entered_at`);
  const exited = dimension(scope, sql`s.exited_at`);
  const pf = sql`${pipelineFilter(scope, sql`s.pipeline`)} ${ownerFilter(scope)}`;
  const [entries, exits] = await Promise.all([
    sql<Raw>`${withTables(scope)}
      select ${entered.expr} as key, s.pipeline, s.stage, min(s.stage_index) as idx, count(*) as entries
      from stage_stays s
      join leads l on l.id = s.lead_id
      ${entered.join}
      where s.entered_at >= ${scope.from} and s.entered_at < ${scope.to} ${pf}
      group by 1, s.pipeline, s.stage`.execute(tx),
    sql<Raw>`${withTables(scope)}
      select ${exited.expr} as key, s.pipeline, s.stage, min(s.stage_index) as idx,
        sum(case when s.exit_kind = 'goal' then 1 else 0 end) as goal,
        sum(case when s.exit_kind = 'moved' then 1 else 0 end) as moved,
        sum(case when s.exit_kind = 'won' then 1 else 0 end) as won,
        sum(case when s.exit_kind = 'lost' then 1 else 0 end) as lost,
        sum(case when s.exit_kind = 'pipeline' then 1 else 0 end) as pipeline_moves,
        sum(case when s.exit_kind = 'won' and ${reopened('won')} then 1 else 0 end) as won_reopened,
        sum(case when s.exit_kind = 'lost' and ${reopened('lost')} then 1 else 0 end) as lost_reopened
      from stage_stays s
      join leads l on l.id = s.lead_id
      ${exited.join}
      where s.exited_at >= ${scope.from} and s.exited_at < ${scope.to} ${pf}
      group by 1, s.pipeline, s.stage`.execute(tx),
  ]);
  const out = new Map<string, FlowCounts>();
  const row = (r: Raw): FlowCounts => {
    const id = [r['key'], r['pipeline'], r['stage']].map(String).join('\u0000');
    let f = out.get(id);
    if (!f) {
      f = emptyFlowCounts(String(r['key']), String(r['pipeline']), String(r['stage']), Number(r['idx']));
      out.set(id, f);
    }
    return f;
  };
  for (const r of entries.rows) row(r).entries = Number(r['entries']);
  for (const r of exits.rows) {
    const f = row(r);
    f.goal = Number(r['goal']);
    f.moved = Number(r['moved']);
    f.won = Number(r['won']);
    f.lost = Number(r['lost']);
    f.pipelineMoves = Number(r['pipeline_moves']);
    f.wonReopened = Number(r['won_reopened']);
    f.lostReopened = Number(r['lost_reopened']);
  }
  return [...out.values()];
}

/** A stage's counts before any stay is counted: the row a stage nobody passed shows. */
export function emptyFlowCounts(key: string, pipeline: string, stage: string, index: number): FlowCounts {
  return {
    key,
    pipeline,
    stage,
    index,
    entries: 0,
    goal: 0,
    moved: 0,
    won: 0,
    lost: 0,
    pipelineMoves: 0,
    wonReopened: 0,
    lostReopened: 0,
  };
}
