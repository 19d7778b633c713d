import { newLeadId } from '../../engine/lead-id.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Fields } from '../../domain/conditions.js';
import { fieldsSchema } from '../../domain/events.js';
import {
  BUILT_IN_FIELDS,
  didYouMean,
  fieldCatalogue,
  fieldWriteProblems,
  filterValue,
} from '../../domain/field-catalogue.js';
import type { Process } from '../../domain/process-schema.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import { deleteLead, UnknownLeadError } from '../../store/lead-delete.js';
import { findLeadRow, LEAD_SORTS, searchLeads, type FieldFilter, type LeadRow } from '../../store/lead-search.js';
import { leadColumns } from '../../store/leads.js';
import { leadRunLog, leadStays, listTasks } from '../../store/queries.js';
import { EVERYONE, MANAGERS } from '../access.js';
import type { AppContext } from '../app.js';
import { etagOf, isoOrNull, presentLead, presentLeadWith, presentTask } from '../present.js';
import { cursorTuple, pageFromRows, pageQuery } from '../paging.js';
import { Problem } from '../problem.js';
import { processFilterOf } from '../process-filter.js';
import { instantOf } from '../../domain/time-filter.js';
import { timeQuery } from '../time-filter.js';
import { leadListSchema, leadPageSchema, staysSchema, timelineSchema } from '../schemas.js';
import {
  callerOf,
  cursorSchema,
  decodeCursor,
  denyForbidden,
  encodeCursor,
  ENGINE_PROBLEMS,
  idParams,
  leadInReach,
  NO_CONTENT,
  limitSchema,
  reachFor,
  reachList,
  expectedVersion,
  submit,
  type Accepted,
  type Api,
  userWithinReach,
} from './shared.js';

/**
 * Leads: create, read, list, update, the transitions (move, win, lose, reopen, reassign, activate),
 * and delete.
 */

const read = { roles: EVERYONE, scope: 'leads:read' } as const;
const write = { roles: EVERYONE, scope: 'leads:write' } as const;

const contactSchema = z
  .object({
    name: z.string().max(200).optional(),
    email: z.email().max(320).optional(),
    phone: z.string().max(50).optional(),
    company: z.string().max(200).optional(),
  })
  .strict();

/** The contact is kept in the lead's fields, where the rules (and reports) read it. */
function withContact(fields: Record<string, unknown>, contact: z.infer<typeof contactSchema> | undefined) {
  return { ...fields, ...Object.fromEntries(Object.entries(contact ?? {}).filter(([, v]) => v !== undefined)) };
}

const ifMatchHeader = z.object({ 'if-match': z.string().optional().describe('ETag of the lead; required on PATCH') });
const idempotencyKey = z
  .string()
  .optional()
  .describe('Replays the first answer for retries with the same key and body');
/** A new lead has no version to match, so creating takes only the key; transitions take both. */
const createHeaders = z.object({ 'idempotency-key': idempotencyKey });
const idempotencyHeader = createHeaders.extend({
  'if-match': z.string().optional().describe('Apply only if the lead is still at this ETag'),
});

const FIELD_FILTER = 'field.';

const listQuery = z
  .object({
    status: z.enum(['open', 'won', 'lost']).optional(),
    owner: z.string().optional().describe('Owner id; "me" for the caller'),
    team: z.string().optional().describe("Leads owned by the team's members: its id or name, in any case"),
    pipeline: z.string().optional(),
    stage: z.string().optional(),
    source: z.string().optional(),
    product: z.string().optional(),
    territory: z.string().optional(),
    email: z.string().optional(),
    company: z.string().optional(),
    q: z
      .string()
      .max(200)
      .optional()
      .describe('Text in name, email, company or the person\'s name ("Jane Doe": first_name then last_name)'),
    value_min: z.coerce.number().optional(),
    value_max: z.coerce.number().optional(),
    created_from: timeQuery('from'),
    created_to: timeQuery('to'),
    closed_from: timeQuery('from'),
    closed_to: timeQuery('to'),
    expected_close_from: timeQuery('from'),
    expected_close_to: timeQuery('to'),
    // A client syncing changes asks for what changed since its last walk (sort=updated_at&order=asc).
    updated_since: timeQuery('from'),
    updated_before: timeQuery('to'),
    stalled: z
      .enum(['true', 'false'])
      .optional()
      .describe(
        "true: open leads whose stay in their stage has stalled (the stage's stall_after ran out); false: open leads not stalled",
      ),
    sort: z
      .enum(Object.keys(LEAD_SORTS) as [keyof typeof LEAD_SORTS, ...(keyof typeof LEAD_SORTS)[]])
      .default('created_at'),
    order: z.enum(['asc', 'desc']).default('desc'),
    limit: limitSchema,
    cursor: cursorSchema,
  })
  // field.<key>=<value>: a lead field equal to a value (docs/api.md); any other unknown parameter is refused.
  .catchall(z.string().max(200).describe('field.<key>=<value>: leads whose field <key> has this value'))
  .superRefine((q, ctx) => {
    for (const key of Object.keys(q))
      if (!(key in listQuery.shape) && !key.startsWith(FIELD_FILTER))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: 'unknown parameter (a filter on a lead field is field.<key>=<value>)',
        });
  });

