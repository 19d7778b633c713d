import { DateTime } from 'luxon';

/**
 * Calendar periods in the organisation's zone, keyed as the quotas and forecast snapshots key
 * them: `2026-11` for a month, `2026-Q4` for a quarter.
 */

export interface Period {
  key: string;
  kind: 'month' | 'quarter';
  from: number;
  to: number;
}

export function monthKey(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toFormat('yyyy-MM');
}

export function quarterKey(at: number, zone: string): string {
  const t = DateTime.fromMillis(at, { zone });
  return `${t.year}-Q${t.quarter}`;
}

/** Every month and quarter that overlaps [from, to], in time order (a quarter before its first month). */
export function periodsOverlapping(from: number, to: number, zone: string): Period[] {
  const out: Period[] = [];
  let month = DateTime.fromMillis(from, { zone }).startOf('month');
  const seen = new Set<string>();
  while (month.toMillis() <= to) {
    const quarter = month.startOf('quarter');
    const qKey = `${quarter.year}-Q${quarter.quarter}`;
    if (!seen.has(qKey)) {
      seen.add(qKey);
      out.push({ key: qKey, kind: 'quarter', from: quarter.toMillis(), to: quarter.plus({ quarters: 1 }).toMillis() });
    }
    out.push({
      key: month.toFormat('yyyy-MM'),
      kind: 'month',
      from: month.toMillis(),
      to: month.plus({ months: 1 }).toMillis(),
    });
    month = month.plus({ months: 1 });
  }
  return out;
}

/** The periods that begin inside (from, to]: the moments a live scheduler would mark a period's start. */
export function periodStarts(from: number, to: number, zone: string): Period[] {
  return periodsOverlapping(from, to, zone).filter((p) => p.from > from && p.from <= to);
}

/** The month keys inside a period: three for a quarter, one for a month. */
export function monthsOf(p: Period, zone: string): string[] {
  const start = DateTime.fromMillis(p.from, { zone });
  const n = p.kind === 'quarter' ? 3 : 1;
  return Array.from({ length: n }, (_, k) => start.plus({ months: k }).toFormat('yyyy-MM'));
}
