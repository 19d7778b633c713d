import { coaching } from './definitions/coaching.js';
import { cycle, dealSize, winRate } from './definitions/outcomes.js';
import type { ReportDefinition } from './report.js';

/** Every report by name, in the order `stageflow report --help` lists them. */
export const REPORTS: readonly ReportDefinition[] = [winRate, dealSize, cycle, coaching];

export function findReport(name: string): ReportDefinition | null {
  return REPORTS.find((r) => r.name === name) ?? null;
}