const leadCursor = z.object({ s: z.string(), o: z.string(), v: z.number(), id: z.string() }).strict();

/**
 * With a field catalogue, a field the process does not know or a value not of its type is a 400
 * naming each (`body.fields.decison_maker: … did you mean decision_maker?`), before the engine.
 */
async function requireCatalogued(ctx: AppContext, fields: Fields): Promise<void> {
  const process = (await ctx.processes.current())?.process;
  const problems = process ? fieldWriteProblems(process, fields) : [];
  if (problems.length > 0)
    throw new Problem('validation-failed', 'fields the process does not declare, or values not of their type', {
      errors: problems.map((p) => ({ field: `body.fields.${p.field}`, message: p.message })),
    });
}

/**
 * The query's `field.<key>=<value>` filters, each on a field of the catalogue (the built-ins alone
 * for a process without one) with a value of its type; a 400 naming each parameter that is not.
 */
function fieldFilters(process: Process | undefined, query: Record<string, unknown>): FieldFilter[] {
  const params = Object.entries(query).filter(([k]) => k.startsWith(FIELD_FILTER));
  if (params.length === 0) return [];
  const catalogue = (process && fieldCatalogue(process)) ?? BUILT_IN_FIELDS.map((f) => ({ ...f, builtIn: true }));
  const keys = catalogue.map((f) => f.key);
  const filters: FieldFilter[] = [];
  const errors: { field: string; message: string }[] = [];
  for (const [param, raw] of params) {
    const key = param.slice(FIELD_FILTER.length);
    const field = catalogue.find((f) => f.key === key);
    if (!field) {
      const declared = process?.fields !== undefined ? '' : ' (the process declares no fields: only built-in ones)';
      errors.push({
        field: `query.${param}`,
        message: `not a field of the process${didYouMean(key, keys)}${declared}`,
      });
      continue;
    }
    const value = filterValue(field, String(raw));
    if ('problem' in value) errors.push({ field: `query.${param}`, message: `${key} ${value.problem}` });
    else filters.push({ key, ...value });
  }
  if (errors.length > 0)
    throw new Problem('validation-failed', 'a field filter names no field of the process, or a value not of its type', {
      errors,
    });
  return filters;
}

/** A manager hands leads only to people in their own teams (or keeps them); admins to anyone. */
async function ownerWithinReach(ctx: AppContext, req: FastifyRequest, owner: string): Promise<void> {
  await userWithinReach(ctx, req, owner, 'owner');
}

/**
 * The assignment rules may give a lead to anyone, and a manager would lose sight of a lead they
 * routed out of their teams: as with handover, only an admin may reassign by the rules.
 */
async function rulesWithinReach(ctx: AppContext, req: FastifyRequest): Promise<void> {
  if ((await reachFor(ctx, callerOf(req))).kind !== 'all')
    await denyForbidden(
      ctx,
      req,
      'the assignment rules may give the lead to someone outside your teams: name an owner of your teams, or ask an admin',
    );
}

const closedAtField = z.iso
  .datetime({ offset: true })
  .optional()
  .describe(
    'When the deal closed, if before now (ISO time with offset): not in the future, not before the lead entered its stage; the reports count it then',
  );

/** A close date the engine would refuse, refused first as a 400 naming the field. */
function checkClosedAt(closedAt: string, lead: LeadRow, now: number): void {
  const at = Date.parse(closedAt);
  const problem =
    at > now
      ? 'is in the future'
      : at < lead.stage_entered_at
        ? `is before the lead entered its stage, at ${new Date(lead.stage_entered_at).toISOString()}`
        : null;
  if (problem)
    throw new Problem('validation-failed', `closedAt ${problem}`, {
      errors: [{ field: 'body.closedAt', message: problem }],
    });
}

