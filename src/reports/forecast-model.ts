import type { Process } from '../domain/process-schema.js';
import type { Tx } from '../store/db.js';
import { FORECAST_CATEGORIES, forecastSums, type StageProbability } from '../store/reports/forecast.js';
import type { ReportScope } from '../store/reports/scope.js';
import { stageWinRates } from '../store/reports/stage-win-rates.js';
import { DAY_MS } from './figures.js';

/**
 * METRICS.md §5's forecast, shared by the `forecast` report and the snapshots: stage
 * probabilities (configured, or historical from the last 365 days of closed leads) and the
 * forecast per group. Money is in whole minor units: each lead's weighted value is rounded to the
 * cent (half up) before it is summed, so categories, groups and the total add up exactly.
 */

export const HISTORY_MS = 365 * DAY_MS;

export interface StageProbabilityInfo {
  pipeline: string;
  stage: string;
  index: number;
  source: 'configured' | 'historical';
  /** The probability used: configured, else won / reached; null for a historical stage without closed leads. */
  p: number | null;
  /** For a historical stage: the closed leads behind it. */
  reached: number | null;
  won: number | null;
}

/**
 * Every stage's probability as of `asOf` (only the scope's pipeline, if it has one). A historical
 * one is learnt from the leads in scope: limited to some owners, from their leads alone.
 */
export async function stageProbabilities(
  tx: Tx,
  scope: ReportScope,
  process: Process,
  asOf: number,
): Promise<StageProbabilityInfo[]> {
  const stages = process.pipelines
    .filter((p) => scope.pipeline === null || p.id === scope.pipeline)
    .flatMap((p) => p.stages.map((s, index) => ({ pipeline: p.id, stage: s.id, index, configured: s.probability })));
  const historical = stages.filter((s) => s.configured === undefined);
  const rates = await stageWinRates(tx, { ...scope, by: null }, historical, asOf - HISTORY_MS, asOf);
  const rate = new Map(rates.map((r) => [`${r.pipeline}\u0000${r.stage}`, r]));
  return stages.map((s): StageProbabilityInfo => {
    if (s.configured !== undefined)
      return { ...base(s), source: 'configured', p: s.configured, reached: null, won: null };
    const r = rate.get(`${s.pipeline}\u0000${s.stage}`);
    const reached = r?.reached ?? 0;
    const won = r?.won ?? 0;
    return { ...base(s), source: 'historical', p: reached === 0 ? null : won / reached, reached, won };
  });
}

function base(s: {
  pipeline: string;
  stage: string;
  index: number;
}): Pick<StageProbabilityInfo, 'pipeline' | 'stage' | 'index'> {
  return { pipeline: s.pipeline, stage: s.stage, index: s.index };
}

export type Category = (typeof FORECAST_CATEGORIES)[number];

export interface ForecastFigures {
  key: string;
  wonMinor: number;
  weightedMinor: number;
  openLeads: number;
  withoutCloseDate: number;
  /** Open leads in the period whose stage has no probability (weighted as 0). */
  unweighted: number;
  /** Open leads whose expected_close passed before the period: in no forecast from it on (count, value). */
  pastCloseDate: number;
  pastCloseValueMinor: number;
  byCategory: Record<Category, number>;
}

export interface Forecast {
  groups: ForecastFigures[];
  total: ForecastFigures;
  probabilities: StageProbabilityInfo[];
}

/**
 * The forecast for [scope.from, scope.to) as of `asOf`, per the scope's grouping, and in total; the
 * total is the sum of the groups, so limited to some owners it is theirs.
 */
export async function computeForecast(tx: Tx, scope: ReportScope, process: Process, asOf: number): Promise<Forecast> {
  const probabilities = await stageProbabilities(tx, scope, process, asOf);
  const known: StageProbability[] = probabilities.flatMap((s) =>
    s.p === null ? [] : [{ pipeline: s.pipeline, stage: s.stage, p: s.p }],
  );
  const sums = await forecastSums(tx, scope, asOf, known);
  const groups = new Map<string, ForecastFigures>();
  for (const s of sums) {
    let g = groups.get(s.key);
    if (!g) groups.set(s.key, (g = empty(s.key)));
    add(g, s.category, s);
  }
  const total = empty('');
  for (const g of groups.values()) {
    for (const c of FORECAST_CATEGORIES) total.byCategory[c] += g.byCategory[c];
    total.wonMinor += g.wonMinor;
    total.weightedMinor += g.weightedMinor;
    total.openLeads += g.openLeads;
    total.withoutCloseDate += g.withoutCloseDate;
    total.unweighted += g.unweighted;
    total.pastCloseDate += g.pastCloseDate;
    total.pastCloseValueMinor += g.pastCloseValueMinor;
  }
  return { groups: [...groups.values()], total, probabilities };
}

function empty(key: string): ForecastFigures {
  return {
    key,
    wonMinor: 0,
    weightedMinor: 0,
    openLeads: 0,
    withoutCloseDate: 0,
    unweighted: 0,
    pastCloseDate: 0,
    pastCloseValueMinor: 0,
    byCategory: { commit: 0, best_case: 0, pipeline: 0 },
  };
}

function add(
  g: ForecastFigures,
  category: string,
  s: Pick<
    ForecastFigures,
    | 'wonMinor'
    | 'weightedMinor'
    | 'openLeads'
    | 'withoutCloseDate'
    | 'unweighted'
    | 'pastCloseDate'
    | 'pastCloseValueMinor'
  >,
): void {
  g.wonMinor += s.wonMinor;
  g.weightedMinor += s.weightedMinor;
  g.openLeads += s.openLeads;
  g.withoutCloseDate += s.withoutCloseDate;
  g.unweighted += s.unweighted;
  g.pastCloseDate += s.pastCloseDate;
  g.pastCloseValueMinor += s.pastCloseValueMinor;
  const c: Category = category === 'commit' || category === 'best_case' ? category : 'pipeline';
  g.byCategory[c] += s.weightedMinor;
}
