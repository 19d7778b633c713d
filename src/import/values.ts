import { DateTime, IANAZone } from 'luxon';
import { fromWallClock } from '../domain/calendar.js';
import type { Mapping } from './mapping.js';

/** Parsing an export's dates and numbers as its mapping says; each returns a value or why not. */

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** A date read from a cell: the instant, and whether the cell held a calendar day only. */
export type ParsedDate = { ok: true; value: number; dateOnly: boolean } | { ok: false; message: string };

/**
 * A date or date-time in one of the mapping's formats. A date-time without an offset is read in
 * `zone` (the export's clock: the mapping's `dates.zone`, default the organisation's). A date
 * alone is a calendar day, and means that day in `dayZone`, the organisation's: its midnight
 * there, so reports that bucket by day or month in that zone put it on the day the file says.
 * `iso` also accepts the SQL-ish `2024-03-05 14:22:10` that Pipedrive and HubSpot write.
 *
 * Numeric formats (yyyy, MM, dd, HH, mm, ss, h, a and literals) are matched by a compiled pattern
 * and placed in the zone with the memoised offsets of the calendar: Luxon's parser asks Intl for
 * the zone offset on every call, which cost 60% of an import. Anything else goes to Luxon, and
 * test/import/values.test.ts checks the fast path against Luxon.
 */
export function parseDate(text: string, formats: readonly string[], zone: string, dayZone = zone): ParsedDate {
  const t = text.trim();
  for (const format of formats) {
    const fast = compiled(format);
    if (fast) {
      const parsed = fast(t, zone, dayZone);
      if (parsed !== null) return { ok: true, ...parsed };
    }
    // Offsets, fractions, names of months: Luxon, which is slow but only meets these few.
    const dateOnly = format !== 'iso' && isDayFormat(format);
    const dt =
      format === 'iso'
        ? tryIso(t, zone, dayZone)
        : DateTime.fromFormat(t, format, { zone: dateOnly ? dayZone : zone, setZone: false, locale: 'en-US' });
    if (dt.isValid)
      return { ok: true, value: dt.toMillis(), dateOnly: dateOnly || (format === 'iso' && ISO_DAY.test(t)) };
  }
  // An unknown zone makes every wall-clock time unplaceable: say so rather than "not a date".
  if (!IANAZone.isValidZone(zone) || !IANAZone.isValidZone(dayZone))
    return {
      ok: false,
      message: `"${t}" cannot be placed in time: unknown time zone "${IANAZone.isValidZone(zone) ? dayZone : zone}"`,
    };
  return { ok: false, message: `"${t}" is not a date (expected ${formats.map(describeFormat).join(' or ')})` };
}

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

function tryIso(t: string, zone: string, dayZone: string): DateTime {
  const z = ISO_DAY.test(t) ? dayZone : zone;
  const iso = DateTime.fromISO(t, { zone: z });
  return iso.isValid ? iso : DateTime.fromSQL(t, { zone: z });
}

