import { z } from 'zod';
import { fieldValue, isoTime, pageOf } from './common.js';

/** A lead's stage (where it stands and what it still needs) and its field and owner history. */

export const checklistItemSchema = z
  .object({
    kind: z.enum(['all', 'any', 'task', 'activity', 'signal', 'field']),
    text: z.string().describe('The condition in words: "task first-touch done", "1 call logged (0 so far)"'),
    met: z.boolean(),
    depth: z.number().int().describe('0 at the top; the parts of an "all of" or "any of" line follow it one deeper'),
    current: fieldValue.describe("What the condition counts now: activities logged, the field's value; else null"),
  })
  .meta({ id: 'ChecklistItem' });

const requiredFieldsSchema = z.object({
  fields: z.array(z.object({ field: z.string(), set: z.boolean() })),
  missing: z.array(z.string()).describe('Required fields the lead has not set'),
});

export const leadStageSchema = z.object({
  lead: z.string(),
  status: z.string().describe('open, won or lost'),
  processVersion: z.number().int(),
  pipeline: z.object({ id: z.string(), name: z.string(), stageCount: z.number().int() }),
  stage: z.object({
    id: z.string(),
    name: z.string(),
    index: z.number().int().describe('0-based position in the pipeline'),
    enteredAt: isoTime,
    probability: z.number().nullable(),
    stallAfterDays: z.number().describe("The stage's stall threshold, else the organisation's default"),
    stallAt: isoTime,
    stalled: z.boolean(),
    strict: z.boolean(),
    guidance: z.string().describe('Markdown'),
  }),
  goal: z
    .object({
      met: z.boolean(),
      items: z.array(checklistItemSchema),
    })
    .nullable()
    .describe('The stage goal as a checklist; null for a stage without a goal'),
  exitRequirements: requiredFieldsSchema
    .nullable()
    .describe('A strict stage: the fields the lead needs before it may leave; null for a stage that is not strict'),
  nextStage: z
    .object({
      id: z.string(),
      name: z.string(),
      strict: z.boolean(),
      requiredFields: requiredFieldsSchema.describe(
        'What a strict next stage will need before the lead may leave it; empty for one that is not strict',
      ),
    })
    .nullable()
    .describe('null on the last stage and for a closed lead'),
});

const actorSchema = z
  .object({ kind: z.string().describe('user, api, admin, automation, system or import'), id: z.string().optional() })
  .nullable();

export const leadHistorySchema = pageOf(
  z.object({
    kind: z.enum(['field', 'owner']),
    at: isoTime,
    seq: z.number().int().describe('The event that made the change (see the timeline)'),
    actor: actorSchema,
    field: z.string().nullable().describe('The field changed; null for an owner change'),
    from: fieldValue.describe('The value or owner before'),
    to: fieldValue.describe('The value or owner after'),
    reason: z.string().nullable().describe('An owner change: manual, routing, handover, …'),
    rule: z.string().nullable().describe('An owner change: the assignment rule that chose the owner'),
  }),
);
