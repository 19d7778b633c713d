import { z } from 'zod';
import { REPORTS } from '../../reports/registry.js';
import { ReportError, runReport, type ReportOutput } from '../../reports/run-report.js';
import { EVERYONE, type Caller, type Reach } from '../access.js';
import type { AppContext } from '../app.js';
import { Problem } from '../problem.js';
import { callerOf, denyAsMissing, denyForbidden, reachFor, type Api } from './shared.js';

/**
 * Reports over HTTP: the same JSON as `stageflow report NAME --format json`. Who sees what: an
 * admin everything; a manager every report, with rows per rep or per team narrowed to their own
 * teams (rows by product, source, territory or time are organisation-wide figures); a rep only their
 * own coaching plan.
 */

const COMMON = new Set(['from', 'to', 'by', 'pipeline']);

function narrowed(out: ReportOutput, reach: Reach, managedTeams: ReadonlySet<string>): ReportOutput {
  if (reach.kind === 'all') return out;
  const rows = out.rows.filter((r) => {
    if (typeof r['owner_id'] === 'string') return reach.owners.has(r['owner_id']);
    if (typeof r['team_id'] === 'string') return managedTeams.has(r['team_id']);
    return true;
  });
  return { ...out, rows };
}

async function managedTeams(ctx: AppContext, caller: Caller): Promise<Set<string>> {
  const teams = (await ctx.processes.current())?.process.teams ?? [];
  return new Set(teams.filter((t) => t.manager === caller.member.id).map((t) => t.id));
}

export function reportRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/reports',
    {
      schema: { tags: ['reports'], summary: 'The reports, their groupings and options' },
      config: { access: { roles: EVERYONE, scope: 'reports:read' } },
    },
    async () => ({
      items: REPORTS.map((r) => ({
        name: r.name,
        description: r.description,
        by: r.dimensions,
        options: r.options ?? {},
      })),
    }),
  );

  api.get(
    '/reports/:name',
    {
      schema: {
        tags: ['reports'],
        summary: 'Run a report: ?from=&to=&by=&pipeline= and its own options (coaching: owner=)',
        params: z.object({ name: z.string().min(1).max(50) }),
        querystring: z
          .object({
            from: z.string().max(40).optional(),
            to: z.string().max(40).optional(),
            by: z.string().max(20).optional(),
            pipeline: z.string().max(100).optional(),
          })
          .catchall(z.string().max(200)),
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
        options['owner'] = caller.member.id;
      } else if (reach.kind === 'owners' && options['owner'] !== undefined && !reach.owners.has(options['owner'])) {
        return denyAsMissing(ctx, req, `rep "${options['owner']}"`);
      }
      try {
        const out = await runReport(ctx.store, {
          name: req.params.name,
          from: q['from'],
          to: q['to'],
          by: q['by'],
          pipeline: q['pipeline'],
          options,
          now: ctx.now(),
        });
        return narrowed(out, reach, await managedTeams(ctx, caller));
      } catch (e) {
        if (e instanceof ReportError)
          throw new Problem(/unknown report/.test(e.message) ? 'not-found' : 'validation-failed', e.message);
        throw e;
      }
    },
  );
}
