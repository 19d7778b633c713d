import { z } from 'zod';
import { isoTime, pageOf } from './common.js';

/** Accounts, users with their routing data, teams, sign-in and API tokens. */

export const accountSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    role: z.string().describe('admin, manager or rep'),
    canEditProcess: z.boolean(),
    disabled: z.boolean(),
    createdAt: isoTime,
    version: z.number().int().describe('The ETag; send it back in If-Match'),
  })
  .meta({ id: 'Account' });

const workingHours = z.object({ days: z.array(z.number().int()), start: z.string(), end: z.string() });

export const userSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    account: accountSchema.nullable().describe('The sign-in account; null for a process user without one'),
    routing: z
      .object({
        territories: z.array(z.string()),
        products: z.array(z.string()),
        tier: z.string().nullable(),
        weight: z.number(),
        active: z.boolean().describe('This and the availability below are the values routing uses'),
        timezone: z.string().nullable(),
        workingHours: workingHours.nullable(),
        outOfOffice: z.array(z.object({ from: z.string(), to: z.string() })),
        capacity: z.object({
          per_day: z.number().int().optional(),
          per_week: z.number().int().optional(),
          max_open: z.number().int().optional(),
        }),
        availabilitySetBy: z
          .object({
            fields: z.array(z.string()).describe('Of active, outOfOffice, capacity, workingHours'),
            by: z.string().nullable(),
            at: isoTime,
          })
          .nullable()
          .describe(
            'The fields above that a manager set through PUT /users/{id}/availability, over the process file’s values; null when all are the file’s',
          ),
        availabilityTag: z
          .string()
          .describe('The entity tag of the availability above: send it as If-Match to PUT /users/{id}/availability'),
      })
      .nullable()
      .describe('As a user of the process (assignment); null for an account the process does not name'),
    teams: z.array(z.string()),
  })
  .meta({ id: 'User' });

export const userListSchema = pageOf(userSchema);

export const teamListSchema = pageOf(
  z.object({ id: z.string(), name: z.string(), manager: z.string().nullable(), members: z.array(z.string()) }),
);

export const loginSchema = z.object({
  user: accountSchema,
  csrfToken: z.string().describe('Send it as X-CSRF-Token with every write made with the cookie'),
  expiresAt: isoTime.describe('When the session ends at the latest'),
});

export const meSchema = z.object({
  user: accountSchema,
  via: z.enum(['session', 'token']),
  scopes: z.array(z.string()).describe('A session: ["*"]; a token: its scopes'),
  csrfToken: z.string().optional().describe('A session’s CSRF token'),
});

export const tokenSchema = z
  .object({
    id: z.string(),
    user: z.string(),
    name: z.string(),
    scopes: z.array(z.string()),
    createdAt: isoTime,
    expiresAt: isoTime,
    revokedAt: isoTime.nullable(),
    lastUsedAt: isoTime.nullable(),
  })
  .meta({ id: 'ApiToken' });

export const tokenListSchema = pageOf(tokenSchema);
export const tokenCreatedSchema = tokenSchema.extend({
  token: z.string().describe('The secret (sf_pat_…): shown in this answer only'),
});
