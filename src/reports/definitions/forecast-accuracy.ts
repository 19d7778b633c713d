import { DateTime } from 'luxon';
import { listSnapshots, type SnapshotFigures, type SnapshotRow } from '../../store/forecast-snapshots.js';
import { snapshotRowsWithin } from '../forecast-snapshot.js';
import { wonByBucketAndOwner } from '../../store/reports/forecast.js';
import { accuracyOf, meanOf, type AccuracyFigures } from '../accuracy-math.js';
import { DAY_MS, major, moneyText, round } from '../figures.js';
import { bucketsOf, periodBound, type Period } from '../period.js';
import { ReportError, type ReportDefinition, type ReportRow } from '../report.js';
import { refuseUnread, setPeriod } from './keyed-period.js';

/**
 * METRICS.md §5 forecast accuracy: for each finished month (or quarter, with --by quarter) inside
 * [from, to) and each rep, the actual A (value won in the period) against F, the forecast of the
 * period's 'period_start' snapshot. Rows are one per period and rep, the organisation first (its
 * `owner` is null); the headline per rep (summary.by_rep) averages the scored periods. Without
 * --from the window is the 12 months (4 quarters) before the current one.
 *
 * Refined (docs/reports.md): a snapshot taken more than LATE_AFTER_MS into its period (a late
 * tick) already knows part of what it forecasts; its rows are marked `late`, a note says how late
 * and how much was already won, and they stay out of the headline's means.
 *
 * Limited to some owners (a manager's reach, --team): only their rows, and the total row (owner
 * null) is theirs too: A is the value their leads won, F the sum of their rows in the snapshot
 * (a snapshot holds a row for every rep, so the sum is what was forecast for them then; the
 * organisation's stored total is not shown).
 */

/** A 'period_start' snapshot taken later than this after its period began is late. */
export const LATE_AFTER_MS = DAY_MS;

