import { DateTime } from 'luxon';
import { bucketLabel, periodOfKey, type Period } from '../period.js';
import { ReportError, type ReportContext } from '../report.js';

/** What the forecast, quota and accuracy reports share: a period named by key, and option checks. */

/**
 * The report's period: --period KEY (2026-11, 2026-Q4) or the common --from/--to. A period chosen
 * here is written back into ctx.period, because runReport prints `from`/`to` from that object
 * after the report ran; that keeps the JSON's from/to equal to the period the figures are for.
 * `key` is the period's key when it is exactly one month or quarter, else null.
 */
export function keyedPeriod(ctx: ReportContext): { key: string | null; period: Period } {
  const raw = ctx.options['period'];
  if (raw === undefined) return { key: keyOf(ctx.period), period: ctx.period };
  if (ctx.options['fromGiven'] === 'yes' || ctx.options['toGiven'] === 'yes')
    throw new ReportError('give either --period or --from/--to, not both');
  const p = periodOfKey(raw, ctx.period.zone);
  if (p === null) throw new ReportError(`--period must be a month (2026-11) or a quarter (2026-Q4), not "${raw}"`);
  setPeriod(ctx, p);
  return { key: raw, period: ctx.period };
}

/** Replaces the report's period in place (see keyedPeriod for why in place). */
export function setPeriod(ctx: ReportContext, p: { from: number; to: number }): void {
  ctx.period.from = p.from;
  ctx.period.to = p.to;
}

/** 2026-11 or 2026-Q4 when [from, to) is exactly that month or quarter in the zone. */
export function keyOf(p: Period): string | null {
  const start = DateTime.fromMillis(p.from, { zone: p.zone });
  for (const unit of ['month', 'quarter'] as const) {
    if (start.startOf(unit).toMillis() !== p.from) continue;
    if (start.plus(unit === 'month' ? { months: 1 } : { quarters: 1 }).toMillis() === p.to)
      return bucketLabel(start, unit);
  }
  return null;
}

/** Refuses options of the CLI this report does not read, so a typo'd intent is not silently ignored. */
export function refuseUnread(ctx: ReportContext, report: string, reads: readonly string[]): void {
  for (const o of ['owner', 'window', 'period'])
    if (!reads.includes(o) && ctx.options[o] !== undefined) throw new ReportError(`${report} has no --${o} option`);
}
