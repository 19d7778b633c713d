import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { knownActivityKind, unknownActivityKind } from '../../domain/activity-kinds.js';
import { activityId } from '../../domain/lead.js';
import { activityJson, findActivity, leadActivities, type ActivityRow } from '../../store/activities.js';
import { openLeadsByEmail, type LeadRow } from '../../store/lead-search.js';
import { ADMINS, EVERYONE, reachesOwner } from '../access.js';
import type { AppContext } from '../app.js';
import { cursorTuple, pageFromRows, pageQuery } from '../paging.js';
import { NOT_A_RECORD } from '../problem-responses.js';
import { Problem } from '../problem.js';
import {
  activityListSchema,
  activityOutcomeSchema,
  activitySchema,
  inboundSignalSchema,
  leadEventOutcomeSchema,
} from '../schemas.js';
import {
  callerOf,
  denyForbidden,
  ENGINE_PROBLEMS,
  idParams,
  leadInReach,
  NO_CONTENT,
  reachFor,
  submit,
  type Api,
} from './shared.js';

/** Activities and signals: what happened with a lead outside Stageflow, logged so goals can see it. */

const signalName = z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'a signal name: lower case letters, digits, _ . -');
// Any well-formed name is a signal a goal may wait for: an unknown one is recorded, never a 404.
NOT_A_RECORD.add(signalName);

/** The kind as stored (the known spelling), or a 400 naming `body.kind` with the kinds there are. */
async function activityKind(ctx: AppContext, written: string): Promise<string> {
  const process = (await ctx.processes.current())?.process;
  if (!process) return written; // no process yet: the engine refuses the event itself
  const kind = knownActivityKind(process, written);
  if (kind !== undefined) return kind;
  const message = unknownActivityKind(process, written);
  throw new Problem('validation-failed', `kind ${message}`, { errors: [{ field: 'body.kind', message }] });
}

/** An occurredAt the engine would refuse, refused first as a 400 naming the field. */
function checkOccurredAt(occurredAt: string, lead: LeadRow, now: number): void {
  const at = Date.parse(occurredAt);
  const problem =
    at > now
      ? 'is in the future'
      : at < lead.stage_entered_at
        ? `is before the lead entered its stage ${lead.stage}, at ${new Date(lead.stage_entered_at).toISOString()}: log it on that stage's work, or without occurredAt`
        : null;
  if (problem)
    throw new Problem('validation-failed', `occurredAt ${problem}`, {
      errors: [{ field: 'body.occurredAt', message: problem }],
    });
}

function presentActivity(a: ActivityRow): z.infer<typeof activitySchema> {
  return activityJson(a);
}

const activityParams = z.object({ id: z.string().min(1).max(300) });
const ORDERS = ['asc', 'desc'] as const;

