import { z } from 'zod';
import { applyProcess, diffAgainstCurrent, loadProcessText, ProcessRejected } from '../../engine/process-service.js';
import { processVersion } from '../../store/processes.js';
import { processHistory } from '../../store/queries.js';
import { EVERYONE, MANAGERS } from '../access.js';
import type { AppContext } from '../app.js';
import { pageOfAll, pageQuery } from '../paging.js';
import { EventFileError, simulate } from '../../simulate.js';
import { Problem } from '../problem.js';
import {
  applySchema,
  currentProcessSchema,
  diffSchema,
  processVersionListSchema,
  processVersionSchema,
  simulationSchema,
  validationSchema,
} from '../schemas.js';
import { callerOf, type Api } from './shared.js';

/** The process: current version, history, validate, diff and apply (YAML or JSON text, as the CLI takes). */

const sourceBody = z
  .object({ source: z.string().min(1).max(2_000_000).describe('The process file, YAML or JSON') })
  .strict();

/** Diff and apply also take the CLI's --backfill-tasks (docs/process.md, leads in flight). */
const changeBody = sourceBody
  .extend({
    backfillTasks: z
      .boolean()
      .optional()
      .describe('Create the tasks a stage gains for the open leads already in it, due from the apply time'),
  })
  .strict();

function rejected(e: unknown): never {
  if (e instanceof ProcessRejected)
    throw new Problem('validation-failed', `the process has ${e.problems.length} problem(s)`, {
      errors: e.problems.map((message) => ({ field: 'body.source', message })),
    });
  throw e;
}

export function processRoutes(api: Api, ctx: AppContext): void {
  const read = { roles: EVERYONE, scope: 'process:read' } as const;

  api.get(
    '/process',
    {
      schema: {
        tags: ['process'],
        summary: 'The current process version, with guidance',
        response: { 200: currentProcessSchema },
      },
      // Before any process has been applied.
      config: { access: read, problems: ['not-found'] },
    },
    async () => {
      const current = await ctx.processes.effective();
      if (!current) throw new Problem('not-found', 'no process has been applied yet');
      const stored = await processVersion(ctx.store.db, current.version);
      return {
        version: current.version,
        appliedAt: stored ? new Date(stored.appliedAt).toISOString() : null,
        // As applied: the file its editors keep. What routing uses on top of it is listed apart.
        process: stored?.process ?? current.process,
        availabilityOverrides: current.overrides.map((o) => ({
          user: o.user,
          ...o.override,
          setBy: o.changedBy,
          setAt: new Date(o.changedAt).toISOString(),
        })),
      };
    },
  );

  api.get(
    '/process/versions',
    {
      schema: {
        tags: ['process'],
        summary: 'Every version applied, oldest first',
        querystring: z.object(pageQuery).strict(),
        response: { 200: processVersionListSchema },
      },
      config: { access: read },
    },
    async (req) =>
      pageOfAll(
        await processHistory(ctx.store.db),
        req.query,
        (v) => [v.version],
        (v) => ({ ...v, appliedAt: new Date(v.appliedAt).toISOString() }),
      ),
  );

  api.get(
    '/process/versions/:version',
    {
      schema: {
        tags: ['process'],
        summary: 'One version, with its source text',
        params: z.object({ version: z.coerce.number().int().min(1) }),
        response: { 200: processVersionSchema },
      },
      config: { access: read },
    },
    async (req) => {
      const v = await processVersion(ctx.store.db, req.params.version);
      if (!v) throw new Problem('not-found', `process version ${req.params.version} does not exist`);
      return {
        version: v.version,
        appliedAt: new Date(v.appliedAt).toISOString(),
        source: v.source,
        process: v.process,
      };
    },
  );

  api.post(
    '/process/validate',
    {
      schema: {
        tags: ['process'],
        summary: 'Check a process file; every problem names its path and line',
        body: sourceBody,
        response: { 200: validationSchema },
      },
      config: { access: { roles: MANAGERS, scope: 'process:read' } },
    },
    async (req) => {
      try {
        const p = loadProcessText(req.body.source);
        return { valid: true, pipelines: p.pipelines.map((pl) => pl.id), users: p.users.length };
      } catch (e) {
        return rejected(e);
      }
    },
  );

  api.post(
    '/process/diff',
    {
      schema: {
        tags: ['process'],
        summary: 'What applying this file would change',
        body: changeBody,
        response: { 200: diffSchema },
      },
      config: { access: { roles: MANAGERS, scope: 'process:read' } },
    },
    async (req) => {
      try {
        // Copied as plain objects: the answers' schemas let the service's results gain members.
        return {
          ...(await diffAgainstCurrent(ctx.store, req.body.source, { backfillTasks: req.body.backfillTasks === true })),
        };
      } catch (e) {
        return rejected(e);
      }
    },
  );

  api.post(
    '/process',
    {
      schema: {
        tags: ['process'],
        summary: 'Apply a process file as a new version (admins, and managers granted process editing)',
        body: changeBody,
        response: {
          201: applySchema,
          200: applySchema.describe('The file equals the current version: nothing applied'),
        },
      },
      config: { access: { roles: MANAGERS, scope: 'process:write', processEditor: true } },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      try {
        const now = ctx.now();
        const result = await applyProcess(ctx.store, req.body.source, now, caller.member.id, {
          backfillTasks: req.body.backfillTasks === true,
        });
        return reply.code(result.unchanged ? 200 : 201).send({ ...result, diff: { ...result.diff } });
      } catch (e) {
        return rejected(e);
      }
    },
  );

  api.post(
    '/process/simulate',
    {
      schema: {
        tags: ['process'],
        summary: 'Replay timed events (JSON lines, docs/events.schema.json) against a process on an in-memory database',
        body: z
          .object({
            source: z.string().min(1).max(2_000_000).describe('The process file, YAML or JSON'),
            events: z.string().max(20_000_000).describe('One timed event per line'),
            until: z.iso.datetime({ offset: true }).optional().describe('Keep the clock running to this time'),
          })
          .strict(),
        response: { 200: simulationSchema },
      },
      bodyLimit: 24 * 1024 * 1024,
      config: { access: { roles: MANAGERS, scope: 'process:read' } },
    },
    async (req) => {
      try {
        return {
          ...(await simulate({
            processText: req.body.source,
            eventsText: req.body.events,
            ...(req.body.until !== undefined ? { until: Date.parse(req.body.until) } : {}),
          })),
        };
      } catch (e) {
        if (e instanceof EventFileError)
          throw new Problem('validation-failed', e.message, {
            errors: [{ field: `body.events line ${e.line}`, message: e.message }],
          });
        return rejected(e);
      }
    },
  );
}
