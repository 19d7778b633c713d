import { DateTime } from 'luxon';
import { z } from 'zod';

/**
 * Time filters in a list's query: an ISO 8601 date and time with its offset, or a date alone,
 * which means the start of that day in the organisation's time zone (the zone the process names,
 * the one people there think in). The zone is known only per request, so the schema checks the
 * spelling and `instantOf` turns the value into epoch milliseconds in the handler.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = z.iso.datetime({ offset: true });

/** A date alone, or an ISO 8601 date and time with its offset: what a time filter accepts. */
export function isTime(v: string): boolean {
  if (DATE_ONLY.test(v)) return DateTime.fromISO(v, { zone: 'UTC' }).isValid;
  return dateTime.safeParse(v).success;
}

/** An optional time filter; `bound` says which end of the half-open range it is. */
export function timeQuery(bound: 'from' | 'to') {
  return z
    .string()
    .refine(isTime, {
      // The value is quoted (cut short) so a client sees which of its inputs was refused.
      error: (iss) =>
        `not an instant or a date ${JSON.stringify(String(iss.input).slice(0, 40))}: give a date (2026-03-31) or an ISO 8601 date and time with offset (2026-03-31T09:00:00Z)`,
    })
    .optional()
    .describe(
      bound === 'from'
        ? 'From this time on (inclusive): ISO 8601 with offset, or a date for the start of that day in the organisation’s time zone'
        : 'Before this time (exclusive): ISO 8601 with offset, or a date for the start of that day in the organisation’s time zone',
    );
}

/** The instant a checked time filter names, a date alone read in `zone`. */
export function instantOf(v: string | undefined, zone: string): number | undefined {
  if (v === undefined) return undefined;
  if (DATE_ONLY.test(v)) return DateTime.fromISO(v, { zone }).toMillis();
  return Date.parse(v);
}
