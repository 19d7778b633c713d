import { z } from 'zod';

/**
 * Response schemas of the main resources: they document the answers in /openapi.json (as named
 * components) and the serializer checks every answer against them, so the reference cannot
 * drift from what the server sends.
 */

const isoTime = z.string().describe('ISO 8601 time, UTC');
const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const taskSchema = z
  .object({
    id: z.string(),
    lead: z.string(),
    stage: z.string(),
    template: z.string(),
    title: z.string(),
    kind: z.string(),
    status: z.string().describe('open, done or skipped'),
    assignee: z.string().nullable(),
    dueAt: isoTime,
    overdueAt: isoTime,
    createdAt: isoTime,
    completedAt: isoTime.nullable(),
    skippedAt: isoTime.nullable(),
    skipReason: z.string().nullable(),
  })
  .meta({ id: 'Task' });

export const leadSchema = z
  .object({
    id: z.string(),
    version: z.number().int().describe('The ETag; send it back in If-Match'),
    pipeline: z.string(),
    stage: z.string(),
    stageEnteredAt: isoTime,
    status: z.string().describe('open, won or lost'),
    owner: z.string().nullable(),
    contact: z.object({
      name: z.string().nullable(),
      email: z.string().nullable(),
      phone: z.string().nullable(),
      company: z.string().nullable(),
    }),
    value: z.number().nullable().describe('In major units of the organisation currency'),
    source: z.string().nullable(),
    product: z.string().nullable(),
    territory: z.string().nullable(),
    expectedClose: isoTime.nullable(),
    fields: z.record(z.string(), fieldValue),
    processVersion: z.number().int(),
    createdAt: isoTime,
    updatedAt: isoTime,
    closedAt: isoTime.nullable(),
    closeReason: z.string().nullable(),
    error: z.string().nullable().describe('Why the last automation failed, if it did'),
    importedFrom: z.string().nullable(),
  })
  .meta({ id: 'Lead' });

const logEntry = z.object({
  kind: z.string(),
  rule: z.string().nullable(),
  message: z.string(),
  inputs: z.record(z.string(), z.unknown()).optional(),
});

export const leadPageSchema = leadSchema
  .extend({
    openTasks: z.array(taskSchema),
    log: z.array(logEntry).optional().describe('What the rules did with this request'),
    effects: z.array(z.string()).optional().describe('Side effects queued for delivery'),
  })
  .meta({ id: 'LeadWithTasks' });

export const leadListSchema = z.object({ items: z.array(leadSchema), nextCursor: z.string().nullable() });
export const taskListSchema = z.object({ items: z.array(taskSchema), nextCursor: z.string().nullable() });
