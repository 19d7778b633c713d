import { z } from 'zod';
import { checkQuota, isPeriodKey, parseQuotaFile } from '../../domain/quotas.js';
import {
  SnapshotError,
  snapshotFiguresJson,
  snapshotRowsWithin,
  takeForecastSnapshot,
} from '../../reports/forecast-snapshot.js';
import { periodKey } from '../../reports/period.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import {
  listSnapshots,
  type SnapshotFigures,
  type SnapshotHeader,
  type SnapshotRow,
} from '../../store/forecast-snapshots.js';
import { importQuotasAudited, listQuotas, setQuotaAudited, type Quota } from '../../store/quotas.js';
import { callerLabel, MANAGERS, ADMINS, EVERYONE, type Caller, type Reach } from '../access.js';
import type { AppContext } from '../app.js';
import { pageOfAll, pageQuery } from '../paging.js';
import { Problem, type FieldError } from '../problem.js';
import { quotaImportSchema, quotaListSchema, quotaSchema, snapshotListSchema, snapshotSchema } from '../schemas.js';
import { callerOf, reachFor, type Api } from './shared.js';

/**
 * Quotas and forecast snapshots, as `stageflow quota set|list|import` and `forecast snapshot|list`.
 * Admins see and set everything. A manager sees the quotas of their own teams and their reps, and
 * sets the quotas of those reps; in snapshots they see their reps' rows and, as the total, the sum of
 * those rows (as in reports, a manager's figures cover their reach only).
 * Quota changes are recorded in the audit log ('quota.set', 'quota.import').
 */

const periodSchema = z
  .string()
  .refine(isPeriodKey, 'a month (2026-11) or a quarter (2026-Q4)')
  .describe('A month 2026-11 or a quarter 2026-Q4');

const money = (minor: number): number => Math.round(minor) / 100;

function presentQuota(q: Quota) {
  return {
    scope: q.scope,
    subject: q.subject,
    period: q.period,
    amount: money(q.amountMinor),
    setBy: q.setBy,
    setAt: new Date(q.setAt).toISOString(),
  };
}

function presentSnapshot(head: SnapshotHeader, rows: readonly SnapshotFigures[], reach: Reach) {
  return {
    snapshotId: head.snapshotId,
    period: head.period,
    kind: head.kind,
    takenAt: new Date(head.takenAt).toISOString(),
    rows: (reach.kind === 'all' ? rows : snapshotRowsWithin(rows, (o) => reach.owners.has(o))).map(snapshotFiguresJson),
  };
}

function reachesRow(reach: Reach, owner: string): boolean {
  return reach.kind === 'all' || reach.owners.has(owner);
}

/** Rows of several snapshots, one group per snapshot, in the order listed. */
function grouped(rows: readonly SnapshotRow[]): { head: SnapshotRow; rows: SnapshotRow[] }[] {
  const out = new Map<string, { head: SnapshotRow; rows: SnapshotRow[] }>();
  for (const r of rows) {
    const g = out.get(r.snapshotId);
    if (g) g.rows.push(r);
    else out.set(r.snapshotId, { head: r, rows: [r] });
  }
  return [...out.values()];
}

async function managedTeams(ctx: AppContext, caller: Caller): Promise<Set<string>> {
  const teams = (await ctx.processes.current())?.process.teams ?? [];
  return new Set(teams.filter((t) => t.manager === caller.member.id).map((t) => t.id));
}

/** checkQuota's problems name what is wrong in words; each goes to the body field it is about. */
function quotaFieldErrors(problems: readonly string[]): FieldError[] {
  return problems.map((message) => {
    const m = /^(scope|subject|period|amount)\b/.exec(message);
    const field = m?.[1] ?? (message.startsWith('unknown ') ? 'subject' : null);
    return { field: field === null ? 'body' : `body.${field}`, message };
  });
}

