import { z } from 'zod';
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemType } from '../problem.js';
import { checklistItemSchema } from './lead-detail.js';

/**
 * The one schema of every error answer (RFC 9457 application/problem+json), as problemBody in
 * problem.ts writes it. Extension members are allowed, as the RFC allows them: an import's
 * refusal also carries its whole `report`, a strict stage's refusal its `gate`.
 */

const TYPE_URIS = Object.keys(PROBLEM_TYPES).map((t) => PROBLEM_BASE + t) as [string, ...string[]];

export const problemSchema = z
  .looseObject({
    type: z.enum(TYPE_URIS).describe('Stable per kind of error: clients branch on it (docs/api.md lists them)'),
    title: z.string().describe('The same for every problem of this type'),
    status: z.number().int().describe('The HTTP status'),
    detail: z.string().optional().describe('What went wrong with this request'),
    instance: z.string().describe('The path of the request'),
    code: z
      .string()
      .optional()
      .describe('A refusal of the process rules: the engine’s stable code (gate_refused, lead_closed, …)'),
    errors: z
      .array(
        z.object({
          field: z.string().describe('Where: body.fields.value, query.limit, params.id, header.if-match, line 12'),
          message: z.string(),
        }),
      )
      .optional()
      .describe(
        'Every failing field of a validation error; for a refusal about an input (an unknown stage, user or pipeline), that input',
      ),
    gate: z
      .object({
        pipeline: z.string(),
        stage: z.string().describe('The strict stage that holds the lead'),
        skipped: z.boolean().describe('The move would skip the stage: the lead must go through it'),
        missingFields: z.array(z.string()).describe('Its required fields the lead has not set'),
        unmetGoal: z.array(checklistItemSchema).describe("Its goal's checklist lines not met"),
      })
      .optional()
      .describe('A gate_refused: what the strict stage still asks for before the lead may pass it'),
  })
  .meta({ id: 'Problem', description: 'An RFC 9457 problem: every error answer has this shape.' });

export function problemTypeUri(type: ProblemType): string {
  return PROBLEM_BASE + type;
}
