/** What METRICS.md reports group by, and the time buckets a report's SQL joins against. */

export const LEAD_DIMENSIONS = ['owner', 'team', 'product', 'territory', 'source', 'pipeline'] as const;
export const TIME_DIMENSIONS = ['week', 'month', 'quarter'] as const;
export const DIMENSIONS = [...LEAD_DIMENSIONS, ...TIME_DIMENSIONS] as const;

export type LeadDimension = (typeof LEAD_DIMENSIONS)[number];
export type TimeDimension = (typeof TIME_DIMENSIONS)[number];
export type Dimension = (typeof DIMENSIONS)[number];

export function isTimeDimension(d: Dimension): d is TimeDimension {
  return (TIME_DIMENSIONS as readonly string[]).includes(d);
}

export function isDimension(d: string): d is Dimension {
  return (DIMENSIONS as readonly string[]).includes(d);
}

/** One time bucket, [start, end) in epoch ms, labelled 2026-W48, 2026-11 or 2026-Q4. */
export interface Bucket {
  label: string;
  start: number;
  end: number;
}

/** Which team a rep belonged to under a process version (a closed lead keeps its version). */
export interface TeamMembership {
  version: number;
  user: string;
  team: string;
}
