import { z } from 'zod';
import { isoTime, pageOf } from './common.js';

/** Quotas and forecast snapshots. */

export const quotaSchema = z
  .object({
    scope: z.string().describe('user or team'),
    subject: z.string().describe('The user or team id'),
    period: z.string().describe('A month 2026-11 or a quarter 2026-Q4'),
    amount: z.number().describe('In major units'),
    setBy: z.string().nullable(),
    setAt: isoTime,
  })
  .meta({ id: 'Quota' });

export const quotaListSchema = pageOf(quotaSchema);
export const quotaImportSchema = z.object({ imported: z.number().int() });

export const snapshotSchema = z
  .object({
    snapshotId: z.string(),
    period: z.string(),
    kind: z.string().describe('period_start or on_demand'),
    takenAt: isoTime,
    rows: z
      .array(z.record(z.string(), z.union([z.string(), z.number(), z.null()])))
      .describe(
        'The total (owner null) first, then one row per rep: owner, won, weighted, forecast, open_leads, ' +
          'without_close_date, past_close_date, past_close_value (null in snapshots taken before they were recorded), ' +
          'weighted_commit, weighted_best_case, weighted_pipeline; money in major units',
      ),
  })
  .meta({ id: 'ForecastSnapshot' });

export const snapshotListSchema = pageOf(snapshotSchema);
