import { z } from 'zod';
import { effectsSchema, fieldValue, isoTime, jsonObject, logEntrySchema, pageOf } from './common.js';

/** Leads and the work on them: tasks, timeline, stays, activities, signals, the board. */

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
    adHoc: z.boolean().describe("Added by a person (POST /leads/{id}/tasks), not one of the stage's process tasks"),
    note: z.string().nullable().describe('What the person who added it wrote with it'),
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
    lastActivityAt: isoTime
      .nullable()
      .describe('The latest activity logged on the lead (a call, a note…); null if none'),
    nextTaskDueAt: isoTime.nullable().describe('When the earliest of its open tasks is due; null if it has none'),
  })
  .meta({ id: 'Lead' });

export const leadPageSchema = leadSchema
  .extend({
    openTasks: z.array(taskSchema),
    log: z.array(logEntrySchema).optional().describe('What the rules did with this request'),
    effects: effectsSchema.optional(),
  })
  .meta({ id: 'LeadWithTasks' });

export const leadListSchema = pageOf(leadSchema);
/** A task in a work queue (GET /tasks, and GET /tasks/{id}), with what the queue shows of its lead. */
export const queuedTaskSchema = taskSchema
  .extend({
    leadSummary: z
      .object({
        name: z.string().nullable().describe("The lead's name (contact.name)"),
        person: z.string().nullable().describe('The person: the fields first_name and last_name'),
        company: z.string().nullable(),
        value: z.number().nullable().describe('In major units of the organisation currency'),
        status: z.string().describe('open, won or lost'),
        pipeline: z.string(),
        stageName: z.string().describe("The task's stage's name; its id when the process no longer has it"),
      })
      .nullable()
      .describe(
        "What a work queue shows of the task's lead, so that it needs no read per task; null when the caller does not reach the lead (a done task of theirs on a colleague's lead)",
      ),
  })
  .meta({ id: 'QueuedTask' });
export const taskListSchema = pageOf(queuedTaskSchema);

/** POST /tasks/{id}/complete and /reopen: the task as the engine left it, and what the rules did. */
export const taskOutcomeSchema = z.object({
  task: taskSchema.nullable(),
  log: z.array(logEntrySchema),
  effects: effectsSchema,
});

export const timelineSchema = pageOf(
  z
    .object({
      seq: z.number().int(),
      at: isoTime,
      type: z.string().describe('The event type: lead.created, task.completed, …'),
      actor: z.object({
        kind: z.string().describe('user, api, admin, automation, system or import'),
        id: z.string().optional(),
      }),
      payload: jsonObject.describe('The event as applied'),
      processVersion: z.number().int(),
      entries: z.array(
        z.object({
          kind: z.string(),
          rule: z.string().nullable(),
          message: z.string(),
          inputs: jsonObject.nullable(),
        }),
      ),
    })
    .meta({ id: 'TimelineEvent' }),
);

export const staysSchema = pageOf(
  z
    .object({
      id: z.string(),
      seq: z.number().int(),
      pipeline: z.string(),
      stage: z.string(),
      processVersion: z.number().int(),
      enteredAt: isoTime,
      exitedAt: isoTime.nullable(),
      exit: z.string().nullable().describe('How the stay ended: moved, won, lost, …; null while in the stage'),
      via: z.string().describe('How the lead entered the stage'),
      stalledAt: isoTime.nullable(),
    })
    .meta({ id: 'StageStay' }),
);

export const activitySchema = z
  .object({
    id: z.string().describe('Stable and unique: `lead:seq.idx`, the event that logged it and its place in it'),
    lead: z.string(),
    kind: z.string(),
    note: z.string().nullable(),
    at: isoTime.describe('When it happened: its occurredAt if given, else when it was logged'),
    actor: z.string().nullable().describe('Who logged it: a user id, else the kind of caller'),
    stay: z.string().describe('The stage stay it was logged in'),
  })
  .meta({ id: 'Activity' });

export const activityListSchema = pageOf(activitySchema);

/** A change to an activity: the activity as it now is (null once deleted), and what the rules did. */
export const activityOutcomeSchema = z.object({
  lead: z.string(),
  activity: activitySchema.nullable(),
  log: z.array(logEntrySchema),
  effects: effectsSchema,
});

/** An activity or a signal recorded on a lead. */
export const leadEventOutcomeSchema = z.object({
  lead: z.string(),
  log: z.array(logEntrySchema),
  effects: effectsSchema,
});

export const inboundSignalSchema = z.object({
  matched: z.number().int().describe('Open leads whose contact has the address'),
  leads: z.array(z.object({ lead: z.string(), effects: effectsSchema })),
});
