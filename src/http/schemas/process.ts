import { z } from 'zod';
import { FIELD_TYPES } from '../../domain/process-schema.js';
import { isoTime, jsonObject, pageOf } from './common.js';

/**
 * The process: current version, history, validation, diff, apply, and simulation. The results
 * the process service and the simulator compute are loose objects: a member they gain is written
 * out, never silently dropped by the serializer.
 */

/** The process as loaded, defaults filled in (docs/process.md describes every block). */
const processDocument = z
  .looseObject({
    name: z.string(),
    organisation: jsonObject,
    users: z.array(jsonObject),
    teams: z.array(jsonObject),
    assignment: jsonObject,
    pipelines: z.array(jsonObject),
    templates: jsonObject,
    fields: z.array(jsonObject).optional(),
  })
  .meta({ id: 'ProcessDocument' });

export const currentProcessSchema = z.object({
  version: z.number().int(),
  appliedAt: isoTime.nullable(),
  process: processDocument.describe('As applied: the file, without the availability overrides'),
  availabilityOverrides: z
    .array(
      z.looseObject({
        user: z.string(),
        active: z.boolean().optional(),
        out_of_office: z.array(z.object({ from: z.string(), to: z.string() })).optional(),
        capacity: jsonObject.optional(),
        working_hours: jsonObject.optional(),
        setBy: z.string().nullable(),
        setAt: isoTime,
      }),
    )
    .describe(
      'Per person, the availability fields set through PUT /users/{id}/availability, which routing uses instead of the file’s',
    ),
});

export const processVersionListSchema = pageOf(
  z.object({
    version: z.number().int(),
    name: z.string(),
    checksum: z.string(),
    appliedAt: isoTime,
    appliedBy: z.string().nullable(),
    leads: z.number().int().describe('Leads whose current (or final) state follows this version'),
  }),
);

export const processVersionSchema = z.object({
  version: z.number().int(),
  appliedAt: isoTime,
  source: z.string().describe('The file as applied'),
  process: processDocument,
});

export const validationSchema = z.object({
  valid: z.boolean().describe('Always true: a file with problems answers 400 naming each'),
  pipelines: z.array(z.string()),
  users: z.number().int(),
});

export const diffSchema = z
  .looseObject({ changes: z.array(z.string()).describe('One line per change: + added, - removed, ~ changed') })
  .meta({ id: 'ProcessDiff' });

export const applySchema = z.looseObject({
  version: z.number().int(),
  diff: diffSchema,
  migratedLeads: z.number().int(),
  checkedLeads: z
    .number()
    .int()
    .describe('Open leads the engine saw because their stage’s goal, gate or tasks changed'),
  advancedLeads: z.number().int().describe('Of those, how many left their stage because its new goal was met'),
  backfilledTasks: z.number().int().describe('Tasks created by backfillTasks'),
  rescheduled: z
    .object({
      stays: z.number().int().describe('Open stays given the new stall time'),
      tasks: z.number().int().describe('Open tasks given the new overdue time'),
    })
    .describe('Leads in flight brought to a changed stall_after_days, default_stall_days or overdue_after_hours'),
  availabilityReplaced: z
    .array(z.object({ user: z.string(), fields: z.array(z.string()) }))
    .describe('Availability overrides the file replaced, because it changed those fields of the person'),
  unchanged: z.boolean().describe('True (and 200, not 201) when the file equals the current version'),
});

const nullableTime = z.string().nullable();

export const simulationSchema = z.looseObject({
  leads: z.array(
    z.object({
      id: z.string(),
      pipeline: z.string(),
      stage: z.string(),
      status: z.string(),
      owner: z.string().nullable(),
      process_version: z.number().int(),
      fields: jsonObject,
      created_at: nullableTime,
      closed_at: nullableTime,
      close_reason: z.string().nullable(),
      error: z.string().nullable(),
    }),
  ),
  stays: z.array(
    z.object({
      lead: z.string(),
      pipeline: z.string(),
      stage: z.string(),
      entered_at: nullableTime,
      exited_at: nullableTime,
      exit: z.string().nullable(),
      via: z.string(),
      stalled_at: nullableTime,
    }),
  ),
  tasks: z.array(
    z.object({
      lead: z.string(),
      stage: z.string(),
      task: z.string(),
      status: z.string(),
      assignee: z.string().nullable(),
      due_at: nullableTime,
      completed_at: nullableTime,
      skip_reason: z.string().nullable(),
    }),
  ),
  owners: z.array(
    z.object({
      lead: z.string(),
      from: z.string().nullable(),
      to: z.string(),
      reason: z.string(),
      rule: z.string().nullable(),
      at: nullableTime,
    }),
  ),
  outbox: z.array(
    z.object({ id: z.string(), lead: z.string(), kind: z.string(), status: z.string(), payload: jsonObject }),
  ),
  rejected: z.array(
    z.object({
      line: z.number().int(),
      type: z.string(),
      lead: z.string(),
      error: z.object({ code: z.string(), message: z.string() }),
    }),
  ),
  timersFired: z.number().int(),
});

/** The field catalogue: every field a lead may have, for a front end's forms and filters. */
export const fieldCatalogueSchema = z.object({
  version: z.number().int().describe('The process version the catalogue is of'),
  open: z
    .boolean()
    .describe('true when the process declares no fields section: a lead then takes any field besides these built-ins'),
  items: z.array(
    z
      .object({
        key: z.string().describe("The name in a lead's fields, and in filters (field.<key>=)"),
        label: z.string(),
        type: z.enum(FIELD_TYPES).describe("money is a number in the organisation's currency"),
        options: z.array(z.string()).optional().describe("A select's values, in their stored spelling"),
        help: z.string().optional(),
        builtIn: z.boolean().describe('Read or written by Stageflow itself'),
      })
      .meta({ id: 'CatalogueField' }),
  ),
});
