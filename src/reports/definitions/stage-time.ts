import type { DistributionRow } from '../../store/reports/distribution.js';
import { UNGROUPED_KEY } from '../../store/reports/scope.js';
import {
  askToDecision,
  closedByPipeline,
  timeInStage,
  type AskStage,
  type StageDays,
} from '../../store/reports/stage-time.js';
import { roundDays } from '../figures.js';
import { columnsOf, groupKeys, type ReportDefinition, type ReportRow } from '../report.js';
import { byKeyThenStage, refuseOptions, stagePlace, withoutGroup } from './stage-helpers.js';

/** METRICS.md §6: time in stage, and time from the ask to the decision. */

/** A configured stage no stay left in the period: its row has count 0 and no mean or median. */
interface Unpassed {
  key: string;
  pipeline: string;
  stage: string;
}

function days(d: DistributionRow | undefined, prefix = ''): ReportRow {
  return {
    [`${prefix}count`]: d?.count ?? 0,
    [`${prefix}mean`]: d ? roundDays(d.mean) : null,
    [`${prefix}median`]: d ? roundDays(d.median) : null,
  };
}

export const timeInStageReport: ReportDefinition = {
  name: 'time-in-stage',
  description: 'days spent in each stage by stays that ended in the period (count, mean, median)',
  dimensions: ['owner', 'team', 'product', 'territory', 'source', 'week', 'month', 'quarter'],
  units: { index: 'number', count: 'count', mean: 'days', median: 'days' },
  async run(ctx) {
    refuseOptions(ctx, 'time-in-stage');
    const stays = await timeInStage(ctx.tx, ctx.scope);
    // The stage totals (the ungrouped rows, the grouped summary) list every configured stage of
    // the pipelines in scope, a stage no stay left with count 0, so an empty period still has its
    // total; a group lists the stages its stays left.
    const pipelines = ctx.process.pipelines.filter((p) => ctx.scope.pipeline === null || p.id === ctx.scope.pipeline);
    const everyStage = (list: readonly StageDays[], key: string): (StageDays | Unpassed)[] => {
      const seen = new Set(list.map((s) => `${s.pipeline}\u0000${s.stage}`));
      const unpassed = pipelines.flatMap((p) =>
        p.stages
          .filter((s) => !seen.has(`${p.id}\u0000${s.id}`))
          .map((s): Unpassed => ({ key, pipeline: p.id, stage: s.id })),
      );
      return [...list, ...unpassed];
    };
    const stageRows = (list: readonly (StageDays | Unpassed)[]): ReportRow[] =>
      list
        .map((s) => ({ key: s.key, place: stagePlace(ctx.process, s.pipeline, s.stage, null), s }))
        .sort(byKeyThenStage)
        .map(({ key, place, s }) => ({
          ...ctx.dimensionFields(key),
          pipeline: s.pipeline,
          stage: place.name,
          stage_id: s.stage,
          index: place.index,
          ...days('count' in s ? s : undefined),
        }));
    const rows = stageRows(ctx.scope.by === null ? everyStage(stays.groups, UNGROUPED_KEY) : stays.groups);
    const columns = columnsOf(ctx, ['pipeline', 'stage', 'stage_id', 'index', 'count', 'mean', 'median']);
    if (ctx.scope.by === null) return { rows, columns };
    // Grouped, each stage's figures over every group (what the ungrouped report shows): a stay
    // is in one group, and the median is taken over the stays, not over the groups' medians. One
    // total per stage, since days in different stages do not add up to a meaningful figure.
    const total = stageRows(everyStage(stays.totals, '')).map((r) => withoutGroup(r, ctx.scope.by));
    return { rows, columns, summary: { total } };
  },
};

export const askToDecisionReport: ReportDefinition = {
  name: 'ask-to-decision',
  description: 'days from the last entry into the ask stage to the close, won and lost apart',
  dimensions: ['owner', 'team', 'product', 'territory', 'source', 'pipeline', 'week', 'month', 'quarter'],
  units: {
    won_count: 'count',
    won_mean: 'days',
    won_median: 'days',
    lost_count: 'count',
    lost_mean: 'days',
    lost_median: 'days',
  },
  async run(ctx) {
    refuseOptions(ctx, 'ask-to-decision');
    const notes: string[] = [];
    const asks: AskStage[] = [];
    for (const p of ctx.process.pipelines) {
      if (ctx.scope.pipeline !== null && p.id !== ctx.scope.pipeline) continue;
      const marked = p.stages.filter((s) => s.ask);
      const first = marked[0];
      if (first) asks.push({ pipeline: p.id, stage: first.id });
      if (marked.length > 1)
        notes.push(`pipeline ${p.id} marks ${marked.length} ask stages; the first, ${first?.id ?? ''}, is used`);
    }
    const [won, lost, closed] = await Promise.all([
      askToDecision(ctx.tx, ctx.scope, asks, 'won'),
      askToDecision(ctx.tx, ctx.scope, asks, 'lost'),
      closedByPipeline(ctx.tx, ctx.scope, asks),
    ]);
    const w = new Map(won.groups.map((r) => [r.key, r]));
    const l = new Map(lost.groups.map((r) => [r.key, r]));
    const rows = groupKeys(ctx, [won.groups, lost.groups]).map((key) => ({
      ...ctx.dimensionFields(key),
      ...days(w.get(key), 'won_'),
      ...days(l.get(key), 'lost_'),
    }));
    const hasAsk = new Set(asks.map((a) => a.pipeline));
    for (const c of closed) {
      if (!hasAsk.has(c.pipeline))
        notes.push(`${c.closed} lead(s) closed in pipeline ${c.pipeline}, which has no ask stage: not counted`);
      else if (c.asked < c.closed)
        notes.push(
          `${c.closed - c.asked} lead(s) closed in pipeline ${c.pipeline} never entered its ask stage: not counted`,
        );
    }
    const columns = columnsOf(ctx, ['won_count', 'won_mean', 'won_median', 'lost_count', 'lost_mean', 'lost_median']);
    // Grouped, the organisation's figures over every closed lead's days (medians from the values).
    const total =
      ctx.scope.by === null
        ? null
        : {
            ...days(
              won.totals.find((t) => t.key === ''),
              'won_',
            ),
            ...days(
              lost.totals.find((t) => t.key === ''),
              'lost_',
            ),
          };
    return { rows, columns, ...(total ? { summary: { total } } : {}), ...(notes.length > 0 ? { notes } : {}) };
  },
};
