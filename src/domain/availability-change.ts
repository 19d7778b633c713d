import { z } from 'zod';
import { AVAILABILITY_FIELDS, type AvailabilityField, type AvailabilityOverride } from './availability.js';

/**
 * A change of a person's availability overrides as people write it: the body of
 * PUT /users/{id}/availability, which `stageflow user availability` builds from its options and
 * checks with this same schema, so the two cannot accept different things.
 */

/** The API's names of the fields an override holds, in the order they are shown. */
export const AVAILABILITY_API_NAME: Record<AvailabilityField, string> = {
  active: 'active',
  out_of_office: 'outOfOffice',
  capacity: 'capacity',
  working_hours: 'workingHours',
};

const localDate = z.iso.date();
const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM');

export const availabilityChangeSchema = z
  .object({
    active: z.boolean().nullable().optional(),
    outOfOffice: z
      .array(
        z
          .object({ from: localDate, to: localDate })
          .strict()
          .refine((o) => o.to >= o.from, { message: 'must not be before "from"', path: ['to'] }),
      )
      .nullable()
      .optional(),
    capacity: z
      .object({
        per_day: z.number().int().positive().optional(),
        per_week: z.number().int().positive().optional(),
        max_open: z.number().int().positive().optional(),
      })
      .strict()
      .nullable()
      .optional(),
    workingHours: z
      .object({
        days: z.array(z.number().int().min(1).max(7)).min(1),
        start: clock,
        end: clock,
      })
      .strict()
      .refine((h) => h.start < h.end, {
        message: 'must be after start (shifts past midnight are not supported)',
        path: ['end'],
      })
      .nullable()
      .optional(),
  })
  .strict()
  .describe(
    'Each field given replaces the override of it as a whole; null drops the override, so the process file’s value applies again',
  );

export type AvailabilityChangeBody = z.infer<typeof availabilityChangeSchema>;

/** What a change does: the fields it sets (each replacing that override whole) and those it drops. */
export interface AvailabilityChange {
  set: AvailabilityOverride;
  dropped: AvailabilityField[];
}

export function availabilityChangeOf(body: AvailabilityChangeBody): AvailabilityChange {
  const given: Record<AvailabilityField, unknown> = {
    active: body.active,
    out_of_office: body.outOfOffice,
    capacity: body.capacity,
    working_hours: body.workingHours,
  };
  const set: AvailabilityOverride = {};
  for (const f of AVAILABILITY_FIELDS)
    if (given[f] !== undefined && given[f] !== null) Object.assign(set, { [f]: given[f] });
  return { set, dropped: AVAILABILITY_FIELDS.filter((f) => given[f] === null) };
}

/** The fields a change touches, by their API names: what the audit row records (never the dates). */
export function changedFields(change: AvailabilityChange): string[] {
  return AVAILABILITY_FIELDS.filter((f) => f in change.set || change.dropped.includes(f)).map(
    (f) => AVAILABILITY_API_NAME[f],
  );
}
