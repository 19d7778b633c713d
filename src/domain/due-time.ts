import { DateTime } from 'luxon';
import { z } from 'zod';

/**
 * A due time as a person gives one for a task they add ("call back Tuesday at 10"): an ISO 8601
 * date and time, with its offset, or without one, which is then read in the organisation's time
 * zone, as the CLI reads times elsewhere. A date alone is refused: a task is due at a time.
 */

const WITH_OFFSET = z.iso.datetime({ offset: true });
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

export const DUE_TIME_HINT =
  'give a date and time, e.g. 2026-12-01T10:00 (in the organisation’s time zone) or 2026-12-01T10:00:00+01:00';

/** Whether `v` is a due time this module reads. */
export function isDueTime(v: string): boolean {
  return dueInstant(v, 'UTC') !== undefined;
}

/** The instant a due time names, one without an offset read in `zone`; undefined if it is none. */
export function dueInstant(v: string, zone: string): number | undefined {
  if (WITH_OFFSET.safeParse(v).success) return Date.parse(v);
  if (!LOCAL.test(v)) return undefined;
  const t = DateTime.fromISO(v, { zone });
  return t.isValid ? t.toMillis() : undefined;
}