export function activityRoutes(api: Api, ctx: AppContext): void {
  /** The activity and its lead, if the caller works the lead (as its list); else 404, audited. */
  async function activityInReach(req: FastifyRequest, id: string): Promise<{ row: ActivityRow; lead: LeadRow }> {
    const row = await findActivity(ctx.store.db, id);
    if (!row) throw new Problem('not-found', `activity "${id}" does not exist`);
    const lead = await leadInReach(ctx, req, row.lead_id, 'work').catch((e: unknown) => {
      // Out of reach reads exactly as missing: the id names the lead, so any other answer would
      // tell a rep that a lead of another team exists.
      if (e instanceof Problem && e.type === 'not-found')
        throw new Problem('not-found', `activity "${id}" does not exist`);
      throw e;
    });
    return { row, lead };
  }

  /**
   * The activity, if the caller may change it: its author, or a manager over the lead (an admin).
   * A lead out of the caller's reach is missing (404), as everywhere; in reach but another's, 403.
   */
  async function changeableActivity(req: FastifyRequest, id: string): Promise<ActivityRow> {
    const { row, lead } = await activityInReach(req, id);
    const caller = callerOf(req);
    const manages = caller.member.role !== 'rep' && reachesOwner(await reachFor(ctx, caller), lead.owner);
    if (!manages && row.actor !== caller.member.id)
      await denyForbidden(
        ctx,
        req,
        `activity "${id}" was logged by ${row.actor ?? 'someone else'}: only they or a manager over the lead may change it`,
      );
    return row;
  }

  api.get(
    '/leads/:id/activities',
    {
      schema: {
        tags: ['activities'],
        summary: "A lead's logged activities, in the order they were logged (oldest first), or newest first",
        params: idParams,
        querystring: z
          .object({
            ...pageQuery,
            order: z.enum(ORDERS).default('asc').describe('asc: in the order they were logged; desc: the latest first'),
          })
          .strict(),
        response: { 200: activityListSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const { order, limit } = req.query;
      // The cursor carries its order: a page of one order continued in the other would skip rows.
      const after = cursorTuple(req.query.cursor, ['string', 'number', 'number']);
      if (after && after[0] !== order)
        throw new Problem('validation-failed', 'cursor is not one this list gave out', {
          errors: [{ field: 'query.cursor', message: `a cursor of the ${after[0]} order, not ${order}` }],
        });
      const rows = await leadActivities(ctx.store.db, lead.id, order, after && [after[1], after[2]], limit + 1);
      // (event seq, index within the event) is the activity's key: unique, and the order it was logged in.
      return pageFromRows(rows, limit, (a) => [order, a.seq, a.idx], presentActivity);
    },
  );

  api.post(
    '/leads/:id/activities',
    {
      schema: {
        tags: ['activities'],
        summary:
          "Log an activity: a kind the process's goals count or a common one (call, email, meeting, demo, note, visit, message), in any case",
        params: idParams,
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z
          .object({
            kind: z.string().min(1).max(50),
            note: z.string().max(5000).optional(),
            occurredAt: z.iso
              .datetime({ offset: true })
              .optional()
              .describe(
                "When it happened, if before now (ISO time with offset): not in the future, not before the lead entered its stage. The activity's time; a goal it meets is met now",
              ),
          })
          .strict(),
        response: { 201: activityOutcomeSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:write' }, idempotent: true, problems: ENGINE_PROBLEMS },
    },
    async (req, reply) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const kind = await activityKind(ctx, req.body.kind);
      const { note, occurredAt } = req.body;
      if (occurredAt !== undefined) checkOccurredAt(occurredAt, lead, ctx.now());
      const outcome = await submit(ctx, callerOf(req), {
        type: 'activity.logged',
        lead: lead.id,
        kind,
        ...(note ? { note } : {}),
        ...(occurredAt !== undefined ? { occurredAt } : {}),
      });
      // The event logged one activity, the first of its sequence number.
      const id = activityId(lead.id, outcome.lead.outboxSeries ?? 1, outcome.lead.seq, 0);
      const created = await findActivity(ctx.store.db, id);
      return reply.code(201).send({
        lead: lead.id,
        activity: created ? presentActivity(created) : null,
        log: outcome.log,
        effects: outcome.effects.map((e) => e.kind),
      });
    },
  );

  api.get(
    '/activities/:id',
    {
      schema: {
        tags: ['activities'],
        summary: "One activity, as its lead's list shows it (for whoever may read that list)",
        params: activityParams,
        response: { 200: activitySchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => presentActivity((await activityInReach(req, req.params.id)).row),
  );

  api.patch(
    '/activities/:id',
    {
      schema: {
        tags: ['activities'],
        summary:
          "Correct an activity's note (its author, or a manager over the lead); its kind and time stay, so no goal is judged again",
        params: activityParams,
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z.object({ note: z.string().max(5000).describe('The corrected note; empty clears it') }).strict(),
        response: { 200: activityOutcomeSchema },
      },
      config: {
        access: { roles: EVERYONE, scope: 'leads:write' },
        idempotent: true,
        problems: ['forbidden', ...ENGINE_PROBLEMS],
      },
    },
    async (req) => {
      const row = await changeableActivity(req, req.params.id);
      const outcome = await submit(ctx, callerOf(req), {
        type: 'activity.updated',
        lead: row.lead_id,
        activity: row.id,
        note: req.body.note,
      });
      const after = await findActivity(ctx.store.db, row.id);
      return {
        lead: row.lead_id,
        activity: after ? presentActivity(after) : null,
        log: outcome.log,
        effects: outcome.effects.map((e) => e.kind),
      };
    },
  );

  api.delete(
    '/activities/:id',
    {
      schema: {
        tags: ['activities'],
        summary:
          'Delete an activity (its author, or a manager over the lead): gone from lists, exports and reports; the event log keeps who and when, and its note leaves the earlier events. It stops counting toward the goal of the stay it was logged in if the lead is still there',
        params: activityParams,
        response: { 204: NO_CONTENT },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:write' }, problems: ['forbidden', ...ENGINE_PROBLEMS] },
    },
    async (req, reply) => {
      const row = await changeableActivity(req, req.params.id);
      await submit(ctx, callerOf(req), { type: 'activity.deleted', lead: row.lead_id, activity: row.id });
      return reply.code(204).send(null);
    },
  );

  api.post(
    '/leads/:id/signals/:name',
    {
      schema: {
        tags: ['signals'],
        summary: 'Record a named signal (trial_started, ...) on a lead; a goal may wait for it',
        params: idParams.extend({ name: signalName }),
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z.object({}).strict().nullish(),
        response: { 200: leadEventOutcomeSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:write' }, idempotent: true, problems: ENGINE_PROBLEMS },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id);
      const outcome = await submit(ctx, callerOf(req), {
        type: 'signal.received',
        lead: lead.id,
        name: req.params.name,
      });
      return { lead: lead.id, log: outcome.log, effects: outcome.effects.map((e) => e.kind) };
    },
  );

  api.post(
    '/inbound/signals/:name',
    {
      schema: {
        tags: ['signals'],
        summary:
          'From your product: a signal for the open leads whose contact has this email (token with scope signals:inbound)',
        params: z.object({ name: signalName }),
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z.object({ email: z.email().max(320) }).strict(),
        response: { 200: inboundSignalSchema },
      },
      config: { access: { roles: ADMINS, scope: 'signals:inbound' }, idempotent: true, problems: ENGINE_PROBLEMS },
    },
    async (req) => {
      const caller = callerOf(req);
      const leads = await openLeadsByEmail(ctx.store.db, req.body.email);
      const results = [];
      for (const lead of leads) {
        const outcome = await submit(ctx, caller, { type: 'signal.received', lead: lead.id, name: req.params.name });
        results.push({ lead: lead.id, effects: outcome.effects.map((e) => e.kind) });
      }
      return { matched: results.length, leads: results };
    },
  );
}
