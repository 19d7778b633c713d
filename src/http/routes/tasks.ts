import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findLeadRow } from '../../store/lead-search.js';
import { IANAZone } from 'luxon';
import { findTaskHit, searchTasks, TASK_SORTS, type TaskHit, type TaskSort } from '../../store/task-search.js';
import type { Process } from '../../domain/process-schema.js';
import { processFilterOf } from '../process-filter.js';
import { stageNameIn } from '../../domain/process-filter.js';
import type { LeadEvent } from '../../domain/events.js';
import { reachesTask, EVERYONE, MANAGERS } from '../access.js';
import { DUE_TIME_HINT, isDueTime } from '../../domain/due-time.js';
import { TASK_KINDS } from '../../domain/process-schema.js';
import type { AppContext } from '../app.js';
import { etagOf, presentQueuedTask, presentTask } from '../present.js';
import { Problem } from '../problem.js';
import { instantOf } from '../../domain/time-filter.js';
import { timeQuery } from '../time-filter.js';
import { queuedTaskSchema, taskListSchema, taskOutcomeSchema } from '../schemas.js';
import {
  callerOf,
  cursorSchema,
  decodeCursor,
  denyAsMissing,
  encodeCursor,
  ENGINE_PROBLEMS,
  expectedVersion,
  idParams,
  leadInReach,
  limitSchema,
  reachFor,
  reachList,
  submit,
  type Api,
  userWithinReach,
} from './shared.js';

/**
 * Tasks: my work queue, a lead's tasks, overdue work; complete, reopen and reassign; and the tasks
 * people add themselves (a follow-up call): add, edit, cancel.
 */

const taskParams = z.object({ id: z.string().min(1).max(300) });
const taskTitle = z.string().trim().min(1).max(200);
const dueAt = z
  .string()
  .refine(isDueTime, { message: DUE_TIME_HINT })
  .describe("ISO 8601 date and time; without an offset, in the organisation's time zone");
const taskKind = z.enum(TASK_KINDS);
const writeHeaders = z.object({
  'idempotency-key': z.string().optional(),
  'if-match': z.string().optional().describe("Apply only if the task's lead is still at this ETag"),
});
const taskCursor = z.object({ s: z.string(), o: z.string(), v: z.number(), id: z.string() }).strict();

/** The caller's own time zone when they are a user of the process with one, else the organisation's. */
function callerZone(process: Process | undefined, member: string): string {
  const org = process?.organisation.timezone ?? 'UTC';
  return process?.users.find((u) => u.id === member)?.timezone ?? org;
}

