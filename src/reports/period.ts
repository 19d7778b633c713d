import { DateTime } from 'luxon';
import type { Bucket, TimeDimension } from '../domain/reporting.js';

/**
 * Report periods: half-open [from, to) in the organisation's time zone. A bare date means its
 * midnight there; the default is the current calendar month. Time buckets (week, month, quarter)
 * are computed here, in the zone, and handed to SQL as a small table, so both databases bucket
 * identically without time-zone support of their own.
 */

export type BucketUnit = TimeDimension;

export interface Period {
  from: number;
  to: number;
  zone: string;
}

export class PeriodError extends Error {}

export function parsePeriod(from: string | undefined, to: string | undefined, zone: string, now: number): Period {
  const month = DateTime.fromMillis(now, { zone }).startOf('month');
  const t0 = to === undefined ? null : parseDay(to, '--to', zone);
  // One bound alone means the calendar month it starts, or the one it ends.
  const f =
    from !== undefined ? parseDay(from, '--from', zone) : t0 ? t0.minus({ milliseconds: 1 }).startOf('month') : month;
  const t = t0 ?? (from === undefined ? month.plus({ months: 1 }) : nextMonthStart(f));
  if (t.toMillis() <= f.toMillis())
    throw new PeriodError(
      `--to (${periodBound(t.toMillis(), zone)}) must be after --from (${periodBound(f.toMillis(), zone)})`,
    );
  return { from: f.toMillis(), to: t.toMillis(), zone };
}

/** Each bound given that is not a date, by option (`from`, `to`), so a request hears of both at once. */
export function boundProblems(
  from: string | undefined,
  to: string | undefined,
  zone: string,
): { option: 'from' | 'to'; message: string }[] {
  const out: { option: 'from' | 'to'; message: string }[] = [];
  for (const [option, raw] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (raw === undefined) continue;
    try {
      parseDay(raw, `--${option}`, zone);
    } catch (e) {
      out.push({ option, message: (e as Error).message });
    }
  }
  return out;
}

function nextMonthStart(d: DateTime): DateTime {
  return d.startOf('month').plus({ months: 1 });
}

function parseDay(raw: string, option: string, zone: string): DateTime {
  const d = DateTime.fromISO(raw, { zone });
  if (!d.isValid) throw new PeriodError(`${option}: "${raw}" is not a date (YYYY-MM-DD, or an ISO time)`);
  return d;
}

/** The buckets of `unit` that overlap [from, to), labelled 2026-W48, 2026-11, 2026-Q4. */
export function bucketsOf(period: Period, unit: BucketUnit): Bucket[] {
  const out: Bucket[] = [];
  let start = DateTime.fromMillis(period.from, { zone: period.zone }).startOf(unit === 'week' ? 'week' : unit);
  while (start.toMillis() < period.to) {
    const end = start.plus(unit === 'week' ? { weeks: 1 } : unit === 'month' ? { months: 1 } : { quarters: 1 });
    out.push({ label: bucketLabel(start, unit), start: start.toMillis(), end: end.toMillis() });
    start = end;
  }
  return out;
}

export function bucketLabel(start: DateTime, unit: BucketUnit): string {
  if (unit === 'week') return `${start.weekYear}-W${String(start.weekNumber).padStart(2, '0')}`;
  if (unit === 'month') return start.toFormat('yyyy-MM');
  return `${start.year}-Q${start.quarter}`;
}

/** The period key of a month or quarter containing `at` (quotas and forecast snapshots use these). */
export function periodKey(at: number, unit: 'month' | 'quarter', zone: string): string {
  return bucketLabel(DateTime.fromMillis(at, { zone }).startOf(unit), unit);
}

/** [from, to) of a key such as 2026-11 or 2026-Q4. */
export function periodOfKey(key: string, zone: string): Period | null {
  const m = /^(\d{4})-(\d{2})$/.exec(key);
  if (m) {
    const from = DateTime.fromObject({ year: Number(m[1]), month: Number(m[2]) }, { zone });
    return from.isValid ? { from: from.toMillis(), to: from.plus({ months: 1 }).toMillis(), zone } : null;
  }
  const q = /^(\d{4})-Q([1-4])$/.exec(key);
  if (q) {
    const from = DateTime.fromObject({ year: Number(q[1]), month: (Number(q[2]) - 1) * 3 + 1 }, { zone });
    return { from: from.toMillis(), to: from.plus({ quarters: 1 }).toMillis(), zone };
  }
  return null;
}

export function isoDate(ms: number, zone: string): string {
  return DateTime.fromMillis(ms, { zone }).toISODate() ?? '';
}

/**
 * A period bound as it was used: the bare date at midnight in the zone (`2026-03-01`), else the
 * time with its offset (`2026-03-01T12:00+01:00`, seconds only when there are any), so a period
 * that starts at noon, or a window that ends now, is not shown as if it covered whole days.
 */
export function periodBound(ms: number, zone: string): string {
  const d = DateTime.fromMillis(ms, { zone });
  if (d.startOf('day').toMillis() === ms) return d.toISODate() ?? '';
  return d.toISO({ suppressMilliseconds: true, suppressSeconds: true }) ?? '';
}