/** A Luxon format without any time-of-day or offset token (quoted literals aside): a calendar day. */
function isDayFormat(format: string): boolean {
  return !/[HhmsSaTtZzXx]/.test(format.replace(/'[^']*'/g, ''));
}

function describeFormat(f: string): string {
  return f === 'iso' ? 'YYYY-MM-DD' : f;
}

type FastParser = (text: string, zone: string, dayZone: string) => { value: number; dateOnly: boolean } | null;

const fastParsers = new Map<string, FastParser | null>();

function compiled(format: string): FastParser | null {
  let p = fastParsers.get(format);
  if (p === undefined) fastParsers.set(format, (p = compileFormat(format)));
  return p;
}

const TOKENS: Record<string, { re: string; part: 'y' | 'M' | 'd' | 'H' | 'h' | 'm' | 's' | 'a' }> = {
  yyyy: { re: '(\\d{4})', part: 'y' },
  MM: { re: '(\\d{2})', part: 'M' },
  M: { re: '(\\d{1,2})', part: 'M' },
  dd: { re: '(\\d{2})', part: 'd' },
  d: { re: '(\\d{1,2})', part: 'd' },
  HH: { re: '(\\d{2})', part: 'H' },
  H: { re: '(\\d{1,2})', part: 'H' },
  hh: { re: '(\\d{2})', part: 'h' },
  h: { re: '(\\d{1,2})', part: 'h' },
  mm: { re: '(\\d{2})', part: 'm' },
  ss: { re: '(\\d{2})', part: 's' },
  a: { re: '([AaPp][Mm])', part: 'a' },
};

/** `iso` without an offset, or a Luxon format made only of numeric tokens and literals; else null. */
function compileFormat(format: string): FastParser | null {
  if (format === 'iso') {
    const re = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$/;
    return (text, zone, dayZone) => {
      const m = re.exec(text);
      if (!m) return null;
      const dateOnly = m[4] === undefined;
      const value = wallToEpoch(
        +m[1]!,
        +m[2]!,
        +m[3]!,
        +(m[4] ?? 0),
        +(m[5] ?? 0),
        +(m[6] ?? 0),
        dateOnly ? dayZone : zone,
      );
      return value === null ? null : { value, dateOnly };
    };
  }
  const parts: string[] = [];
  let source = '^';
  for (let i = 0; i < format.length;) {
    const token = ['yyyy', 'MM', 'dd', 'HH', 'hh', 'mm', 'ss', 'M', 'd', 'H', 'h', 'a'].find((k) =>
      format.startsWith(k, i),
    );
    if (token) {
      const spec = TOKENS[token]!;
      source += spec.re;
      parts.push(spec.part);
      i += token.length;
    } else if (/[A-Za-z']/.test(format[i]!)) {
      return null; // a token we do not compile (month names, …)
    } else {
      source += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      i++;
    }
  }
  if (!parts.includes('y') || !parts.includes('M') || !parts.includes('d')) return null;
  const re = new RegExp(`${source}$`);
  const dateOnly = !parts.includes('H') && !parts.includes('h');
  return (text, zone, dayZone) => {
    const m = re.exec(text);
    if (!m) return null;
    const v: Record<string, string> = {};
    parts.forEach((p, i) => (v[p] = m[i + 1]!));
    let hour = Number(v['H'] ?? v['h'] ?? 0);
    if (v['h'] !== undefined) {
      if (hour < 1 || hour > 12) return null;
      const pm = (v['a'] ?? 'am').toLowerCase() === 'pm';
      hour = (hour % 12) + (pm ? 12 : 0);
    }
    const value = wallToEpoch(
      +v['y']!,
      +v['M']!,
      +v['d']!,
      hour,
      +(v['m'] ?? 0),
      +(v['s'] ?? 0),
      dateOnly ? dayZone : zone,
    );
    return value === null ? null : { value, dateOnly };
  };
}

function wallToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, zone: string): number | null {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return null;
  // setUTCFullYear, not Date.UTC: Date.UTC reads the years 0 to 99 as 1900 to 1999.
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y, mo - 1, d);
  if (date.getUTCDate() !== d) return null; // 31 April, 29 February of a common year
  const at = fromWallClock(zone, date.getTime());
  // An unknown zone has no offsets: NaN must never pass as an instant (it reaches the store as NULL).
  return Number.isFinite(at) ? at : null;
}

/**
 * Thousands separators only in the whole part, in groups of three, and one decimal separator at
 * most: "1.500,50" read with "." for decimals would otherwise become 1.5005, and "12,5" 125.
 */
