import { z } from 'zod';
import { knownActivityKind, unknownActivityKind } from '../../domain/activity-kinds.js';
import { openLeadsByEmail } from '../../store/lead-search.js';
import { ADMINS, EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { cursorTuple, pageFromRows, pageQuery } from '../paging.js';
import { NOT_A_RECORD } from '../problem-responses.js';
import { Problem } from '../problem.js';
import { activityListSchema, inboundSignalSchema, leadEventOutcomeSchema } from '../schemas.js';
import { callerOf, ENGINE_PROBLEMS, idParams, leadInReach, submit, type Api } from './shared.js';

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

export function activityRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/leads/:id/activities',
    {
      schema: {
        tags: ['activities'],
        summary: "A lead's logged activities, oldest first",
        params: idParams,
        querystring: z.object(pageQuery).strict(),
        response: { 200: activityListSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const after = cursorTuple(req.query.cursor, ['number', 'number']);
      // (event seq, index within the event) is the activity's key: unique, and the order it happened in.
      let q = ctx.store.db.selectFrom('activities').selectAll().where('lead_id', '=', lead.id);
      if (after)
        q = q.where((eb) =>
          eb.or([eb('seq', '>', after[0]), eb.and([eb('seq', '=', after[0]), eb('idx', '>', after[1])])]),
        );
      const rows = await q
        .orderBy('seq')
        .orderBy('idx')
        .limit(req.query.limit + 1)
        .execute();
      return pageFromRows(
        rows,
        req.query.limit,
        (a) => [a.seq, a.idx],
        (a) => ({ kind: a.kind, note: a.note, at: new Date(a.at).toISOString(), actor: a.actor, stay: a.stay_id }),
      );
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
        body: z.object({ kind: z.string().min(1).max(50), note: z.string().max(5000).optional() }).strict(),
        response: { 201: leadEventOutcomeSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:write' }, idempotent: true, problems: ENGINE_PROBLEMS },
    },
    async (req, reply) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const kind = await activityKind(ctx, req.body.kind);
      const outcome = await submit(ctx, callerOf(req), {
        type: 'activity.logged',
        lead: lead.id,
        kind,
        ...(req.body.note ? { note: req.body.note } : {}),
      });
      return reply.code(201).send({ lead: lead.id, log: outcome.log, effects: outcome.effects.map((e) => e.kind) });
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
