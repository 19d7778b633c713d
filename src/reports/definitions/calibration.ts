import { DIMENSIONS } from '../../domain/reporting.js';
import { stageWinRates } from '../../store/reports/stage-win-rates.js';
import { ratio, round } from '../figures.js';
import { stageProbabilities } from '../forecast-model.js';
import { columnsOf, groupKeys, type ReportDefinition, type ReportRow } from '../report.js';
import { HISTORICAL_IN_SCOPE } from './forecast.js';
import { refuseUnread } from './keyed-period.js';

/**
 * Probability calibration: each stage's probability beside the win rate realised by the leads
 * that reached it and closed in the period (METRICS.md §2's "reached": furthest stage index at
 * least the stage's). A historical stage shows the value the forecast uses now (the last 365
 * days). gap = realised - probability: positive means the stage wins more often than it claims.
 */

export const calibration: ReportDefinition = {
  name: 'calibration',
  description:
    "each stage's probability beside the win rate realised by leads that reached it and closed in the period",
  // Not by pipeline: every row already names its stage's pipeline (and --pipeline picks one).
  dimensions: DIMENSIONS.filter((d) => d !== 'pipeline'),
  units: {
    probability: 'ratio',
    probability_basis: 'count',
    reached: 'count',
    won: 'count',
    realised: 'ratio',
    gap: 'points',
  },
  async run(ctx) {
    refuseUnread(ctx, 'calibration', []);
    const probabilities = await stageProbabilities(ctx.tx, ctx.scope, ctx.process, ctx.now);
    const realised = await stageWinRates(ctx.tx, ctx.scope, probabilities, ctx.scope.from, ctx.scope.to);
    const at = new Map(realised.map((r) => [`${r.key}\u0000${r.pipeline}\u0000${r.stage}`, r]));
    // Every stage for every group with closed leads, so a stage nobody reached shows as 0 reached.
    const keys = groupKeys(ctx, [realised]);
    const rows = keys.flatMap((key) =>
      probabilities.map((s): ReportRow => {
        const r = at.get(`${key}\u0000${s.pipeline}\u0000${s.stage}`);
        const reached = r?.reached ?? 0;
        const won = r?.won ?? 0;
        const rate = ratio(won, reached);
        const stage = ctx.process.pipelines.find((p) => p.id === s.pipeline)?.stages[s.index];
        return {
          ...ctx.dimensionFields(key),
          pipeline: s.pipeline,
          stage: stage?.name ?? s.stage,
          stage_id: s.stage,
          probability_source: s.source,
          probability: s.p === null ? null : round(s.p, 4),
          probability_basis: s.reached,
          reached,
          won,
          realised: rate,
          gap: reached === 0 || s.p === null ? null : round(won / reached - s.p, 4),
        };
      }),
    );
    const limited = ctx.scope.owners !== null && probabilities.some((s) => s.source === 'historical');
    const columns = columnsOf(ctx, [
      'pipeline',
      'stage',
      'stage_id',
      'probability_source',
      'probability',
      'probability_basis',
      'reached',
      'won',
      'realised',
      'gap',
    ]);
    return { rows, columns, ...(limited ? { notes: [HISTORICAL_IN_SCOPE] } : {}) };
  },
};
