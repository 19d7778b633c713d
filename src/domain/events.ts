import { z } from 'zod';
import { isCloseDate } from './close-date.js';
import { OPT_OUT_FIELD, optOutValue } from './consent.js';
import { DUE_TIME_HINT, isDueTime } from './due-time.js';
import { TASK_KINDS } from './process-schema.js';
import { FORECAST_CATEGORY_PROBLEM, FORECAST_FIELD, forecastCategory } from './forecast-category.js';

/**
 * Events that drive a lead. The same schema validates CLI input, simulation files
 * (docs/events.schema.json is generated from it) and, later, API bodies.
 */

const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** The largest deal value taken, in major units: its minor units stay exact in a double. */
export const MAX_VALUE = 1e12;

/** Whether a lead's `email` field may hold this value: what the API, the CLI and imports accept. */
export function isEmailAddress(v: string): boolean {
  return z.email().safeParse(v).success;
}

/**
 * Whether a sum is whole cents, as the lead's value column keeps it (minor units): the shortest
 * spelling of the number has at most two decimals. A field holding 12000.555 beside a value of
 * 12000.56 would be two answers to one question.
 */
function inCents(n: number): boolean {
  const text = String(n);
  return !text.includes('e-') && (text.split('.')[1] ?? '').length <= 2;
}

/** Lead attributes that events set (reassign, move, win, lose), never a field of the same name. */
const NOT_FIELDS: Record<string, string> = {
  id: 'the lead id is fixed at creation',
  owner: 'set the owner by reassigning the lead',
  pipeline: 'change the pipeline by moving the lead',
  stage: 'change the stage by moving the lead',
  status: 'close the lead by winning or losing it, or reopen it',
  version: 'the version is kept by Stageflow',
};

/**
 * The fields the reports read are typed: a wrong value is refused with its field named, rather
 * than stored and then read as "no value" (or as Infinity) by every report.
 */
function checkField(key: string, v: z.infer<typeof fieldValue>): string | null {
  if (key in NOT_FIELDS) return `not a field: ${NOT_FIELDS[key]}`;
  if (v === null || v === '') return null; // both clear the field
  if (key === 'value') {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n)) return 'must be a number';
    if (n < 0) return 'must not be negative';
    if (n > MAX_VALUE) return `must be at most ${MAX_VALUE.toExponential()}`;
    if (!inCents(n))
      return `must be whole cents, at most 2 decimals (${JSON.stringify(v)} has more): the lead's value keeps cents`;
  }
  if (key === 'expected_close' && !(typeof v === 'string' && isCloseDate(v)))
    return 'must be a date such as 2027-03-31 (or an ISO date and time)';
  if (key === 'email' && !(typeof v === 'string' && isEmailAddress(v))) return 'must be an email address';
  if (key === OPT_OUT_FIELD && optOutValue(v) === undefined)
    return 'must be true or false (yes/no, 1/0 and on/off are read as such)';
  if (key === FORECAST_FIELD && forecastCategory(v) === undefined) return FORECAST_CATEGORY_PROBLEM;
  return null;
}

export const fieldsSchema = z.record(z.string().min(1), fieldValue).superRefine((fields, ctx) => {
  for (const [key, v] of Object.entries(fields)) {
    const problem = checkField(key, v);
    if (problem) ctx.addIssue({ code: 'custom', path: [key], message: problem });
  }
});

export const actorSchema = z
  .object({
    kind: z.enum(['user', 'api', 'admin', 'automation', 'system', 'import']),
    id: z.string().optional(),
  })
  .strict();
export type Actor = z.infer<typeof actorSchema>;

const taskTitle = z.string().trim().min(1).max(200);
const dueTime = z
  .string()
  .refine(isDueTime, { message: DUE_TIME_HINT })
  .describe("ISO 8601 date and time; without an offset it is the organisation's time zone");

const base = {
  lead: z.string().min(1).describe('Lead id (simulation files name leads freely, e.g. "L1").'),
  actor: actorSchema.optional(),
};

/** A close dated earlier than it is entered: the contract signed on the 30th, logged on the 1st. */
const closedAtSchema = z.iso
  .datetime({ offset: true })
  .optional()
  .describe(
    "When the deal closed, if before it is recorded (ISO time with offset): not in the future, not before the lead entered its stage. The lead's closedAt, which the reports bucket by; the event itself is recorded now.",
  );

