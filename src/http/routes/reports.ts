import { z } from 'zod';
import { REPORTS } from '../../reports/registry.js';
import { ReportError, runReport, type ReportOutput } from '../../reports/run-report.js';
import { EVERYONE, type Reach } from '../access.js';
import type { AppContext } from '../app.js';
import { Problem } from '../problem.js';
import { reportListSchema, reportSchema } from '../schemas.js';
import { callerOf, denyAsMissing, denyForbidden, reachFor, type Api } from './shared.js';

/**
 * Reports over HTTP: the same JSON as `stageflow report NAME --format json`. Who sees what: an
 * admin everything; a manager every report, computed over their reach only (the leads owned by the
 * members of the teams they manage and by themselves, and the work of those people), with a note
 * saying so; a rep only their own coaching plan. Coaching's comparison benchmarks stay
 * organisation-wide aggregates that name no one outside the reach.
 */

const COMMON = new Set(['from', 'to', 'by', 'pipeline', 'team']);

/**
 * Defence in depth: the report is already computed over the reach, so no row (nor a summary list,
 * such as forecast-accuracy's by_rep) should name a rep outside it; should one ever do, it is dropped.
 */
function narrowed(out: ReportOutput, reach: Reach): ReportOutput {
  if (reach.kind === 'all') return out;
  const keep = (r: unknown): boolean => {
    if (typeof r !== 'object' || r === null) return true;
    const owner = (r as Record<string, unknown>)['owner_id'];
    return typeof owner !== 'string' || reach.owners.has(owner);
  };
  const summary = out.summary
    ? Object.fromEntries(Object.entries(out.summary).map(([k, v]) => [k, Array.isArray(v) ? v.filter(keep) : v]))
    : undefined;
  return { ...out, rows: out.rows.filter(keep), ...(summary ? { summary } : {}) };
}

export function reportRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'The reports, their groupings and options',
        response: { 200: reportListSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'reports:read' } },
    },
    async () => ({
      items: REPORTS.map((r) => ({
        name: r.name,
        description: r.description,
        by: [...r.dimensions],
        options: { ...r.options },
      })),
    }),
  );

  api.get(
    '/reports/:name',
    {
      schema: {
        tags: ['reports'],
        summary:
          "Run a report: ?from=&to=&by=&pipeline=&team= and its own options (coaching: owner=); a manager's report is computed over their teams only",
        params: z.object({ name: z.string().min(1).max(50) }),
        querystring: z
          .object({
            from: z.string().max(40).optional(),
            to: z.string().max(40).optional(),
            by: z.string().max(20).optional(),
            pipeline: z.string().max(100).optional(),
            team: z
              .string()
              .max(500)
              .optional()
              .describe("Only these teams' members (ids or names, comma-separated), as the CLI's --team"),
          })
          .catchall(z.string().max(200)),
        response: { 200: reportSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'reports:read' } },
    },
    async (req) => {
      const caller = callerOf(req);
      const q = req.query as Record<string, string | undefined>;
      const options = Object.fromEntries(Object.entries(q).filter(([k]) => !COMMON.has(k)));
      const reach = await reachFor(ctx, caller);
      if (caller.member.role === 'rep') {
        if (req.params.name !== 'coaching')
          return denyForbidden(ctx, req, 'a rep may see only their own coaching plan (coaching?owner=YOU)');
        // Another rep's plan is out of a rep's reach: answered as missing, not swapped for their own.
        if (options['owner'] !== undefined && options['owner'] !== caller.member.id)
          return denyAsMissing(ctx, req, `rep "${options['owner']}"`);
        options['owner'] = caller.member.id;
      } else if (reach.kind === 'owners' && options['owner'] !== undefined && !reach.owners.has(options['owner'])) {
        return denyAsMissing(ctx, req, `rep "${options['owner']}"`);
      }
      const teams = q['team']
        ?.split(',')
        .map((t) => t.trim())
        .filter((t) => t !== '');
      if (teams !== undefined && teams.length === 0)
        throw new Problem('validation-failed', 'team: give a team id or name (or several, comma-separated)');
      if (teams !== undefined && reach.kind === 'owners') {
        // A team is in reach when all its members are (a manager's own teams); others do not exist here.
        const process = (await ctx.processes.current())?.process;
        for (const wanted of teams) {
          const team = process?.teams.find((t) => t.id === wanted || t.name.toLowerCase() === wanted.toLowerCase());
          if (team && !team.members.every((m) => reach.owners.has(m)))
            return denyAsMissing(ctx, req, `team "${wanted}"`);
        }
      }
      try {
        const out = await runReport(ctx.store, {
          name: req.params.name,
          from: q['from'],
          to: q['to'],
          by: q['by'],
          pipeline: q['pipeline'],
          ...(teams !== undefined ? { teams } : {}),
          ...(reach.kind === 'owners'
            ? {
                owners: [...reach.owners],
                ownersLabel: caller.member.role === 'rep' ? 'yourself' : 'your teams and your own leads',
              }
            : {}),
          options,
          now: ctx.now(),
        });
        // A copy as a plain object: the answer's schema lets a report add members of its own.
        return { ...narrowed(out, reach) };
      } catch (e) {
        if (e instanceof ReportError)
          throw new Problem(/unknown report/.test(e.message) ? 'not-found' : 'validation-failed', e.message);
        throw e;
      }
    },
  );
}
