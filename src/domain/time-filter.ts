import { DateTime } from 'luxon';
import { z } from 'zod';

/**
 * A time filter as people write one, in the API's query strings and the CLI's options alike: an
 * ISO 8601 date and time with its offset, or a date alone, which means the start of that day in
 * the organisation's time zone (the zone the process names, the one people there think in).
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = z.iso.datetime({ offset: true });

/** A date alone, or an ISO 8601 date and time with its offset: what a time filter accepts. */
export function isTime(v: string): boolean {
  if (DATE_ONLY.test(v)) return DateTime.fromISO(v, { zone: 'UTC' }).isValid;
  return dateTime.safeParse(v).success;
}

/** The instant a checked time filter names, a date alone read in `zone`. */
export function instantOf(v: string | undefined, zone: string): number | undefined {
  if (v === undefined) return undefined;
  if (DATE_ONLY.test(v)) return DateTime.fromISO(v, { zone }).toMillis();
  return Date.parse(v);
}