async function sendLead(ctx: AppContext, reply: FastifyReply, lead: LeadRow, status = 200, extra: object = {}) {
  const tasks = await listTasks(ctx.store.db, { lead: lead.id, status: 'open', limit: 200 });
  return reply
    .code(status)
    .header('etag', etagOf(lead.version))
    .send({ ...presentLead(lead), openTasks: tasks.map(presentTask), ...extra });
}

async function afterEvent(ctx: AppContext, reply: FastifyReply, id: string, outcome: Accepted, status = 200) {
  const lead = await findLeadRow(ctx.store.db, id);
  if (!lead) throw new Problem('not-found', `lead "${id}" does not exist`);
  return sendLead(ctx, reply, lead, status, { log: outcome.log, effects: outcome.effects.map((e) => e.kind) });
}

/**
 * A new lead is answered from the engine's own result: the row it wrote, no read back. (Other
 * writes read the lead back, since an imported lead has columns the engine's state does not hold.)
 */
function sendCreated(reply: FastifyReply, outcome: Accepted) {
  const state = outcome.lead;
  const open = state.tasks
    .filter((t) => t.status === 'open')
    .sort((a, b) => a.dueAt - b.dueAt || (a.id < b.id ? -1 : 1));
  // A lead just created has no imported columns (company and phone come from its fields) and no
  // activity yet; its open tasks are all in its state.
  const lead = presentLeadWith(
    {
      ...leadColumns(state, outcome.version, state.createdAt),
      last_activity_at: null,
      next_task_due_at: open[0]?.dueAt ?? null,
    },
    state.fields,
  );
  const openTasks = open.map((t) => presentTask({ ...t, lead: state.id, stage: state.stay.stage }));
  return reply
    .code(201)
    .header('etag', etagOf(outcome.version))
    .send({ ...lead, openTasks, log: outcome.log, effects: outcome.effects.map((e) => e.kind) });
}

