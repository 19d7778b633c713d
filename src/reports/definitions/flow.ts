import { emptyFlowCounts, flowCounts, type FlowCounts } from '../../store/reports/flow.js';
import { columnsOf, groupKeys, type ReportContext, type ReportDefinition, type ReportRow } from '../report.js';
import { byKeyThenStage, refuseOptions, stagePlace, type StagePlace } from './stage-helpers.js';

/**
 * METRICS.md §2 flow view: per stage, stays entered during the period and stays left during it by
 * exit kind, for one pipeline (--pipeline) or all. Every stage of the pipelines in scope is listed
 * for each group that has any flow (ungrouped, always: the total), so a stage nobody passed shows
 * as zeros.
 */

const FIGURES = ['entries', 'exits', 'exit_goal', 'exit_moved', 'exit_won', 'exit_lost', 'exit_pipeline'] as const;

export const flow: ReportDefinition = {
  name: 'flow',
  description: 'entries into each stage during the period and exits by kind (goal, moved, won, lost, pipeline)',
  dimensions: ['owner', 'team', 'product', 'territory', 'source', 'week', 'month', 'quarter'],
  units: { index: 'number', ...Object.fromEntries(FIGURES.map((f) => [f, 'count'])) },
  async run(ctx) {
    refuseOptions(ctx, 'flow');
    const counts = await flowCounts(ctx.tx, ctx.scope);
    const rows = everyStage(ctx, groupKeys(ctx, [counts]), counts).map(({ key, place, c }) =>
      row(ctx.dimensionFields(key), place, c),
    );
    const columns = columnsOf(ctx, ['pipeline', 'stage', 'stage_id', 'index', ...FIGURES]);
    const notes = reopenNotes(counts);
    if (ctx.scope.by === null) return { rows, columns, ...notes };
    // Grouped, each stage's flow over every group: a stay is in exactly one group (one lead, one
    // entry and one exit time), so the groups add up to the ungrouped report's rows.
    const totals = new Map<string, FlowCounts>();
    for (const c of counts) {
      const id = `${c.pipeline}\u0000${c.stage}`;
      const t = totals.get(id) ?? emptyFlowCounts('', c.pipeline, c.stage, c.index);
      t.entries += c.entries;
      t.goal += c.goal;
      t.moved += c.moved;
      t.won += c.won;
      t.lost += c.lost;
      t.pipelineMoves += c.pipelineMoves;
      totals.set(id, t);
    }
    const total = everyStage(ctx, [''], [...totals.values()]).map(({ place, c }) => row({}, place, c));
    return { rows, columns, summary: { total }, ...notes };
  },
};

/**
 * Flow counts every exit, win-rate each closed lead once by its outcome now: a lead lost, reopened
 * and then won (or lost again later) is an exit_lost here and no loss (or a loss at another date)
 * there. Said where a manager compares the two, only when it happens.
 */
function reopenNotes(counts: readonly FlowCounts[]): { notes?: string[] } {
  const lost = counts.reduce((a, c) => a + c.lostReopened, 0);
  const won = counts.reduce((a, c) => a + c.wonReopened, 0);
  const notes: string[] = [];
  const say = (n: number, kind: string): string =>
    `${n} ${kind} exit(s) in the period are of leads reopened since: flow counts every exit, win-rate ` +
    `each lead once, by its outcome now and the time of its last close (docs/reports.md, flow)`;
  if (lost > 0) notes.push(say(lost, 'lost'));
  if (won > 0) notes.push(say(won, 'won'));
  return notes.length > 0 ? { notes } : {};
}

/**
 * The counts of each group in `keys`, in key then stage order, with every configured stage of the
 * pipelines in scope (zeros where nobody passed), plus stages only older stays know of.
 */
function everyStage(
  ctx: ReportContext,
  keys: readonly string[],
  counts: readonly FlowCounts[],
): { key: string; place: StagePlace; c: FlowCounts }[] {
  const pipelines = ctx.process.pipelines.filter((p) => ctx.scope.pipeline === null || p.id === ctx.scope.pipeline);
  const cells = new Map(counts.map((c) => [`${c.key}\u0000${c.pipeline}\u0000${c.stage}`, c]));
  for (const key of keys)
    for (const p of pipelines)
      p.stages.forEach((s, index) => {
        const id = `${key}\u0000${p.id}\u0000${s.id}`;
        if (!cells.has(id)) cells.set(id, emptyFlowCounts(key, p.id, s.id, index));
      });
  return [...cells.values()]
    .map((c) => ({ key: c.key, place: stagePlace(ctx.process, c.pipeline, c.stage, c.index), c }))
    .sort(byKeyThenStage);
}

function row(dim: ReportRow, place: StagePlace, c: FlowCounts): ReportRow {
  return {
    ...dim,
    pipeline: c.pipeline,
    stage: place.name,
    stage_id: c.stage,
    index: place.index,
    entries: c.entries,
    exits: c.goal + c.moved + c.won + c.lost + c.pipelineMoves,
    exit_goal: c.goal,
    exit_moved: c.moved,
    exit_won: c.won,
    exit_lost: c.lost,
    exit_pipeline: c.pipelineMoves,
  };
}
