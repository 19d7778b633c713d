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
    // Leads without an owner (or a team) are in the total but belong to no one's attainment.
    const subjects = [...new Set([...quotaBy.keys(), ...wonBy.keys()])].filter((s) => s !== '').sort();
    const field = byTeam ? 'team' : 'owner';
    const rows = subjects.map((s): ReportRow => {
      const wonMinor = wonBy.get(s)?.wonMinor ?? 0;
      const q = quotaBy.get(s) ?? null;
      return {
        [field]: names.get(s) ?? s,
        [`${field}_id`]: s,
        won_count: wonBy.get(s)?.won ?? 0,
        won: major(wonMinor),
        quota: major(q),
        attainment: q === null ? null : ratio(wonMinor, q),
      };
    });
    const totalWon = won.reduce((a, w) => a + w.wonMinor, 0);
    const totalQuota = quotas.reduce((a, q) => a + q.amountMinor, 0);
    return {
      rows,
      columns: [field, `${field}_id`, 'won_count', 'won', 'quota', 'attainment'],
      ...(quotas.length === 0
        ? {
            notes: [
              `no ${byTeam ? 'team ' : ''}quota is set for ${key}: set one with \`stageflow quota set\` or \`quota import\``,
            ],
          }
        : {}),
      summary: {
        period: key,
        won: major(totalWon),
        quota: quotas.length === 0 ? null : major(totalQuota),
        attainment: quotas.length === 0 ? null : ratio(totalWon, totalQuota),
      },
    };
  },
};
