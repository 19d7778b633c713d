import { z } from 'zod';
import { itemsOf } from './common.js';

/** Reports: the list, and one report's output (the JSON of `stageflow report NAME --format json`). */

export const reportListSchema = itemsOf(
  z.object({
    name: z.string(),
    description: z.string(),
    by: z.array(z.string()).describe('The groupings it takes in by='),
    options: z.record(z.string(), z.string()).describe('Its own query options, with what each does'),
  }),
);

/** Loose: a report may add top-level members (docs/reports.md), and none may be dropped on the way out. */
export const reportSchema = z
  .looseObject({
    report: z.string(),
    from: z.string().describe('First day of the period, in the organisation’s time zone'),
    to: z.string().describe('Day after the period (half-open)'),
    by: z.string().nullable().describe('The grouping the rows carry'),
    pipeline: z.string().nullable(),
    rows: z
      .array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])))
      .describe('Columns per report: docs/reports.md'),
    summary: z.record(z.string(), z.unknown()).optional(),
    notes: z.array(z.string()).optional(),
  })
  .meta({ id: 'Report' });
