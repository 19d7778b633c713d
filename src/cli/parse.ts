import { DateTime } from 'luxon';
import type { Fields, FieldValue } from '../domain/conditions.js';
import { instantOf, isTime } from '../domain/time-filter.js';
import { UsageError } from './errors.js';

/** Turning command-line strings into typed values, with errors that name the option and the value. */

/** Commander collector for repeatable options such as `--field k=v --field k2=v2`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

// Leading zeros stay text: "007" or a postcode like "01067" is an identifier, not a number.
const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

/** `k=v` → a field value: numbers, true/false and null become typed values, anything else stays text. */
export function parseFieldValue(raw: string): FieldValue {
  if (NUMBER.test(raw)) return Number(raw);
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  if (raw === 'null') return null;
  return raw;
}

export function parseFields(pairs: readonly string[], option = '--field'): Fields {
  const fields: Fields = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`${option} ${JSON.stringify(pair)}: expected k=v`);
    const key = pair.slice(0, eq).trim();
    if (key === '') throw new UsageError(`${option} ${JSON.stringify(pair)}: the field name is empty`);
    fields[key] = parseFieldValue(pair.slice(eq + 1));
  }
  return fields;
}

/** An ISO 8601 time; without an offset it is read as UTC, so a replay means the same instant everywhere. */
export function parseTime(raw: string, option: string): number {
  const t = DateTime.fromISO(raw, { zone: 'utc' });
  if (!t.isValid)
    throw new UsageError(`${option} ${JSON.stringify(raw)}: not an ISO 8601 time (e.g. 2026-03-06T10:00:00Z)`);
  return t.toMillis();
}

/**
 * A time filter read exactly as the API reads one (domain/time-filter.ts): a date alone is the start of
 * that day in `zone` (the organisation's, where people think in days), else an ISO 8601 date and
 * time with its offset; anything else (a week, a month, a time without offset) is refused.
 */
export function parseTimeFilter(raw: string, option: string, zone: string): number {
  const at = isTime(raw) ? instantOf(raw, zone) : undefined;
  if (at === undefined)
    throw new UsageError(
      `${option} ${JSON.stringify(raw)}: give a date (2026-03-31) or an ISO 8601 date and time with offset (2026-03-31T09:00:00Z)`,
    );
  return at;
}

export function parsePositiveInt(raw: string, option: string): number {
  if (!/^[1-9]\d*$/.test(raw))
    throw new UsageError(`${option} ${JSON.stringify(raw)}: expected a positive whole number`);
  return Number(raw);
}
