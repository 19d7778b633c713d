import { flowCounts, type FlowCounts } from '../../store/reports/flow.js';
import { columnsOf, type ReportDefinition, type ReportRow } from '../report.js';
import { byKeyThenStage, refuseOptions, stagePlace, type StagePlace } from './stage-helpers.js';

/**
 * METRICS.md §2 flow view: per stage, stays entered during the period and stays left during it by
 * exit kind, for one pipeline (--pipeline) or all. Every stage of the pipelines in scope is listed
 * for each group that has any flow, so a stage nobody passed shows as zeros.
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
    const pipelines = ctx.process.pipelines.filter((p) => ctx.scope.pipeline === null || p.id === ctx.scope.pipeline);
    const keys = [...new Set(counts.map((c) => c.key))];
    const cells = new Map(counts.map((c) => [`${c.key}\u0000${c.pipeline}\u0000${c.stage}`, c]));
    // Every configured stage for each group, plus stages only older stays know of.
    for (const key of keys)
      for (const p of pipelines)
        p.stages.forEach((s, index) => {
          const id = `${key}\u0000${p.id}\u0000${s.id}`;
          if (!cells.has(id)) cells.set(id, empty(key, p.id, s.id, index));
        });
    const rows = [...cells.values()]
      .map((c) => ({ key: c.key, place: stagePlace(ctx.process, c.pipeline, c.stage, c.index), c }))
      .sort(byKeyThenStage)
      .map(({ key, place, c }) => row(ctx.dimensionFields(key), place, c));
    return { rows, columns: columnsOf(ctx, ['pipeline', 'stage', 'stage_id', 'index', ...FIGURES]) };
  },
};

function empty(key: string, pipeline: string, stage: string, index: number): FlowCounts {
  return { key, pipeline, stage, index, entries: 0, goal: 0, moved: 0, won: 0, lost: 0, pipelineMoves: 0 };
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