export function taskRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary:
          'Tasks you can see with what a work queue shows of their leads, earliest due first unless sort says otherwise',
        response: { 200: taskListSchema },
        querystring: z
          .object({
            assignee: z.string().optional().describe('User id, or "me"'),
            lead: z.string().optional(),
            status: z.enum(['open', 'done', 'skipped']).optional(),
            overdue: z
              .enum(['true', 'false'])
              .optional()
              .describe('true: only open tasks past their overdue time; false: only open tasks not yet past it'),
            team: z.string().optional().describe("Tasks assigned to the team's members: its id or name, in any case"),
            pipeline: z.string().optional().describe("The pipeline of the task's stage"),
            stage: z.string().optional().describe("The task's stage"),
            // "What is due this week": a half-open range over the due time, as the lead list's time filters.
            due_after: timeQuery('from', 'the caller’s'),
            due_before: timeQuery('to', 'the caller’s'),
            tz: z
              .string()
              .refine((zone) => IANAZone.isValidZone(zone), {
                error: (iss) =>
                  `unknown time zone ${JSON.stringify(String(iss.input).slice(0, 60))}: give an IANA zone such as Europe/Berlin`,
              })
              .optional()
              .describe(
                "The zone a date alone in due_after and due_before is read in; by default the caller's (their user's timezone in the process), else the organisation's",
              ),
            sort: z
              .enum(Object.keys(TASK_SORTS) as [TaskSort, ...TaskSort[]])
              .default('due_at')
              .describe("due_at, overdue_at, created_at, or value (the lead's; leads without one last)"),
            order: z.enum(['asc', 'desc']).default('asc'),
            limit: limitSchema,
            cursor: cursorSchema,
          })
          .strict(),
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => {
      const caller = callerOf(req);
      const q = req.query;
      const cursor = decodeCursor(q.cursor, taskCursor);
      if (cursor && (cursor.s !== q.sort || cursor.o !== q.order))
        throw new Problem('validation-failed', 'the cursor belongs to another sort order', {
          errors: [{ field: 'query.cursor', message: `made for sort=${cursor.s}&order=${cursor.o}` }],
        });
      const process = (await ctx.processes.current())?.process;
      const { members } = processFilterOf(process, await ctx.processes.knownStages(), q);
      // A date alone is the start of that day where the caller is: their "today", not the office's.
      const zone = q.tz ?? callerZone(process, caller.member.id);
      const { rows, next } = await searchTasks(
        ctx.store.db,
        {
          assignee: q.assignee === 'me' ? caller.member.id : q.assignee,
          assignees: members,
          lead: q.lead,
          status: q.status,
          pipeline: q.pipeline,
          stage: q.stage,
          overdueAt: q.overdue === 'true' ? ctx.now() : undefined,
          notOverdueAt: q.overdue === 'false' ? ctx.now() : undefined,
          dueFrom: instantOf(q.due_after, zone),
          dueTo: instantOf(q.due_before, zone),
          reach: reachList(await reachFor(ctx, caller)),
          sort: q.sort,
          order: q.order,
          limit: q.limit,
          after: cursor ? { value: cursor.v, id: cursor.id } : undefined,
        },
        ctx.store.dialect,
      );
      return {
        items: rows.map((t) => presentQueuedTask(t, stageNameIn(process, t.pipeline, t.stage))),
        nextCursor: next ? encodeCursor({ s: q.sort, o: q.order, v: next.value, id: next.id }) : null,
      };
    },
  );

  const findInReach = async (req: Parameters<typeof callerOf>[0], id: string) => {
    const task = await findTaskHit(ctx.store.db, id);
    if (!task) throw new Problem('not-found', `task "${id}" does not exist`);
    if (!reachesTask(await reachFor(ctx, callerOf(req)), task.leadOwner, task.assignee))
      return denyAsMissing(ctx, req, `task "${id}"`);
    return task;
  };

  api.get(
    '/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary: "One task, with what a work queue shows of its lead (GET /tasks' item)",
        params: taskParams,
        response: { 200: queuedTaskSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => {
      // Out of reach is a 404, audited, before anything of the lead is read.
      const task = await findInReach(req, req.params.id);
      // The queue's own query, so the lead beside the task is shown (or hidden) by the same rule.
      const { rows } = await searchTasks(
        ctx.store.db,
        { id: task.id, reach: reachList(await reachFor(ctx, callerOf(req))), limit: 1 },
        ctx.store.dialect,
      );
      const hit = rows[0];
      if (!hit) throw new Problem('not-found', `task "${task.id}" does not exist`);
      const process = (await ctx.processes.current())?.process;
      return presentQueuedTask(hit, stageNameIn(process, hit.pipeline, hit.stage));
    },
  );

  for (const [verb, type, summary, problems] of [
    ['complete', 'task.completed', 'Complete a task; if that meets the stage goal, the lead advances', ENGINE_PROBLEMS],
    [
      'reopen',
      'task.reopened',
      "Reopen a done or skipped task of the lead's current stage (a left stage's tasks are history: 409 task-stay-ended)",
      [...ENGINE_PROBLEMS, 'task-stay-ended'],
    ],
  ] as const) {
    api.post(
      `/tasks/:id/${verb}`,
      {
        schema: {
          tags: ['tasks'],
          summary,
          params: taskParams,
          headers: z.object({ 'idempotency-key': z.string().optional() }),
          body: z.object({}).strict().nullish(),
          response: { 200: taskOutcomeSchema },
        },
        config: { access: { roles: EVERYONE, scope: 'leads:write' }, idempotent: true, problems },
      },
      async (req) => transition(req, req.params.id, (task) => ({ type, lead: task.lead, task: task.id })),
    );
  }

  api.post(
    '/tasks/:id/reassign',
    {
      schema: {
        tags: ['tasks'],
        summary: "Hand an open task to another user; it stays theirs when the lead's owner changes",
        params: taskParams,
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z
          .object({ assignee: z.string().min(1).max(200).describe('User id of the person who takes the task over') })
          .strict(),
        response: { 200: taskOutcomeSchema },
      },
      // As handing over a lead: a manager's call, not a rep's way to pass work on.
      config: { access: { roles: MANAGERS, scope: 'leads:write' }, idempotent: true, problems: ENGINE_PROBLEMS },
    },
    async (req) =>
      transition(
        req,
        req.params.id,
        (task) => ({ type: 'task.reassigned', lead: task.lead, task: task.id, assignee: req.body.assignee }),
        // As a lead: a manager hands work only to people in their own teams; an admin to anyone.
        () => userWithinReach(ctx, req, req.body.assignee, 'assignee'),
      ),
  );

  api.post(
    '/leads/:id/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary:
          "Add a task to an open lead (a follow-up call, say): it stays on the lead's open work when the lead changes stage, until done, cancelled or the lead closes",
        params: idParams,
        headers: writeHeaders,
        body: z
          .object({
            title: taskTitle,
            dueAt,
            kind: taskKind.default('todo'),
            assignee: z
              .string()
              .min(1)
              .max(200)
              .optional()
              .describe("User id; by default you if you are a user of the process, else the lead's owner"),
            note: z.string().max(2000).optional(),
          })
          .strict(),
        response: { 201: taskOutcomeSchema },
      },
      config: {
        access: { roles: EVERYONE, scope: 'leads:write' },
        idempotent: true,
        problems: ['forbidden', ...ENGINE_PROBLEMS],
        etag: true,
      },
    },
    async (req, reply) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const caller = callerOf(req);
      const b = req.body;
      // Giving the task to someone else is handing work on, as the reassign route: a manager's
      // call within their teams (an admin's anywhere), not a rep's.
      if (b.assignee !== undefined && b.assignee !== caller.member.id)
        await userWithinReach(ctx, req, b.assignee, 'assignee');
      const outcome = await submit(
        ctx,
        caller,
        {
          type: 'task.added',
          lead: lead.id,
          title: b.title,
          kind: b.kind,
          dueAt: b.dueAt,
          ...(b.assignee !== undefined ? { assignee: b.assignee } : {}),
          ...(b.note !== undefined ? { note: b.note } : {}),
        },
        expectedVersion(req, lead.version, false),
      );
      // The new task is named by the event's sequence number (decide's addTask): adhoc-<seq>.
      const added = outcome.savedTasks.find((t) => t.adHoc && t.template === `adhoc-${outcome.lead.seq}`);
      return reply
        .code(201)
        .header('etag', etagOf(outcome.version))
        .send({
          task: added ? presentTask({ ...added, lead: lead.id, stage: outcome.lead.stay.stage }) : null,
          log: outcome.log,
          effects: outcome.effects.map((e) => e.kind),
        });
    },
  );

  api.patch(
    '/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        summary:
          "Edit an open task a person added: its title, kind or due time (a stage's tasks are the process's: 422)",
        params: taskParams,
        headers: writeHeaders,
        body: z
          .object({ title: taskTitle.optional(), dueAt: dueAt.optional(), kind: taskKind.optional() })
          .strict()
          .refine((b) => b.title !== undefined || b.dueAt !== undefined || b.kind !== undefined, {
            message: 'give at least one of title, dueAt and kind',
          }),
        response: { 200: taskOutcomeSchema },
      },
      config: {
        access: { roles: EVERYONE, scope: 'leads:write' },
        idempotent: true,
        problems: ENGINE_PROBLEMS,
        etag: true,
      },
    },
    async (req, reply) =>
      transition(
        req,
        req.params.id,
        (task) => ({
          type: 'task.updated',
          lead: task.lead,
          task: task.id,
          ...(req.body.title !== undefined ? { title: req.body.title } : {}),
          ...(req.body.dueAt !== undefined ? { dueAt: req.body.dueAt } : {}),
          ...(req.body.kind !== undefined ? { kind: req.body.kind } : {}),
        }),
        undefined,
        reply,
      ),
  );

  api.post(
    '/tasks/:id/cancel',
    {
      schema: {
        tags: ['tasks'],
        summary:
          "Cancel an open task a person added: it is skipped with the reason (a stage's tasks are the process's: 422)",
        params: taskParams,
        headers: writeHeaders,
        body: z.object({ reason: z.string().trim().min(1).max(500) }).strict(),
        response: { 200: taskOutcomeSchema },
      },
      config: {
        access: { roles: EVERYONE, scope: 'leads:write' },
        idempotent: true,
        problems: ENGINE_PROBLEMS,
        etag: true,
      },
    },
    async (req, reply) =>
      transition(
        req,
        req.params.id,
        (task) => ({ type: 'task.cancelled', lead: task.lead, task: task.id, reason: req.body.reason }),
        undefined,
        reply,
      ),
  );

  /** Submits one task event and answers with the task as the engine left it, and what the rules did. */
  async function transition(
    req: Parameters<typeof callerOf>[0],
    id: string,
    event: (task: TaskHit) => LeadEvent,
    allowed?: () => Promise<void>,
    /** Given, the answer carries the lead's new ETag, and If-Match is honoured as on lead writes. */
    reply?: FastifyReply,
  ): Promise<z.infer<typeof taskOutcomeSchema>> {
    // A task out of reach is missing (404) before anything about the request is judged.
    const task = await findInReach(req, id);
    await allowed?.();
    const expected = reply ? await expectedTaskVersion(req, task.lead) : undefined;
    const outcome = await submit(ctx, callerOf(req), event(task), expected);
    reply?.header('etag', etagOf(outcome.version));
    // The engine says how it left the task; its lead and its stay's stage do not change.
    const saved = outcome.savedTasks.find((t) => t.id === task.id);
    const after = saved ? { ...saved, lead: task.lead, stage: task.stage } : await findTaskHit(ctx.store.db, task.id);
    return {
      task: after ? presentTask(after) : null,
      log: outcome.log,
      effects: outcome.effects.map((e) => e.kind),
    };
  }

  /** The version If-Match names for the task's lead (checked again inside the engine's transaction). */
  async function expectedTaskVersion(req: FastifyRequest, leadId: string): Promise<number | undefined> {
    if (req.headers['if-match'] === undefined) return undefined;
    const lead = await findLeadRow(ctx.store.db, leadId);
    if (!lead) throw new Problem('not-found', `lead "${leadId}" does not exist`);
    return expectedVersion(req, lead.version, false);
  }
}