export function leadRoutes(api: Api, ctx: AppContext): void {
  api.post(
    '/leads',
    {
      schema: {
        tags: ['leads'],
        summary: 'Create a lead: the entry criteria pick its pipeline and the assignment rules its owner',
        response: { 201: leadPageSchema },
        headers: createHeaders,
        body: z
          .object({
            id: z
              .string()
              .regex(/^[A-Za-z0-9._:-]{1,100}$/)
              .optional()
              .describe('Your id for the lead; default L- and a ULID, which sorts by creation time'),
            contact: contactSchema.optional(),
            fields: fieldsSchema.default({}),
            owner: z
              .string()
              .min(1)
              .optional()
              .describe('Explicit owner, skipping the assignment rules (managers and admins)'),
            pipeline: z.string().min(1).optional().describe('Explicit pipeline, skipping the entry criteria'),
          })
          .strict(),
      },
      // A rep naming an owner, an owner outside a manager's teams, and the engine's refusals.
      config: { access: write, idempotent: true, problems: ['field-not-writable', ...ENGINE_PROBLEMS], etag: true },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      if (req.body.owner !== undefined && caller.member.role === 'rep')
        throw new Problem('field-not-writable', 'a rep may not choose the owner; the assignment rules do', {
          errors: [{ field: 'body.owner', message: 'not writable by a rep' }],
        });
      if (req.body.owner !== undefined) await ownerWithinReach(ctx, req, req.body.owner);
      await requireCatalogued(ctx, req.body.fields);
      const id = req.body.id ?? newLeadId(ctx.now());
      const outcome = await submit(ctx, caller, {
        type: 'lead.created',
        lead: id,
        fields: withContact(req.body.fields, req.body.contact) as z.input<typeof fieldsSchema>,
        ...(req.body.owner !== undefined ? { owner: req.body.owner } : {}),
        ...(req.body.pipeline !== undefined ? { pipeline: req.body.pipeline } : {}),
        // A rep entering a lead found it herself: assignment.self_sourced says whether it is hers.
        ...(caller.member.role === 'rep' ? { sourcedBy: caller.member.id } : {}),
      });
      void reply.header('location', `/api/v1/leads/${encodeURIComponent(id)}`);
      return sendCreated(reply, outcome);
    },
  );

  api.get(
    '/leads',
    {
      schema: {
        tags: ['leads'],
        summary: 'List leads you can see, filtered and sorted, a page at a time',
        response: { 200: leadListSchema },
        querystring: listQuery,
      },
      config: { access: read },
    },
    async (req) => {
      const caller = callerOf(req);
      const q = req.query;
      const reach = reachList(await reachFor(ctx, caller));
      const cursor = decodeCursor(q.cursor, leadCursor);
      if (cursor && (cursor.s !== q.sort || cursor.o !== q.order))
        throw new Problem('validation-failed', 'the cursor belongs to another sort order', {
          errors: [{ field: 'query.cursor', message: `made for sort=${cursor.s}&order=${cursor.o}` }],
        });
      const process = (await ctx.processes.current())?.process;
      // A date alone in a filter is the start of that day where the organisation is.
      const zone = process?.organisation.timezone ?? 'UTC';
      const owners = processFilterOf(process, await ctx.processes.knownStages(), q).members;
      const { rows, next } = await searchLeads(
        ctx.store.db,
        {
          status: q.status,
          owner: q.owner === 'me' ? caller.member.id : q.owner,
          owners,
          pipeline: q.pipeline,
          stage: q.stage,
          source: q.source,
          product: q.product,
          territory: q.territory,
          email: q.email,
          company: q.company,
          fields: fieldFilters(process, q),
          q: q.q,
          valueMin: q.value_min === undefined ? undefined : Math.round(q.value_min * 100),
          valueMax: q.value_max === undefined ? undefined : Math.round(q.value_max * 100),
          createdFrom: instantOf(q.created_from, zone),
          createdTo: instantOf(q.created_to, zone),
          closedFrom: instantOf(q.closed_from, zone),
          closedTo: instantOf(q.closed_to, zone),
          expectedCloseFrom: instantOf(q.expected_close_from, zone),
          expectedCloseTo: instantOf(q.expected_close_to, zone),
          updatedFrom: instantOf(q.updated_since, zone),
          updatedTo: instantOf(q.updated_before, zone),
          stalled: q.stalled === undefined ? undefined : q.stalled === 'true',
          reach,
          sort: q.sort,
          order: q.order,
          limit: q.limit,
          after: cursor ? { value: cursor.v, id: cursor.id } : undefined,
        },
        ctx.store.dialect,
      );
      return {
        items: rows.map(presentLead),
        nextCursor: next ? encodeCursor({ s: q.sort, o: q.order, v: next.value, id: next.id }) : null,
      };
    },
  );

  api.get(
    '/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary: 'A lead with its open tasks; the ETag is its version',
        params: idParams,
        response: { 200: leadPageSchema },
      },
      config: { access: read, etag: true },
    },
    async (req, reply) => sendLead(ctx, reply, await leadInReach(ctx, req, req.params.id, 'work')),
  );

  api.patch(
    '/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary: 'Change fields or contact (If-Match required); goals and gates are checked as for any writer',
        response: { 200: leadPageSchema },
        params: idParams,
        headers: ifMatchHeader,
        body: z.object({ contact: contactSchema.optional(), fields: fieldsSchema.default({}) }).strict(),
      },
      config: { access: write, problems: ENGINE_PROBLEMS, etag: 'if-match-required' },
    },
    async (req, reply) => {
      const lead = await leadInReach(ctx, req, req.params.id);
      const version = expectedVersion(req, lead.version, true);
      await requireCatalogued(ctx, req.body.fields);
      const fields = withContact(req.body.fields, req.body.contact);
      if (Object.keys(fields).length === 0)
        throw new Problem('validation-failed', 'nothing to change', {
          errors: [{ field: 'body', message: 'give fields or contact' }],
        });
      const outcome = await submit(
        ctx,
        callerOf(req),
        { type: 'lead.updated', lead: lead.id, fields: fields as z.input<typeof fieldsSchema> },
        version,
      );
      return afterEvent(ctx, reply, lead.id, outcome);
    },
  );

  const transition = <B extends z.ZodType>(
    name: string,
    summary: string,
    body: B,
    event: (id: string, body: z.output<B>) => z.input<typeof import('../../domain/events.js').leadEventSchema>,
    roles = EVERYONE,
  ) =>
    api.post(
      `/leads/:id/${name}`,
      {
        schema: {
          tags: ['leads'],
          summary,
          params: idParams,
          headers: idempotencyHeader,
          body,
          response: { 200: leadPageSchema },
        },
        // forbidden: an override by someone other than an admin, or an owner outside a manager's teams.
        config: {
          access: { roles, scope: 'leads:write' },
          idempotent: true,
          problems: ['forbidden', ...ENGINE_PROBLEMS],
          etag: true,
        },
        // `POST …/win` with no body at all is a complete request: read it as `{}`.
        preValidation: async (req) => {
          req.body ??= {} as typeof req.body;
        },
      },
      async (req, reply) => {
        const lead = await leadInReach(ctx, req, req.params.id);
        const { owner, override } = (req.body ?? {}) as { owner?: unknown; override?: unknown };
        if (typeof owner === 'string') await ownerWithinReach(ctx, req, owner);
        else if (name === 'reassign') await rulesWithinReach(ctx, req);
        // The engine refuses it too; refused here it is a denial like any other, in the audit log.
        if (override === true && callerOf(req).member.role !== 'admin')
          await denyForbidden(ctx, req, 'only an admin may override a stage gate');
        const { closedAt } = (req.body ?? {}) as { closedAt?: unknown };
        if (typeof closedAt === 'string') checkClosedAt(closedAt, lead, ctx.now());
        const outcome = await submit(
          ctx,
          callerOf(req),
          event(lead.id, req.body as z.output<B>),
          expectedVersion(req, lead.version, false),
        );
        // An admin's override passes gates every other writer is held by: the audit log keeps it too.
        if (override === true)
          await withTransaction(ctx.store, (tx) =>
            appendAudit(
              tx,
              {
                actor: callerOf(req).member.id,
                action: 'lead.gate_overridden',
                target: lead.id,
                details: { via: name, gates: outcome.log.filter((e) => e.kind === 'gate').map((e) => e.message) },
              },
              ctx.now(),
            ),
          );
        // A close dated earlier than it is recorded moves it into another period: the audit log keeps who.
        if (typeof closedAt === 'string')
          await withTransaction(ctx.store, (tx) =>
            appendAudit(
              tx,
              {
                actor: callerOf(req).member.id,
                action: 'lead.close_dated',
                target: lead.id,
                details: { status: outcome.lead.status, closedAt: new Date(Date.parse(closedAt)).toISOString() },
              },
              ctx.now(),
            ),
          );
        // Owner changes by people are audited; those made by the rules are in the owner history.
        if (outcome.lead.owner !== lead.owner)
          await withTransaction(ctx.store, (tx) =>
            appendAudit(
              tx,
              {
                actor: callerOf(req).member.id,
                action: 'lead.owner_changed',
                target: lead.id,
                details: { from: lead.owner, to: outcome.lead.owner, via: name },
              },
              ctx.now(),
            ),
          );
        return afterEvent(ctx, reply, lead.id, outcome);
      },
    );

  transition(
    'move',
    'Move to a stage (strict gates apply; an admin may override, and that is recorded)',
    z
      .object({
        stage: z.string().min(1),
        pipeline: z.string().min(1).optional(),
        override: z.boolean().default(false).describe('Admin only: pass strict gates; recorded in the run log'),
        reason: z.string().max(500).optional(),
      })
      .strict(),
    (id, b) => ({
      type: 'lead.moved',
      lead: id,
      stage: b.stage,
      override: b.override,
      ...(b.pipeline ? { pipeline: b.pipeline } : {}),
      ...(b.reason ? { reason: b.reason } : {}),
    }),
  );
  transition(
    'win',
    'Mark the lead won (strict stages still open on the way hold it; an admin may override, and that is recorded)',
    z
      .object({
        reason: z.string().max(500).optional(),
        override: z.boolean().default(false).describe('Admin only: win past strict gates; recorded in the run log'),
        closedAt: closedAtField,
      })
      .strict()
      .default({ override: false }),
    (id, b) => ({
      type: 'lead.won',
      lead: id,
      ...(b.override ? { override: true } : {}),
      ...(b.reason ? { reason: b.reason } : {}),
      ...(b.closedAt ? { closedAt: b.closedAt } : {}),
    }),
  );
  transition(
    'lose',
    'Mark the lead lost, with a reason',
    z.object({ reason: z.string().min(1).max(500), closedAt: closedAtField }).strict(),
    (id, b) => ({
      type: 'lead.lost',
      lead: id,
      reason: b.reason,
      ...(b.closedAt ? { closedAt: b.closedAt } : {}),
    }),
  );
  transition(
    'reopen',
    'Reopen a won or lost lead under the current process version, in the stage it closed in (or the one named; strict stages it would skip hold it, and an admin may override, which is recorded)',
    z
      .object({
        stage: z
          .string()
          .min(1)
          .optional()
          .describe('Reopen into this stage: needed when the current version no longer has the one it closed in'),
        pipeline: z.string().min(1).optional().describe('The pipeline of that stage, if not the one it closed in'),
        override: z
          .boolean()
          .default(false)
          .describe(
            'Admin only: reopen past strict stages (a later stage, or into another pipeline); recorded in the run log',
          ),
        owner: z
          .string()
          .min(1)
          .optional()
          .describe(
            'Give the reopened lead to this active user (a manager: of their teams); without it the lead keeps its owner, or is routed by the rules if they are inactive or gone',
          ),
      })
      .strict()
      .default({ override: false }),
    (id, b) => ({
      type: 'lead.reopened',
      lead: id,
      ...(b.stage !== undefined ? { stage: b.stage } : {}),
      ...(b.pipeline !== undefined ? { pipeline: b.pipeline } : {}),
      ...(b.override ? { override: true } : {}),
      ...(b.owner !== undefined ? { owner: b.owner } : {}),
    }),
  );
  transition(
    'activate',
    'An imported lead goes live in its current stage',
    z.object({}).strict().default({}),
    (id) => ({
      type: 'lead.activated',
      lead: id,
    }),
  );
  transition(
    'reassign',
    'Give the lead to another owner, or (without owner; admins only) run the assignment rules again',
    z
      .object({ owner: z.string().min(1).optional() })
      .strict()
      .default({}),
    (id, b) => ({ type: 'lead.reassigned', lead: id, ...(b.owner ? { owner: b.owner } : {}) }),
    MANAGERS,
  );

  api.delete(
    '/leads/:id',
    {
      schema: {
        tags: ['leads'],
        summary:
          'Delete a lead made by mistake (test, spam, duplicate) with all its rows; delivered messages and the audit log stay',
        params: idParams,
        response: { 204: NO_CONTENT },
      },
      config: { access: { roles: MANAGERS, scope: 'leads:write' } },
    },
    async (req, reply) => {
      const lead = await leadInReach(ctx, req, req.params.id);
      try {
        await deleteLead(ctx.store, lead.id, callerOf(req).member.id, ctx.now());
      } catch (e) {
        // Deleted by someone else since it was read: gone all the same.
        if (e instanceof UnknownLeadError) throw new Problem('not-found', e.message);
        throw e;
      }
      return reply.code(204).send(null);
    },
  );

  api.get(
    '/leads/:id/timeline',
    {
      schema: {
        tags: ['leads'],
        summary: 'Every event applied to the lead, with what the rules did about it, oldest first',
        params: idParams,
        querystring: z.object(pageQuery).strict(),
        response: { 200: timelineSchema },
      },
      config: { access: read },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      // Event seq is unique per lead and gives the order the events were applied in.
      const after = cursorTuple(req.query.cursor, ['number'] as const)?.[0];
      return pageFromRows(
        await leadRunLog(ctx.store.db, lead.id, { after, limit: req.query.limit + 1 }),
        req.query.limit,
        (e) => [e.seq],
        (e) => ({ ...e, at: new Date(e.at).toISOString() }),
      );
    },
  );

  api.get(
    '/leads/:id/stays',
    {
      schema: {
        tags: ['leads'],
        summary: 'The stages the lead has been through, first stay first',
        params: idParams,
        querystring: z.object(pageQuery).strict(),
        response: { 200: staysSchema },
      },
      config: { access: read },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const after = cursorTuple(req.query.cursor, ['number', 'string'] as const);
      return pageFromRows(
        await leadStays(ctx.store.db, lead.id, { after, limit: req.query.limit + 1 }),
        req.query.limit,
        // Several stays can start in the same event (a goal advancing twice): the id breaks the tie.
        (s) => [s.seq, s.id],
        (s) => ({
          ...s,
          enteredAt: new Date(s.enteredAt).toISOString(),
          exitedAt: isoOrNull(s.exitedAt),
          stalledAt: isoOrNull(s.stalledAt),
        }),
      );
    },
  );
}
