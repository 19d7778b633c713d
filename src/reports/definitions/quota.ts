import { listQuotas } from '../../store/quotas.js';
import { wonSums } from '../../store/reports/forecast.js';
import { major, ratio } from '../figures.js';
import { ReportError, type ReportDefinition, type ReportRow } from '../report.js';
import { keyedPeriod, refuseUnread } from './keyed-period.js';

/**
 * METRICS.md §5 quota attainment: value won in the period / the quota set for exactly that period
 * key, per rep (the default) or per team (--by team; a lead counts for its owner's team as the
 * other reports define it). `attainment` is null without a quota (or with a quota of 0).
 *
 * Limited to some owners (a manager's reach, --team): wins of their leads, the quotas of those
 * people, and the team quotas of the teams made of them (every member among the owners); the
 * summary adds up only those.
 */

export const quota: ReportDefinition = {
  name: 'quota',
  description: 'value won in the period / the quota for the period, per rep or team',
  dimensions: ['owner', 'team'],
  defaultBy: 'owner',
  units: { won_count: 'count', won: 'money', quota: 'money', attainment: 'ratio' },
  options: { period: 'a period key such as 2026-11 or 2026-Q4, instead of --from/--to' },
  async run(ctx) {
    refuseUnread(ctx, 'quota', ['period']);
    if (ctx.scope.pipeline !== null)
      throw new ReportError(
        'quota has no --pipeline: quotas are for all pipelines together, so are the wins set against them',
      );
    const { key, period } = keyedPeriod(ctx);
    if (key === null)
      throw new ReportError(
        'quota needs one whole month or quarter: --period 2026-11 (or 2026-Q4), or --from/--to spanning exactly one',
      );
    const byTeam = ctx.scope.by === 'team';
    const scope = {
      ...ctx.scope,
      from: period.from,
      to: period.to,
      by: byTeam ? ('team' as const) : ('owner' as const),
    };
    const [won, allQuotas] = await Promise.all([
      wonSums(ctx.tx, scope),
      listQuotas(ctx.tx, { period: key, scope: byTeam ? 'team' : 'user' }),
    ]);
    const owners = ctx.scope.owners === null ? null : new Set(ctx.scope.owners);
    const teamsInScope = new Set(
      ctx.process.teams
        .filter((t) => owners !== null && t.members.length > 0 && t.members.every((m) => owners.has(m)))
        .map((t) => t.id),
    );
    const quotas =
      owners === null
        ? allQuotas
        : allQuotas.filter((q) => (byTeam ? teamsInScope.has(q.subject) : owners.has(q.subject)));
    const wonBy = new Map(won.map((w) => [w.key, w]));
    const quotaBy = new Map(quotas.map((q) => [q.subject, q.amountMinor]));
    const names = new Map((byTeam ? ctx.process.teams : ctx.process.users).map((x) => [x.id, x.name]));
    // Wins of leads without an owner (or of a rep in no team) are a row of their own, `(none)`,
    // so the rows add up to the summary's won.
    const subjects = [...new Set([...quotaBy.keys(), ...wonBy.keys()])].sort();
    const field = byTeam ? 'team' : 'owner';
    const rows = subjects.map((s): ReportRow => {
      const wonMinor = wonBy.get(s)?.wonMinor ?? 0;
      const q = quotaBy.get(s) ?? null;
      return {
        [field]: s === '' ? null : (names.get(s) ?? s),
        [`${field}_id`]: s === '' ? null : s,
        won_count: wonBy.get(s)?.won ?? 0,
        won: major(wonMinor),
        quota: major(q),
        attainment: q === null ? null : ratio(wonMinor, q),
      };
    });
    const totalWon = won.reduce((a, w) => a + w.wonMinor, 0);
    const totalQuota = quotas.reduce((a, q) => a + q.amountMinor, 0);
    const notes =
      quotas.length === 0
        ? [
            `no ${byTeam ? 'team ' : ''}quota is set for ${key}: set one with \`stageflow quota set\` or \`quota import\``,
          ]
        : unquotedWinsNote(won, quotaBy, key);
    return {
      rows,
      columns: [field, `${field}_id`, 'won_count', 'won', 'quota', 'attainment'],
      ...(notes.length > 0 ? { notes } : {}),
      summary: {
        period: key,
        won: major(totalWon),
        quota: quotas.length === 0 ? null : major(totalQuota),
        attainment: quotas.length === 0 ? null : ratio(totalWon, totalQuota),
      },
    };
  },
};

/**
 * The summary's attainment sets every win against the quotas, also wins no quota stands behind
 * (a rep or team without one, the `(none)` row): say how much, and the attainment without them.
 */
function unquotedWinsNote(
  won: readonly { key: string; won: number; wonMinor: number }[],
  quotaBy: ReadonlyMap<string, number>,
  key: string,
): string[] {
  const unquoted = won.filter((w) => !quotaBy.has(w.key) && w.won > 0);
  if (unquoted.length === 0) return [];
  const minor = unquoted.reduce((a, w) => a + w.wonMinor, 0);
  const count = unquoted.reduce((a, w) => a + w.won, 0);
  const totalMinor = won.reduce((a, w) => a + w.wonMinor, 0);
  const quotaMinor = [...quotaBy.values()].reduce((a, q) => a + q, 0);
  // From the unrounded ratio, so the percentage is not rounded twice.
  const alone = quotaMinor === 0 ? '-' : `${((100 * (totalMinor - minor)) / quotaMinor).toFixed(1)}%`;
  const amount = (m: number): string => (major(m) ?? 0).toLocaleString('en');
  const wins = `${count} ${count === 1 ? 'win' : 'wins'}`;
  return [
    `${amount(minor)} of the ${amount(totalMinor)} won (${wins}) is on rows without a quota for ${key}; ` +
      `attainment of the quota holders alone: ${alone}`,
  ];
}
