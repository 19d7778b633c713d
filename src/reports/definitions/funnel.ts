import type { Pipeline, Process } from '../../domain/process-schema.js';
import { completedStayMedians, funnelCounts, stalledCounts } from '../../store/reports/funnel.js';
import { DAY_MS, ratio, roundDays } from '../figures.js';
import { columnsOf, mergeByKey, type ReportContext, type ReportDefinition, type ReportRow } from '../report.js';
import { chosenPipeline, refuseOptions } from './stage-helpers.js';

/**
 * METRICS.md §2 cohort funnel for one pipeline, with stalled leads per stage. One funnel per group
 * when grouped; every row carries the group and the stage.
 */

/** Completed stays a stage needs in the 365 days before `to` before its median sets the threshold. */
const MIN_STAYS_FOR_MEDIAN = 20;

export interface StallThreshold {
  stage: string;
  days: number;
  /** 'configured' (stall_after_days), 'median' (2 x the median completed stay) or 'default'. */
  basis: 'configured' | 'median' | 'default';
}

/**
 * The stall threshold of each stage: its stall_after_days; else twice the median completed stay of
 * the stage over the 365 days before `to` when there are at least 20 such stays; else the
 * organisation's default_stall_days (14 unless the process says otherwise).
 */
export async function stallThresholds(ctx: ReportContext, pipeline: Pipeline): Promise<StallThreshold[]> {
  // Only the stages without a configured threshold need their median.
  const needMedian = pipeline.stages.filter((s) => s.stall_after_days === undefined).map((s) => s.id);
  const stays = await completedStayMedians(
    ctx.tx,
    ctx.scope,
    pipeline.id,
    needMedian,
    ctx.period.to - 365 * DAY_MS,
    ctx.period.to,
  );
  const byStage = new Map(stays.map((d) => [d.key, d]));
  return pipeline.stages.map((s): StallThreshold => {
    if (s.stall_after_days !== undefined) return { stage: s.id, days: s.stall_after_days, basis: 'configured' };
    const d = byStage.get(s.id);
    if (d && d.count >= MIN_STAYS_FOR_MEDIAN) return { stage: s.id, days: 2 * d.median, basis: 'median' };
    return { stage: s.id, days: defaultStallDays(ctx.process), basis: 'default' };
  });
}

function defaultStallDays(process: Process): number {
  return process.organisation.default_stall_days;
}

export const funnel: ReportDefinition = {
  name: 'funnel',
  description: 'cohort funnel of one pipeline: reached, conversion, lost and stalled leads per stage',
  dimensions: ['owner', 'team', 'product', 'territory', 'source'],
  units: {
    index: 'number',
    reached: 'count',
    conversion: 'ratio',
    lost_at: 'count',
    stalled: 'count',
    stall_after_days: 'days',
    cohort: 'count',
    won: 'count',
  },
  async run(ctx) {
    refuseOptions(ctx, 'funnel');
    const { pipeline, note } = chosenPipeline(ctx);
    const stages = pipeline.stages.map((s, index) => ({ id: s.id, index }));
    ctx.progress(0, 3);
    const thresholds = await stallThresholds(ctx, pipeline);
    ctx.progress(1, 3);
    const counts = await funnelCounts(ctx.tx, ctx.scope, pipeline.id, stages);
    ctx.progress(2, 3);
    const stalled = await stalledCounts(
      ctx.tx,
      ctx.scope,
      pipeline.id,
      thresholds.map((t) => ({ stage: t.stage, ms: t.days * DAY_MS })),
      ctx.now,
    );
    ctx.progress(3, 3);

    const count = new Map(counts.map((c) => [`${c.key}\u0000${c.stage}`, c]));
    const stall = new Map(stalled.map((s) => [`${s.key}\u0000${s.stage}`, s.stalled]));
    const last = stages.length - 1;
    const rows: ReportRow[] = [];
    let cohort = 0;
    let won = 0;
    for (const key of mergeByKey([counts, stalled])) {
      const at = (i: number) => count.get(`${key}\u0000${stages[i]?.id ?? ''}`);
      cohort += at(0)?.reached ?? 0;
      won += at(0)?.won ?? 0;
      pipeline.stages.forEach((s, i) => {
        const c = at(i);
        const reached = c?.reached ?? 0;
        const next = i < last ? (at(i + 1)?.reached ?? 0) : (c?.won ?? 0);
        rows.push({
          ...ctx.dimensionFields(key),
          stage: s.name,
          stage_id: s.id,
          index: i,
          reached,
          conversion: ratio(next, reached),
          lost_at: c?.lostAt ?? 0,
          stalled: stall.get(`${key}\u0000${s.id}`) ?? 0,
          stall_after_days: roundDays(thresholds[i]?.days ?? 0),
        });
      });
    }
    const notes = [
      ...(note ? [note] : []),
      ...(cohort === 0 ? [`no lead entered pipeline ${pipeline.id} in this period: the cohort is empty`] : []),
      'stalled counts open leads now (not only the cohort) whose current stay is longer than stall_after_days',
    ];
    return {
      rows,
      columns: columnsOf(ctx, [
        'stage',
        'stage_id',
        'index',
        'reached',
        'conversion',
        'lost_at',
        'stalled',
        'stall_after_days',
      ]),
      summary: {
        pipeline: pipeline.id,
        cohort,
        won,
        stall_basis: thresholds.map((t) => `${t.stage}: ${t.basis}`).join(', '),
      },
      notes,
    };
  },
};
