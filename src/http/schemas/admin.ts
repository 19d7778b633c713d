import { z } from 'zod';
import { isoTime, itemsOf, jsonObject, pageOf } from './common.js';

/** The outbox, the audit log, the scheduler by hand, the server's configuration. */

export const outboxListSchema = pageOf(
  z
    .object({
      id: z.string().describe('Also the idempotency key of its delivery'),
      lead: z.string(),
      kind: z.string(),
      status: z
        .string()
        .describe(
          'pending, sending (a worker holds it), sent, kept (mail written to a file while SMTP_URL was unset, not sent), failed, dead or cancelled',
        ),
      attempts: z.number().int(),
      nextAttemptAt: isoTime,
      createdAt: isoTime,
      lastError: z.string().nullable(),
      lastAttemptAt: isoTime.nullable(),
      detail: z.string().nullable().describe('What the far side answered when it took the row'),
      payload: jsonObject,
      series: z
        .number()
        .int()
        .nullable()
        .describe(
          "The row's outbox series: a lead created again under a deleted lead's id starts a new one, so rows of an earlier series are the deleted lead's. Null for a list erasure",
        ),
    })
    .meta({ id: 'OutboxRow' }),
);

export const retriedSchema = z.object({ retried: z.string() });
export const cancelledSchema = z.object({ cancelled: z.string() });
export const replayedSchema = z.object({
  replayed: z.number().int().describe('Dead rows queued again'),
  skipped: z.number().int().describe('Dead rows left dead: final refusals, replayed only with all=true'),
});

export const auditListSchema = pageOf(
  z
    .object({
      id: z.string(),
      at: isoTime,
      actor: z.string(),
      action: z.string(),
      target: z.string().nullable(),
      details: jsonObject,
    })
    .meta({ id: 'AuditEntry' }),
);

export const tickSchema = z.object({ fired: z.number().int().describe('Timers fired'), at: isoTime });

export const configListSchema = itemsOf(
  z.object({ name: z.string(), value: z.string().describe('Credentials show as (set) or (unset)'), doc: z.string() }),
);