export const forecastAccuracy: ReportDefinition = {
  name: 'forecast-accuracy',
  description: 'start-of-period forecast against value won, per finished month (or quarter) and rep: bias, accuracy',
  dimensions: ['month', 'quarter'],
  defaultBy: 'month',
  units: {
    actual: 'money',
    forecast: 'money',
    error: 'money',
    snapshot_at: 'time',
    bias: 'ratio',
    accuracy: 'ratio',
    periods: 'count',
    scored: 'count',
    late: 'count',
    won_nothing: 'count',
  },
  // The row without an owner is the organisation's (or, limited, the people's) total.
  nullLabels: { owner: '(total)' },
  async run(ctx) {
    refuseUnread(ctx, 'forecast-accuracy', []);
    if (ctx.scope.pipeline !== null)
      throw new ReportError('forecast-accuracy has no --pipeline: snapshots are taken for all pipelines together');
    const unit = ctx.scope.by === 'quarter' ? 'quarter' : 'month';
    if (ctx.options['fromGiven'] !== 'yes') {
      // The 12 months (4 quarters) before the current one, or before the one --to falls in.
      const end = ctx.options['toGiven'] === 'yes' ? ctx.period.to : ctx.now;
      const current = DateTime.fromMillis(end, { zone: ctx.period.zone }).startOf(unit);
      setPeriod(ctx, {
        from: current.minus(unit === 'month' ? { months: 12 } : { quarters: 4 }).toMillis(),
        to: current.toMillis(),
      });
    }
    // Only whole periods inside [from, to) that are over by now: a running period has no actual yet.
    const buckets = bucketsOf(ctx.period, unit).filter(
      (b) => b.start >= ctx.period.from && b.end <= ctx.period.to && b.end <= ctx.now,
    );
    const [won, snapshots] = await Promise.all([
      wonByBucketAndOwner(ctx.tx, { ...ctx.scope, buckets }),
      listSnapshots(ctx.tx, { periods: buckets.map((b) => b.label), kind: 'period_start' }),
    ]);
    const names = new Map(ctx.process.users.map((u) => [u.id, u.name]));
    const owners = ctx.scope.owners === null ? null : new Set(ctx.scope.owners);
    const rows: ReportRow[] = [];
    const perRep = new Map<string, (AccuracyFigures & { late: boolean })[]>();
    const lateNotes: string[] = [];
    /** Rows that forecast money and won nothing: unscored by METRICS.md, named in a note. */
    const wonNothing: string[] = [];
    const currency = ctx.process.organisation.currency;
    const listed: string[] = [];
    const empty: string[] = [];
    for (const b of buckets) {
      const snap = firstSnapshot(
        snapshots.filter((s) => s.period === b.label && s.pipeline === ''),
        owners,
      );
      const actual = new Map(won.filter((w) => w.bucket === b.label).map((w) => [w.owner, w.wonMinor]));
      const total = [...actual.values()].reduce((a, x) => a + x, 0);
      // A period with neither a snapshot nor a win has nothing to show, not even a null.
      if (snap === null && actual.size === 0) {
        empty.push(b.label);
        continue;
      }
      listed.push(b.label);
      const late = snap !== null && snap.takenAt - b.start > LATE_AFTER_MS;
      if (snap !== null && late) {
        const already = snap.rows.get('')?.wonMinor ?? 0;
        lateNotes.push(
          `${b.label}: the start-of-period snapshot was taken ${periodBound(snap.takenAt, ctx.period.zone)}, ${round((snap.takenAt - b.start) / DAY_MS, 1)} days after the ${unit} began, and its forecast already counts ${moneyText(already, currency)} won before then: its rows are marked late and left out of summary.by_rep's means`,
        );
      }
      const reps = [...new Set([...actual.keys(), ...(snap?.rows.keys() ?? [])])].filter((o) => o !== '').sort();
      for (const owner of ['', ...reps]) {
        const a = owner === '' ? total : (actual.get(owner) ?? 0);
        // A snapshot lists every rep of its time (zeros for one with nothing forecast). A rep it does
        // not list (not yet a user then) had no forecast at all: no F to score, as without a snapshot.
        const mineThen = snap?.rows.get(owner);
        const f = mineThen === undefined ? null : mineThen.forecastMinor;
        const fig = { ...accuracyOf(a, f), late: f !== null && late };
        const who = owner === '' ? '(total)' : (names.get(owner) ?? owner);
        if (f !== null && f > 0 && a === 0) wonNothing.push(`${b.label} ${who} ${moneyText(f, currency)}`);
        const mine = perRep.get(owner);
        if (mine) mine.push(fig);
        else perRep.set(owner, [fig]);
        rows.push({
          [unit]: b.label,
          owner: owner === '' ? null : (names.get(owner) ?? owner),
          owner_id: owner === '' ? null : owner,
          actual: major(a),
          forecast: major(f),
          error: major(fig.error),
          snapshot_at: snap === null || mineThen === undefined ? null : new Date(snap.takenAt).toISOString(),
          late: f === null ? null : late,
          bias: fig.bias === null ? null : round(fig.bias, 4),
          accuracy: fig.accuracy === null ? null : round(fig.accuracy, 4),
          null_reason: fig.nullReason,
        });
      }
    }
    const byRep = [...perRep.entries()].map(([owner, figs]) => {
      const scored = figs.filter((x) => x.accuracy !== null && !x.late);
      return {
        owner: owner === '' ? null : (names.get(owner) ?? owner),
        owner_id: owner === '' ? null : owner,
        periods: figs.length,
        scored: scored.length,
        late: figs.filter((x) => x.accuracy !== null && x.late).length,
        won_nothing: figs.filter((x) => x.nullReason === 'no_actual' && (x.error ?? 0) > 0).length,
        accuracy: meanOf(scored.map((x) => x.accuracy)),
        bias: meanOf(scored.map((x) => x.bias)),
      };
    });
    byRep.sort((x, y) => (x.owner_id ?? '').localeCompare(y.owner_id ?? ''));
    const notes = [
      ...(buckets.length === 0 ? [nothingScorable(ctx.period, unit, ctx.now)] : []),
      ...(buckets.length > 0 && rows.length === 0
        ? [`no ${unit} in the window has a start-of-period snapshot or a win: nothing to score`]
        : []),
      ...(listed.length > 0 && empty.length > 0
        ? [
            `${empty.length} of the ${buckets.length} ${unit}s in the window have neither a start-of-period snapshot nor a win and are not listed: ${empty.join(', ')}`,
          ]
        : []),
      ...lateNotes,
      ...(wonNothing.length === 0
        ? []
        : [
            `forecast money and won nothing (A = 0), so no bias or accuracy and not in summary.by_rep's means; error (F - A) is the whole forecast: ${wonNothing.join(', ')}`,
          ]),
      ...(owners === null
        ? []
        : [
            'the total row (owner null) is over the people the report is limited to: their wins, and their rows of the snapshot added up',
          ]),
    ];
    return {
      rows,
      columns: [
        unit,
        'owner',
        'owner_id',
        'actual',
        'forecast',
        'error',
        'snapshot_at',
        'late',
        'bias',
        'accuracy',
        'null_reason',
      ],
      // periods: those listed (with a snapshot or a win), as by_rep's periods count rows.
      summary: { unit, periods: listed.length, by_rep: byRep },
      ...(notes.length > 0 ? { notes } : {}),
    };
  },
};

/**
 * The period's snapshot as forecast per owner ('' the total). Limited to owners, only their rows,
 * and the total is the sum of those rows, not the organisation's stored total.
 */
function firstSnapshot(
  rows: readonly SnapshotRow[],
  owners: ReadonlySet<string> | null,
): { takenAt: number; rows: Map<string, SnapshotFigures> } | null {
  const first = rows[0];
  if (!first) return null;
  // One 'period_start' snapshot per period is the rule; should two exist, the earliest counts.
  const mine = rows.filter((r) => r.snapshotId === first.snapshotId);
  const seen = owners === null ? mine : snapshotRowsWithin(mine, (o) => owners.has(o));
  return { takenAt: first.takenAt, rows: new Map(seen.map((r) => [r.owner, r])) };
}

/**
 * Why no period is scored: each month (quarter) the window touches, and what keeps it out. A month
 * cut by --from is over but not whole: "not finished yet" would send the user waiting for it.
 */
function nothingScorable(period: Period, unit: 'month' | 'quarter', now: number): string {
  const window = `${periodBound(period.from, period.zone)} to ${periodBound(period.to, period.zone)}`;
  const reasons = bucketsOf(period, unit).map((b) => {
    const why = [
      ...(b.start < period.from ? ['starts before --from'] : []),
      ...(b.end > period.to ? ['ends after --to'] : []),
      ...(b.end > now ? ['has not ended'] : []),
    ];
    return `${b.label} ${why.join(' and ')}`;
  });
  return `no whole ${unit} that has ended lies in ${window} (${reasons.join('; ')}): only those are scored`;
}