export const leadEventSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('lead.created'),
      ...base,
      fields: fieldsSchema.default({}),
      owner: z.string().optional().describe('Explicit owner; skips the assignment rules.'),
      pipeline: z.string().optional().describe('Explicit pipeline; skips the entry criteria.'),
      sourcedBy: z
        .string()
        .min(1)
        .optional()
        .describe(
          'The rep who found the lead herself and is entering it: under assignment.self_sourced: creator it is hers (the API and the CLI set it for a rep).',
        ),
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
    .object({
      type: z.literal('task.reassigned'),
      ...base,
      task: z.string().min(1).describe('Task id, or the template id of a task in the current stage.'),
      assignee: z
        .string()
        .min(1)
        .optional()
        .describe(
          "The user who takes the open task over; it stays theirs when the lead changes owner. Without it, a task its stage gives to a team goes round that team again (the next member who is active and not away), and any other task goes to the lead's owner.",
        ),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('task.added')
        .describe(
          "A person adds a task of their own to an open lead (a follow-up call, say): it stays on the lead's open work when the lead changes stage, and is skipped only when the lead closes.",
        ),
      ...base,
      title: taskTitle,
      kind: z.enum(TASK_KINDS).default('todo'),
      dueAt: dueTime,
      assignee: z
        .string()
        .min(1)
        .optional()
        .describe("Who does it; without it the acting user if they are a user of the process, else the lead's owner."),
      note: z.string().max(2000).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('task.updated').describe('Edit an open task a person added: its title, kind or due time.'),
      ...base,
      task: z.string().min(1),
      title: taskTitle.optional(),
      kind: z.enum(TASK_KINDS).optional(),
      dueAt: dueTime.optional(),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('task.cancelled')
        .describe('A person cancels an open task they added: it is skipped, with the reason.'),
      ...base,
      task: z.string().min(1),
      reason: z.string().trim().min(1).max(500),
    })
    .strict(),
  z
    .object({
      type: z.literal('activity.logged'),
      ...base,
      kind: z.string().min(1),
      note: z.string().optional(),
      occurredAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe(
          "When it happened, if before it is logged (ISO time with offset): not in the future, not before the lead entered its stage. The activity's time, which the reports count by; a goal it meets is met when it is logged.",
        ),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('activity.updated')
        .describe(
          "Correct a logged activity's note (an empty note clears it). Its kind and time stay: goals it counted for are not judged again.",
        ),
      ...base,
      activity: z.string().min(1).describe('The activity id (`lead:seq.idx`).'),
      note: z.string().max(5000),
    })
    .strict(),
  z
    .object({
      type: z
        .literal('activity.deleted')
        .describe(
          "Remove a logged activity (logged on the wrong lead, say). It no longer counts toward its stay's goal while the lead is in that stay; a goal it met stays met.",
        ),
      ...base,
      activity: z.string().min(1).describe('The activity id (`lead:seq.idx`).'),
    })
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
  z
    .object({
      type: z.literal('lead.won'),
      ...base,
      reason: z.string().optional(),
      closedAt: closedAtSchema,
      override: z.boolean().optional().describe('Admin only: win past strict stages whose gate holds; recorded.'),
    })
    .strict(),
  z.object({ type: z.literal('lead.lost'), ...base, reason: z.string().min(1), closedAt: closedAtSchema }).strict(),
  z
    .object({
      type: z.literal('lead.reopened'),
      ...base,
      stage: z
        .string()
        .min(1)
        .optional()
        .describe('Reopen into this stage (needed when the stage the lead closed in no longer exists).'),
      pipeline: z.string().min(1).optional().describe('The pipeline of that stage, if not the one it closed in.'),
      override: z
        .boolean()
        .optional()
        .describe('Admin only: reopen past strict stages (a later stage, or into another pipeline); recorded.'),
      owner: z
        .string()
        .min(1)
        .optional()
        .describe(
          'Owner of the reopened lead (an active user); without it the lead keeps its owner, or is routed by the rules if they have left.',
        ),
    })
    .strict(),
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

/**
 * Made by `process apply` for an open lead in a stage the new version changed: the lead moves to
 * that version, gets the tasks named in `backfillTasks` (`--backfill-tasks`) and is checked
 * against the stage's goal, so its run log explains what the new version did to it.
 */
export interface ProcessEvent {
  type: 'process.upgraded';
  lead: string;
  version: number;
  backfillTasks: string[];
}

export type EngineEvent = (LeadEvent | TimerEvent | ProcessEvent) & { actor?: Actor };

/** One line of a simulation file: an event with its time. */
export const timedEventSchema = z.intersection(
  z.object({ at: z.iso.datetime({ offset: true }).describe('ISO 8601 time with offset, e.g. 2026-01-05T09:00:00Z') }),
  leadEventSchema,
);
