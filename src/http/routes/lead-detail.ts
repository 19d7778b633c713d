import { z } from 'zod';
import { goalChecklist, goalFacts, requiredFields, stagePlace } from '../../domain/stage-checklist.js';
import { evaluate } from '../../domain/conditions.js';
import { changeKey, leadHistory } from '../../store/lead-history.js';
import { loadLeads } from '../../store/leads.js';
import { processVersion } from '../../store/processes.js';
import { EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { cursorTuple, pageFromRows, pageQuery } from '../paging.js';
import { Problem } from '../problem.js';
import { leadHistorySchema, leadStageSchema } from '../schemas/lead-detail.js';
import { idParams, leadInReach, type Api } from './shared.js';

/**
 * What a lead page shows beside the lead: its stage (guidance, the goal as a checklist, what a
 * strict stage needs) judged by the same domain code as the rules, and its field and owner history.
 * Both are read as GET /leads/{id} is: by whoever may work the lead.
 */

const read = { roles: EVERYONE, scope: 'leads:read' } as const;

export function leadDetailRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/leads/:id/stage',
    {
      schema: {
        tags: ['leads'],
        summary: "The lead's stage: guidance, the goal as a checklist, and the fields a strict stage needs",
        params: idParams,
        response: { 200: leadStageSchema },
      },
      config: { access: read },
    },
    async (req) => {
      const row = await leadInReach(ctx, req, req.params.id, 'work');
      const [loaded, stored] = await Promise.all([
        loadLeads(ctx.store.db, [row.id], false),
        processVersion(ctx.store.db, row.process_version),
      ]);
      const lead = loaded.get(row.id)?.state;
      if (!lead) throw new Problem('not-found', `lead "${row.id}" does not exist`);
      const place = stored ? stagePlace(stored.process, lead.pipeline, lead.stay.stage) : null;
      // The engine keeps every lead on a stage of its version; a row that is not says so plainly.
      if (!stored || !place)
        throw new Error(`lead ${lead.id}: stage ${lead.stay.stage} is not in process version ${lead.processVersion}`);
      const { stage, next } = place;
      const facts = goalFacts(lead);
      const open = lead.status === 'open';
      return {
        lead: lead.id,
        status: lead.status,
        processVersion: lead.processVersion,
        pipeline: { id: place.pipeline.id, name: place.pipeline.name, stageCount: place.count },
        stage: {
          id: stage.id,
          name: stage.name,
          index: place.index,
          enteredAt: new Date(lead.stay.enteredAt).toISOString(),
          probability: stage.probability ?? null,
          stallAfterDays: stage.stall_after_days ?? stored.process.organisation.default_stall_days,
          stallAt: new Date(lead.stay.stallAt).toISOString(),
          stalled: lead.stay.stalledAt !== null,
          strict: stage.strict,
          guidance: stage.guidance,
        },
        goal: stage.goal ? { met: evaluate(stage.goal, facts), items: goalChecklist(stage.goal, facts) } : null,
        exitRequirements: stage.strict ? requiredFields(stage, lead.fields) : null,
        nextStage:
          open && next
            ? {
                id: next.id,
                name: next.name,
                strict: next.strict,
                requiredFields: next.strict ? requiredFields(next, lead.fields) : { fields: [], missing: [] },
              }
            : null,
      };
    },
  );

  api.get(
    '/leads/:id/history',
    {
      schema: {
        tags: ['leads'],
        summary: "The lead's field changes (old and new value) and owner changes, newest first",
        params: idParams,
        querystring: z.object(pageQuery).strict(),
        response: { 200: leadHistorySchema },
      },
      config: { access: read },
    },
    async (req) => {
      const lead = await leadInReach(ctx, req, req.params.id, 'work');
      const before = cursorTuple(req.query.cursor, ['number', 'number', 'number'] as const);
      const changes = await leadHistory(ctx.store.db, lead.id, { before, limit: req.query.limit + 1 });
      return pageFromRows(changes, req.query.limit, changeKey, (c) => ({
        kind: c.kind,
        at: new Date(c.at).toISOString(),
        seq: c.seq,
        actor: c.actor,
        field: c.kind === 'field' ? c.field : null,
        from: c.from,
        to: c.to,
        reason: c.kind === 'owner' ? c.reason : null,
        rule: c.kind === 'owner' ? c.rule : null,
      }));
    },
  );
}
