import { z } from 'zod';
import { isTime } from '../domain/time-filter.js';

/**
 * Time filters in a list's query (domain/time-filter.ts says what they accept). The zone is known
 * only per request, so the schema checks the spelling and the handler turns the value into epoch
 * milliseconds with `instantOf`.
 */

/** An optional time filter; `bound` says which end of the half-open range it is. */
export function timeQuery(bound: 'from' | 'to', dayZone = 'the organisation’s') {
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
        ? `From this time on (inclusive): ISO 8601 with offset, or a date for the start of that day in ${dayZone} time zone`
        : `Before this time (exclusive): ISO 8601 with offset, or a date for the start of that day in ${dayZone} time zone`,
    );
}
