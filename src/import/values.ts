import { DateTime } from 'luxon';
import type { Mapping } from './mapping.js';

/** Parsing an export's dates and numbers as its mapping says; each returns a value or why not. */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/**
 * A date or date-time in one of the mapping's formats. Dates without an offset are read in `zone`
 * (a date alone means its midnight there). `iso` also accepts the SQL-ish `2024-03-05 14:22:10`
 * that Pipedrive and HubSpot write.
 */
export function parseDate(text: string, formats: readonly string[], zone: string): Parsed<number> {
  const t = text.trim();
  for (const format of formats) {
    const dt =
      format === 'iso' ? tryIso(t, zone) : DateTime.fromFormat(t, format, { zone, setZone: false, locale: 'en-US' });
    if (dt.isValid) return { ok: true, value: dt.toMillis() };
  }
  return { ok: false, message: `"${t}" is not a date (expected ${formats.map(describeFormat).join(' or ')})` };
}

function tryIso(t: string, zone: string): DateTime {
  const iso = DateTime.fromISO(t, { zone });
  return iso.isValid ? iso : DateTime.fromSQL(t, { zone });
}

function describeFormat(f: string): string {
  return f === 'iso' ? 'YYYY-MM-DD' : f;
}

/** A money amount or count: currency signs and spaces dropped, the mapping's separators applied. */
export function parseNumber(text: string, numbers: Mapping['numbers']): Parsed<number> {
  let t = text
    .trim()
    .replace(/^[A-Z]{3}\s*/, '')
    .replace(/\s*[A-Z]{3}$/, '');
  t = t.replace(/[$€£¥\u00a0]/g, '');
  if (numbers.thousands !== '') t = t.split(numbers.thousands).join('');
  if (numbers.decimal === ',') t = t.replace(',', '.');
  t = t.trim();
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(t)) return { ok: false, message: `"${text.trim()}" is not a number` };
  return { ok: true, value: Number(t) };
}
