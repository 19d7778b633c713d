import { z } from 'zod';
import { isoTime } from './common.js';

export const boardQuery = z
  .object({
    pipeline: z.string().min(1).optional().describe('One pipeline only'),
    owner: z.string().min(1).optional().describe('Owner id; "me" for the caller'),
    team: z.string().min(1).optional().describe("Leads owned by the team's members: its id or name, in any case"),
    per_stage: z.coerce
      .number()
      .int()
      .min(0)
      .max(500)
      .default(50)
      .describe('Leads listed per stage, longest in the stage first; counts and values cover them all'),
  })
  .strict();

export const boardSchema = z.object({
  stages: z
    .array(
      z.object({
        pipeline: z.string(),
        stage: z.string(),
        name: z.string().describe("The stage's name; its id when the current process no longer has it"),
        index: z.number().int().nullable().describe('Position in its pipeline; null for a stage the process dropped'),
        count: z.number().int().describe('Open leads in the stage'),
        value: z.number().describe('Sum of their values (leads without one count as nothing)'),
        shown: z.number().int().describe('How many of them `leads` lists'),
      }),
    )
    .describe('Every stage of the current process in order (empty ones too), then stages only leads still know'),
  leads: z
    .array(
      z.object({
        id: z.string(),
        name: z.string().nullable(),
        pipeline: z.string(),
        stage: z.string(),
        status: z.string(),
        owner: z.string().nullable(),
        value: z.number().nullable(),
        stageEnteredAt: isoTime,
      }),
    )
    .describe('Open leads, per stage the longest there first, up to per_stage each'),
  openTasks: z.array(
    z.object({
      lead: z.string(),
      template: z.string(),
      assignee: z.string().nullable(),
      dueAt: isoTime,
    }),
  ),
  outboxByKind: z
    .record(z.string(), z.number())
    .describe('Undelivered outbox rows by kind: sent and cancelled ones left out (admins; empty for others)'),
});
