import { CloseDateReader } from '../../domain/close-date.js';
import { DIMENSIONS } from '../../domain/reporting.js';
import { closeDateChanges, type CloseDateChange } from '../../store/reports/slippage.js';
import { ratio, roundDays } from '../figures.js';
import { columnsOf, groupKeys, type ReportDefinition, type ReportRow } from '../report.js';
import { refuseUnread } from './keyed-period.js';

/**
 * Close-date slippage: over the expected_close changes made in the period that moved an existing
 * date (a first date set, or a date cleared, is neither), how often reps pushed it later and by
 * how much. Grouped by the lead's current owner (team, …); a time bucket groups by the change.
 */

/**
 * A stored field value (JSON text: an ISO date string or epoch ms) as epoch ms. A date alone
 * (written before close dates carried the organisation's offset) is that day in the reader's zone.
 */
export function closeDateOf(json: string, dates: CloseDateReader): number | null {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string' || v === '') return null;
  return dates.instant(v);
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function figures(changes: readonly CloseDateChange[], dates: CloseDateReader): { row: ReportRow; unreadable: number } {
  const leads = new Set<string>();
  const pushedLeads = new Set<string>();
  const pushedDays: number[] = [];
  let pulls = 0;
  let unreadable = 0;
  for (const c of changes) {
    const from = closeDateOf(c.oldValue, dates);
    const to = closeDateOf(c.newValue, dates);
    if (from === null || to === null) {
      unreadable++;
      continue;
    }
    if (from === to) continue; // the same instant written differently is no change
    leads.add(c.lead);
    if (to > from) {
      pushedLeads.add(c.lead);
      // Calendar days in the organisation's zone: a push across a DST change is still whole days.
      pushedDays.push(dates.daysBetween(from, to));
    } else pulls++;
  }
  const mean = pushedDays.length === 0 ? null : pushedDays.reduce((a, b) => a + b, 0) / pushedDays.length;
  const med = median(pushedDays);
  return {
    row: {
      leads_changed: leads.size,
      changes: pushedDays.length + pulls,
      pushes: pushedDays.length,
      pulls,
      leads_pushed: pushedLeads.size,
      pushed_share: ratio(pushedLeads.size, leads.size),
      mean_days_pushed: mean === null ? null : roundDays(mean),
      median_days_pushed: med === null ? null : roundDays(med),
    },
    unreadable,
  };
}

export const slippage: ReportDefinition = {
  name: 'slippage',
  description: 'how often and how far expected_close was pushed later in the period, per rep',
  dimensions: DIMENSIONS,
  units: {
    leads_changed: 'count',
    changes: 'count',
    pushes: 'count',
    pulls: 'count',
    leads_pushed: 'count',
    pushed_share: 'ratio',
    mean_days_pushed: 'days',
    median_days_pushed: 'days',
  },
  async run(ctx) {
    refuseUnread(ctx, 'slippage', []);
    const changes = await closeDateChanges(ctx.tx, ctx.scope);
    const byKey = new Map<string, CloseDateChange[]>();
    for (const c of changes) {
      const list = byKey.get(c.key);
      if (list) list.push(c);
      else byKey.set(c.key, [c]);
    }
    const dates = new CloseDateReader(ctx.process.organisation.timezone);
    let unreadable = 0;
    const rows: ReportRow[] = [];
    for (const key of groupKeys(ctx, [changes])) {
      const f = figures(byKey.get(key) ?? [], dates);
      unreadable += f.unreadable;
      // A group whose changes all set the same date again moved nothing: no row. Ungrouped, the
      // one row is the total, zeros included.
      if (ctx.scope.by === null || (f.row['changes'] as number) > 0)
        rows.push({ ...ctx.dimensionFields(key), ...f.row });
    }
    // Grouped, the total is computed over all the changes again, not added up: a lead changed in
    // two weeks is one lead changed, and medians do not add.
    const total = ctx.scope.by === null ? null : figures(changes, dates).row;
    return {
      rows,
      columns: columnsOf(ctx, Object.keys(figures([], dates).row)),
      ...(total ? { summary: { total } } : {}),
      ...(unreadable > 0 ? { notes: [`${unreadable} change(s) with a value that is not a date were left out`] } : {}),
    };
  },
};
