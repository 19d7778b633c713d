import { LEAD_DIMENSIONS } from '../../domain/reporting.js';
import { major, moneyText, round } from '../figures.js';
import { computeForecast, type ForecastFigures, type StageProbabilityInfo } from '../forecast-model.js';
import { columnsOf, type ReportContext, type ReportDefinition, type ReportRow } from '../report.js';
import { keyedPeriod, refuseUnread } from './keyed-period.js';

/**
 * METRICS.md §5 forecast for a period as of now: won so far plus the open leads expected to close
 * in the period weighted by their stage's probability, with the weighted part split by forecast
 * category. The category columns are `weighted_commit`, `weighted_best_case`, `weighted_pipeline`
 * (not `pipeline`, which is the name of the pipeline dimension).
 */

/** Whole minor units (each lead's weighted value was rounded to the cent) as major units. */
const money = (minor: number): number => major(Math.round(minor)) ?? 0;

/** The note of a limited report whose historical probabilities come from the leads in scope. */
export const HISTORICAL_IN_SCOPE =
  'historical stage probabilities are learnt from the closed leads of the people this report is limited to';

export function forecastFields(f: ForecastFigures): ReportRow {
  return {
    won: money(f.wonMinor),
    weighted: money(f.weightedMinor),
    forecast: money(f.wonMinor + f.weightedMinor),
    open_leads: f.openLeads,
    without_close_date: f.withoutCloseDate,
    past_close_date: f.pastCloseDate,
    past_close_value: money(f.pastCloseValueMinor),
    weighted_commit: money(f.byCategory.commit),
    weighted_best_case: money(f.byCategory.best_case),
    weighted_pipeline: money(f.byCategory.pipeline),
  };
}

function probabilityRow(ctx: ReportContext, s: StageProbabilityInfo): Record<string, unknown> {
  const stage = ctx.process.pipelines.find((p) => p.id === s.pipeline)?.stages[s.index];
  return {
    pipeline: s.pipeline,
    stage: stage?.name ?? s.stage,
    source: s.source,
    probability: s.p === null ? null : round(s.p, 4),
    closed_leads: s.reached,
  };
}

export const forecast: ReportDefinition = {
  name: 'forecast',
  description: 'won so far plus open leads expected to close in the period x stage probability; split by category',
  dimensions: LEAD_DIMENSIONS,
  units: {
    won: 'money',
    weighted: 'money',
    forecast: 'money',
    open_leads: 'count',
    without_close_date: 'count',
    past_close_date: 'count',
    past_close_value: 'money',
    weighted_commit: 'money',
    weighted_best_case: 'money',
    weighted_pipeline: 'money',
    as_of: 'time',
    probability: 'ratio',
    closed_leads: 'count',
  },
  options: { period: 'a period key such as 2026-11 or 2026-Q4, instead of --from/--to' },
  async run(ctx) {
    refuseUnread(ctx, 'forecast', ['period']);
    const { key, period } = keyedPeriod(ctx);
    const f = await computeForecast(ctx.tx, { ...ctx.scope, from: period.from, to: period.to }, ctx.process, ctx.now);
    const rows = f.groups.map((g) => ({ ...ctx.dimensionFields(g.key), ...forecastFields(g) }));
    const notes: string[] = [];
    if (f.total.unweighted > 0)
      notes.push(
        `${f.total.unweighted} open lead(s) sit in a stage without a probability (historical, with no closed leads in the 365 days before now) and count 0`,
      );
    if (f.total.withoutCloseDate > 0)
      notes.push(`${f.total.withoutCloseDate} open lead(s) have no expected_close and are not in the forecast`);
    if (f.total.pastCloseDate > 0)
      notes.push(
        `${f.total.pastCloseDate} open lead(s) (${moneyText(f.total.pastCloseValueMinor, ctx.process.organisation.currency)}) have an expected_close that has passed and lies before the period: they are in no forecast from this period on until it is updated`,
      );
    if (ctx.scope.owners !== null && f.probabilities.some((s) => s.source === 'historical'))
      notes.push(HISTORICAL_IN_SCOPE);
    return {
      rows,
      columns: columnsOf(ctx, Object.keys(forecastFields(f.total))),
      summary: {
        period: key,
        as_of: new Date(ctx.now).toISOString(),
        ...forecastFields(f.total),
        probabilities: f.probabilities.map((s) => probabilityRow(ctx, s)),
      },
      notes,
    };
  },
};