function separatorsFit(t: string, numbers: Mapping['numbers']): boolean {
  const [whole = '', ...fraction] = t.split(numbers.decimal);
  if (fraction.length > 1) return false;
  const th = numbers.thousands;
  if (th === '') return true;
  if (fraction.some((f) => f.includes(th))) return false;
  if (!whole.includes(th)) return true;
  const group = th.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^-?\\d{1,3}(${group}\\d{3})+$`).test(whole);
}

/** Signs that name one currency; a sign is used only when nothing else in the row or mapping says. */
const CURRENCY_SIGNS: Record<string, string> = { $: 'USD', '€': 'EUR', '£': 'GBP', '¥': 'JPY' };

/** A number, and the currency its text named: an ISO code before or after it (`USD 12,500.00`) or a sign. */
export type ParsedAmount =
  { ok: true; value: number; code: string | null; sign: string | null } | { ok: false; message: string };

/** A money amount or count: currency codes, signs and spaces set aside, the mapping's separators applied. */
export function parseNumber(text: string, numbers: Mapping['numbers']): ParsedAmount {
  const { core, code, sign } = amountCore(text);
  const value = readCore(core, numbers);
  if (value === 'separators')
    return {
      ok: false,
      message: `"${text.trim()}" does not read as a number with "${numbers.decimal}" for decimals${numbers.thousands ? ` and "${numbers.thousands}" for thousands` : ''} (set the mapping's number format)`,
    };
  if (value === null) return { ok: false, message: `"${text.trim()}" is not a number` };
  return { ok: true, value, code, sign };
}

/** The amount's digits and separators, and the currency its text named. */
function amountCore(text: string): { core: string; code: string | null; sign: string | null } {
  let t = text.trim();
  let code: string | null = null;
  const before = /^([A-Z]{3})\s*/.exec(t);
  if (before) {
    code = before[1] ?? null;
    t = t.slice(before[0].length);
  }
  const after = /\s*([A-Z]{3})$/.exec(t);
  if (after) {
    code ??= after[1] ?? null;
    t = t.slice(0, after.index);
  }
  const signChar = /[$€£¥]/.exec(t)?.[0];
  const sign = signChar === undefined ? null : (CURRENCY_SIGNS[signChar] ?? null);
  return { core: t.replace(/[$€£¥\u00a0]/g, '').trim(), code, sign };
}

function readCore(core: string, numbers: Mapping['numbers']): number | null | 'separators' {
  if (!separatorsFit(core, numbers)) return 'separators';
  let t = core;
  if (numbers.thousands !== '') t = t.split(numbers.thousands).join('');
  if (numbers.decimal === ',') t = t.replace(',', '.');
  t = t.trim();
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(t)) return null;
  return Number(t);
}

/**
 * How an amount reads with the mapping's separators and with "." and "," swapped: `ambiguous` is a
 * decimal separator followed by exactly three digits and nothing else ("12.500": 12.5, or 12,500
 * as German, French or Spanish exports write it), which only the rest of its column can decide.
 */
export type AmountReading = 'plain' | 'ambiguous' | 'both' | 'as-mapped' | 'swapped' | 'neither';

export function amountReading(text: string, numbers: Mapping['numbers']): AmountReading {
  const { core } = amountCore(text);
  if (!core.includes('.') && !core.includes(',')) return 'plain';
  const swapped = swappedSeparators(numbers);
  if (swapped === null) return 'plain';
  const mapped = typeof readCore(core, numbers) === 'number';
  const other = typeof readCore(core, swapped) === 'number';
  if (mapped && other) return new RegExp(`^-?\\d{1,3}\\${numbers.decimal}\\d{3}$`).test(core) ? 'ambiguous' : 'both';
  return mapped ? 'as-mapped' : other ? 'swapped' : 'neither';
}

/** "." and "," in each other's place; null when the mapping's thousands separator is neither. */
export function swappedSeparators(numbers: Mapping['numbers']): Mapping['numbers'] | null {
  if (numbers.thousands !== '.' && numbers.thousands !== ',') return null;
  return { decimal: numbers.thousands, thousands: numbers.decimal };
}