export function forecastingRoutes(api: Api, ctx: AppContext): void {
  const read = { roles: MANAGERS, scope: 'reports:read' } as const;

  const currentProcess = async () => {
    const current = await ctx.processes.current();
    if (!current)
      throw new Problem('conflict', 'no process has been applied yet: apply one (POST /api/v1/process) first');
    return current.process;
  };

  api.get(
    '/quotas',
    {
      schema: {
        tags: ['forecast'],
        summary: 'Quotas by period (a manager: those of their teams and reps; a rep: their own)',
        querystring: z
          .object({ period: periodSchema.optional(), scope: z.enum(['user', 'team']).optional(), ...pageQuery })
          .strict(),
        response: { 200: quotaListSchema },
      },
      // A rep reads their own quota (a home screen's "82 % of my Q4"): the reach is them alone.
      config: { access: { roles: EVERYONE, scope: 'reports:read' } },
    },
    async (req) => {
      const caller = callerOf(req);
      const reach = await reachFor(ctx, caller);
      const teams = reach.kind === 'all' ? null : await managedTeams(ctx, caller);
      const rows = await listQuotas(ctx.store.db, {
        ...(req.query.period !== undefined ? { period: req.query.period } : {}),
        ...(req.query.scope !== undefined ? { scope: req.query.scope } : {}),
      });
      const visible =
        teams === null
          ? rows
          : rows.filter((q) => (q.scope === 'team' ? teams.has(q.subject) : reachesRow(reach, q.subject)));
      // A quota is keyed by its period, scope and subject: that triple is unique.
      return pageOfAll(visible, req.query, (q) => [q.period, q.scope, q.subject], presentQuota);
    },
  );

  api.put(
    '/quotas',
    {
      schema: {
        tags: ['forecast'],
        summary: 'Set the quota of a rep or a team for a period (a manager: of the reps of their teams) (audited)',
        body: z
          .object({
            scope: z.enum(['user', 'team']).default('user'),
            subject: z.string().min(1).max(200).describe('A user or team id, or its name'),
            period: periodSchema,
            amount: z.union([z.number().min(0), z.string().max(30)]).describe('Major units, at most 2 decimals'),
          })
          .strict(),
        response: { 200: quotaSchema },
      },
      // conflict: no process yet.
      config: { access: { roles: MANAGERS, scope: 'forecast:write' }, problems: ['conflict'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const checked = checkQuota(await currentProcess(), req.body);
      if (!checked.ok)
        throw new Problem('validation-failed', checked.problems.join('; '), {
          errors: quotaFieldErrors(checked.problems),
        });
      const q = checked.quota;
      if (caller.member.role !== 'admin') {
        const reach = await reachFor(ctx, caller);
        const allowed = q.scope === 'user' && q.subject !== caller.member.id && reachesRow(reach, q.subject);
        if (!allowed) {
          const reason = 'a manager may set the quotas of the reps of their own teams only';
          await withTransaction(ctx.store, (tx) =>
            appendAudit(
              tx,
              {
                actor: callerLabel(caller),
                action: 'access.denied',
                target: `quota ${q.scope} ${q.subject} ${q.period}`,
                details: { route: `${req.method} ${req.routeOptions.url ?? ''}`, reason },
              },
              ctx.now(),
            ),
          );
          throw new Problem('forbidden', reason);
        }
      }
      const now = ctx.now();
      const saved = await withTransaction(ctx.store, async (tx) => {
        const quota: Quota = { ...q, setBy: caller.member.id, setAt: now };
        await setQuotaAudited(tx, quota, now);
        return quota;
      });
      return presentQuota(saved);
    },
  );

  api.post(
    '/quotas/import',
    {
      schema: {
        tags: ['forecast'],
        summary:
          'Set quotas from a CSV or YAML file (subject, period, amount, optional scope); all or nothing (audited)',
        body: z
          .object({
            format: z.enum(['csv', 'yaml']).describe('csv with a header, or yaml (JSON too) holding a list'),
            text: z.string().min(1).max(1_000_000),
          })
          .strict(),
        response: { 200: quotaImportSchema },
      },
      // conflict: no process yet; rule-refused: the file's problems, one per line.
      config: { access: { roles: ADMINS, scope: 'forecast:write' }, problems: ['conflict', 'rule-refused'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const parsed = parseQuotaFile(req.body.text, req.body.format, await currentProcess());
      if (!parsed.ok)
        throw new Problem('rule-refused', `${parsed.problems.length} problem(s), nothing imported`, {
          code: 'quota_file_invalid',
          errors: parsed.problems.map((p) => ({
            field: p.line === null ? 'body.text' : `line ${p.line}`,
            message: p.message,
          })),
        });
      const now = ctx.now();
      await withTransaction(ctx.store, (tx) =>
        importQuotasAudited(
          tx,
          parsed.quotas.map((q) => ({ ...q, setBy: caller.member.id })),
          caller.member.id,
          now,
        ),
      );
      return { imported: parsed.quotas.length };
    },
  );

  api.get(
    '/forecast/snapshots',
    {
      schema: {
        tags: ['forecast'],
        summary: 'Recorded forecast snapshots, oldest first (a manager: the total and their reps)',
        querystring: z
          .object({
            period: periodSchema.optional(),
            kind: z.enum(['period_start', 'on_demand']).optional(),
            ...pageQuery,
          })
          .strict(),
        response: { 200: snapshotListSchema },
      },
      config: { access: read },
    },
    async (req) => {
      const reach = await reachFor(ctx, callerOf(req));
      const rows = await listSnapshots(ctx.store.db, {
        ...(req.query.period !== undefined ? { periods: [req.query.period] } : {}),
        ...(req.query.kind !== undefined ? { kind: req.query.kind } : {}),
      });
      return pageOfAll(
        grouped(rows),
        req.query,
        // Snapshots taken in the same millisecond are told apart by their id.
        ({ head }) => [head.period, head.takenAt, head.snapshotId],
        ({ head, rows: r }) => presentSnapshot(head, r, reach),
      );
    },
  );

  api.post(
    '/forecast/snapshots',
    {
      schema: {
        tags: ['forecast'],
        summary: "Record a period's forecast now, in total and per rep (default: the current month)",
        // No body (fastify hands the validator null) takes the current month.
        body: z.object({ period: periodSchema.optional() }).strict().nullish(),
        response: { 201: snapshotSchema },
      },
      // conflict: no process yet, or the snapshot cannot be taken.
      config: { access: { roles: MANAGERS, scope: 'forecast:write' }, problems: ['conflict'] },
    },
    async (req, reply) => {
      const reach = await reachFor(ctx, callerOf(req));
      const now = ctx.now();
      const key = req.body?.period ?? periodKey(now, 'month', (await currentProcess()).organisation.timezone);
      try {
        const { header, rows } = await takeForecastSnapshot(ctx.store, key, 'on_demand', now);
        return reply.code(201).send(presentSnapshot(header, rows, reach));
      } catch (e) {
        if (e instanceof SnapshotError) throw new Problem('conflict', e.message);
        throw e;
      }
    },
  );
}
