import { z } from 'zod';

/**
 * Events that drive a lead. The same schema validates CLI input, simulation files
 * (docs/events.schema.json is generated from it) and, later, API bodies.
 */

const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export const fieldsSchema = z.record(z.string().min(1), fieldValue);

export const actorSchema = z
  .object({
    kind: z.enum(['user', 'api', 'admin', 'automation', 'system', 'import']),
    id: z.string().optional(),
  })
  .strict();
export type Actor = z.infer<typeof actorSchema>;

const base = {
  lead: z.string().min(1).describe('Lead id (simulation files name leads freely, e.g. "L1").'),
  actor: actorSchema.optional(),
};

export const leadEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('lead.created'),
      ...base,
      fields: fieldsSchema.default({}),
      owner: z.string().optional().describe('Explicit owner; skips the assignment rules.'),
      pipeline: z.string().optional().describe('Explicit pipeline; skips the entry criteria.'),
    })
    .strict(),
  z.object({ type: z.literal('lead.updated'), ...base, fields: fieldsSchema }).strict(),
  z
    .object({
      type: z.literal('task.completed'),
      ...base,
      task: z.string().min(1).describe('Task id, or the template id of a task in the current stage.'),
    })
    .strict(),
  z.object({ type: z.literal('task.reopened'), ...base, task: z.string().min(1) }).strict(),
  z
    .object({ type: z.literal('activity.logged'), ...base, kind: z.string().min(1), note: z.string().optional() })
    .strict(),
  z.object({ type: z.literal('signal.received'), ...base, name: z.string().min(1) }).strict(),
  z
    .object({
      type: z.literal('lead.moved'),
      ...base,
      stage: z.string().min(1),
      pipeline: z.string().optional().describe('Move into another pipeline.'),
      override: z.boolean().default(false).describe('Admin only: pass strict gates; recorded.'),
      reason: z.string().optional(),
    })
    .strict(),
  z.object({ type: z.literal('lead.won'), ...base, reason: z.string().optional() }).strict(),
  z.object({ type: z.literal('lead.lost'), ...base, reason: z.string().min(1) }).strict(),
  z.object({ type: z.literal('lead.reopened'), ...base }).strict(),
  z
    .object({
      type: z
        .literal('lead.activated')
        .describe(
          "An imported lead goes live: its current stage is entered anew now, with the stage's tasks and automations (and routing if it has no owner).",
        ),
      ...base,
    })
    .strict(),
  z
    .object({
      type: z.literal('lead.reassigned'),
      ...base,
      owner: z.string().optional().describe('New owner; without it the assignment rules run again.'),
    })
    .strict(),
]);
export type LeadEvent = z.infer<typeof leadEventSchema>;

/** Events the scheduler makes from the passing of time. */
export type TimerEvent =
  | { type: 'task.due'; lead: string; task: string }
  | { type: 'task.overdue'; lead: string; task: string }
  | { type: 'stage.stalled'; lead: string; stay: string };

export type EngineEvent = (LeadEvent | TimerEvent) & { actor?: Actor };

/** One line of a simulation file: an event with its time. */
export const timedEventSchema = z.intersection(
  z.object({ at: z.iso.datetime({ offset: true }).describe('ISO 8601 time with offset, e.g. 2026-01-05T09:00:00Z') }),
  leadEventSchema,
);
