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
 * Each report option (`period`, `owner`, `window`) with what it means for the reports that read
 * it: `forecast, quota: a period key …; …` (reports giving the same meaning are named together).
 */
function reportOptionDocs(): Map<string, string> {
  const byOption = new Map<string, Map<string, string[]>>();
  for (const r of REPORTS)
    for (const [option, doc] of Object.entries(r.options ?? {})) {
      const docs = byOption.get(option) ?? new Map<string, string[]>();
      docs.set(doc, [...(docs.get(doc) ?? []), r.name]);
      byOption.set(option, docs);
    }
  return new Map(
    [...byOption].map(([option, docs]) => [
      option,
      [...docs].map(([doc, reports]) => `${reports.join(', ')}: ${doc}`).join('; '),
    ]),
  );
}

/**
 * The query a report takes: the common parameters and every report's own options, nothing else.
 * Strict, so a misspelled key (`perod`, `Pipeline`) is a 400 naming it, as the CLI refuses an
 * unknown option, instead of an answer for another period or for every pipeline. A report refuses
 * the options it does not read itself (win-rate has no --period option).
 */
const reportQueryShape = {
  from: z.string().max(40).optional().describe("Period start, inclusive, as the CLI's --from"),
  to: z.string().max(40).optional().describe("Period end, exclusive, as the CLI's --to"),
  by: z.string().max(20).optional().describe("Grouping, as the CLI's --by (GET /reports lists each report's)"),
  pipeline: z.string().max(100).optional().describe("Only this pipeline, as the CLI's --pipeline"),
  team: z
    .string()
    .max(500)
    .optional()
    .describe("Only these teams' members (ids or names, comma-separated), as the CLI's --team"),
  ...Object.fromEntries(
    [...reportOptionDocs()].map(([option, doc]) => [
      option,
      z.string().max(200).optional().describe(`As the CLI's --${option}. ${doc}. Other reports refuse it`),
    ]),
  ),
};
const reportQuery = z.strictObject(reportQueryShape, {
  error: (issue) =>
    issue.code === 'unrecognized_keys'
      ? `unknown parameter${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `"${k}"`).join(', ')} (a report takes: ${Object.keys(reportQueryShape).join(', ')})`
      : undefined,
});

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

/**
 * What a rep may run, over their own leads only (the reach limits every figure to them): their
 * coaching plan, and their quota attainment and forecast for a home screen, as Pipedrive's and
 * HubSpot's goals show a rep their own.
 */
const REP_REPORTS = new Set(['coaching', 'quota', 'forecast']);

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
          "Run a report: ?from=&to=&by=&pipeline=&team= and the report's own options (period=, owner=, window=: see each parameter); an unknown parameter is a 400; a manager's report is computed over their teams only",
        params: z.object({ name: z.string().min(1).max(50) }),
        querystring: reportQuery,
        response: { 200: reportSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'reports:read' } },
    },
    async (req) => {
      const caller = callerOf(req);
      const q = req.query as Record<string, string | undefined>;
      const options = Object.fromEntries(Object.entries(q).filter(([k]) => !COMMON.has(k)));
      // `me` is the caller, as on the lead and task lists.
      if (options['owner'] === 'me') options['owner'] = caller.member.id;
      const reach = await reachFor(ctx, caller);
      if (caller.member.role === 'rep') {
        if (!REP_REPORTS.has(req.params.name))
          return denyForbidden(
            ctx,
            req,
            'a rep may run only their own coaching plan, quota and forecast (coaching?owner=YOU, quota, forecast)',
          );
        // Another rep's plan is out of a rep's reach: answered as missing, not swapped for their own.
        if (options['owner'] !== undefined && options['owner'] !== caller.member.id)
          return denyAsMissing(ctx, req, `rep "${options['owner']}"`);
        // Coaching takes the rep as an option; the others are limited to them by the reach.
        if (req.params.name === 'coaching') options['owner'] = caller.member.id;
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
        if (!(e instanceof ReportError)) throw e;
        if (/unknown report/.test(e.message)) throw new Problem('not-found', e.message);
        // Each wrong option under the query parameter it is about, in the API's words, not the CLI's flags.
        throw new Problem('validation-failed', apiWording(e.message), {
          errors: e.problems.map((p) => ({
            field: p.option === null ? 'query' : `query.${p.option}`,
            message: apiWording(p.message),
          })),
        });
      }
    },
  );
}

/** A report's message says `--from`, as the CLI takes it; the API takes `from=`. */
function apiWording(message: string): string {
  return message.replace(/--([a-z][a-z-]*)/g, '$1');
}
