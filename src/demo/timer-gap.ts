import type { DueSpec, Process } from '../domain/process-schema.js';

/**
 * How soon after a lead enters a stage its first timer can fall due: the earliest due time of
 * the stage's tasks (their overdue alerts come later still) and its stall threshold. The demo
 * feeds a lead's later events in the same transaction as its stage entry only when they come
 * before that moment, so no timer is ever handled after an event that happened later than it.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Wall-clock due times keep their hour across a DST change, which can bring them an hour closer. */
const DST_MARGIN = HOUR;

/** The least time from stage entry to this due time, over every moment of entry. */
export function dueLowerBound(due: DueSpec): number {
  if (due.hours !== undefined) return due.hours * HOUR;
  const days = due.days ?? due.business_days ?? 0;
  if (due.at === undefined) return Math.max(0, days * DAY - DST_MARGIN);
  // Entering a minute before midnight: the due day starts a minute later, plus the time of day.
  const [h, m] = due.at.split(':').map(Number);
  const atMs = ((h ?? 0) * 60 + (m ?? 0)) * 60_000;
  return Math.max(0, (days - 1) * DAY + atMs - DST_MARGIN);
}

export function stageTimerGaps(p: Process): Map<string, number> {
  const out = new Map<string, number>();
  for (const pl of p.pipelines) {
    for (const s of pl.stages) {
      const stall = (s.stall_after_days ?? p.organisation.default_stall_days) * DAY;
      const gap = s.tasks.reduce((min, t) => Math.min(min, dueLowerBound(t.due)), stall);
      out.set(`${pl.id}/${s.id}`, gap);
    }
  }
  return out;
}
