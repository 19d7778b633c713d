import { adoption } from './definitions/adoption.js';
import { calibration } from './definitions/calibration.js';
import { coaching } from './definitions/coaching.js';
import { flow } from './definitions/flow.js';
import { forecast } from './definitions/forecast.js';
import { forecastAccuracy } from './definitions/forecast-accuracy.js';
import { funnel } from './definitions/funnel.js';
import { cycle, dealSize, winRate } from './definitions/outcomes.js';
import { quota } from './definitions/quota.js';
import { slippage } from './definitions/slippage.js';
import { askToDecisionReport, timeInStageReport } from './definitions/stage-time.js';
import type { ReportDefinition } from './report.js';

/** Every report by name, in the order `stageflow report --help` lists them. */
export const REPORTS: readonly ReportDefinition[] = [
  adoption,
  funnel,
  flow,
  winRate,
  dealSize,
  forecast,
  forecastAccuracy,
  quota,
  cycle,
  timeInStageReport,
  askToDecisionReport,
  calibration,
  slippage,
  coaching,
];

export function findReport(name: string): ReportDefinition | null {
  return REPORTS.find((r) => r.name === name) ?? null;
}
