import { DateTime } from 'luxon';

/**
 * A lead's `expected_close`. A date alone (`2027-03-31`) is a calendar day, and the organisation
 * works in its own zone: it means that day there, from its midnight (its first instant, on a day
 * a DST change skips midnight). A time of day without an offset is a wall-clock time there too;
 * a time with an offset (or `Z`) is the instant it says. Whatever was typed, the field is kept as
 * that instant in the organisation's zone with the zone's offset (`2027-03-31T00:00:00+09:00`,
 * as an import writes it), so the field reads as the organisation's day wherever it is shown
 * and the lead's `expected_close` column, parsed from it, is the same instant on every machine.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;
const HAS_OFFSET = /(Z|[+-]\d{2}:\d{2})$/;

/** A value the field takes: an existing calendar day, or an existing date and time. */
export function isCloseDate(v: string): boolean {
  if (!DATE_ONLY.test(v) && !DATE_TIME.test(v)) return false;
  // Luxon, not Date.parse: Date.parse takes 2027-02-30 for 2 March.
  return DateTime.fromISO(v, { zone: 'UTC' }).isValid;
}

/** The instant `v` means in the organisation's `zone`, or null for a value that is not a close date. */
export function closeDateInstant(v: string, zone: string): DateTime | null {
  if (!isCloseDate(v)) return null;
  if (DATE_ONLY.test(v)) return DateTime.fromISO(v, { zone }).startOf('day');
  const at = HAS_OFFSET.test(v) ? DateTime.fromISO(v, { setZone: true }) : DateTime.fromISO(v, { zone });
  return at.isValid ? at.setZone(zone) : null;
}

/**
 * The field as stored: the instant in the organisation's zone with its offset, milliseconds only
 * when there are some. A value that is not a close date is returned as it is (validation has
 * refused it already where people type it).
 */
export function closeDateField(v: string, zone: string): string {
  const at = closeDateInstant(v, zone);
  if (!at) return v;
  const text = at.toISO({ suppressMilliseconds: true, includeOffset: true }) ?? v;
  // `+00:00`, not `Z`, as the import writes it: the field always names its offset the same way.
  return text.endsWith('Z') ? `${text.slice(0, -1)}+00:00` : text;
}

/**
 * How the API and the export show the expected close: the instant with milliseconds, in the
 * offset the field was stored with (the organisation's), so it parses to the lead's
 * `expected_close` column and reads as the organisation's day (`2026-03-31T00:00:00.000+09:00`);
 * with a zero offset it is `…Z`, exactly as every other time. A field stored before close dates
 * carried their zone (or one not matching the column) shows the column in UTC.
 */
export function presentCloseDate(column: number | null, field: unknown): string | null {
  if (column === null) return null;
  if (typeof field === 'string' && DATE_TIME.test(field) && HAS_OFFSET.test(field)) {
    const at = DateTime.fromISO(field, { setZone: true });
    if (at.isValid && at.toMillis() === column) return at.toISO();
  }
  return new Date(column).toISOString();
}

/**
 * Whole calendar days between two close dates in the organisation's zone, and the fraction of a
 * day for times of day: 1 March to 31 March is 30 days in New York although the spring DST change
 * makes it 30 days less one hour.
 */
export function closeDateDays(fromMs: number, toMs: number, zone: string): number {
  const from = DateTime.fromMillis(fromMs, { zone });
  const to = DateTime.fromMillis(toMs, { zone });
  return to.diff(from, 'days').days;
}

const DAY_MS = 86_400_000;

/**
 * Close dates read for one pass over many changes: each distinct stored value and each distinct
 * instant goes through Luxon once. A zone-aware Luxon call costs tens of microseconds, and a
 * quarter's slippage reads tens of thousands of changes among a few thousand dates.
 */
export class CloseDateReader {
  private readonly instants = new Map<string, number | null>();
  private readonly localDays = new Map<number, { day: number; msOfDay: number }>();

  constructor(private readonly zone: string) {}

  /** A stored value (an ISO date or date and time) as epoch ms, as `closeDateInstant` reads it. */
  instant(v: string): number | null {
    let at = this.instants.get(v);
    if (at === undefined) {
      at = closeDateInstant(v, this.zone)?.toMillis() ?? null;
      this.instants.set(v, at);
    }
    return at;
  }

  /** `closeDateDays(fromMs, toMs, zone)`: two instants at the same wall-clock time are whole days apart. */
  daysBetween(fromMs: number, toMs: number): number {
    const from = this.localDay(fromMs);
    const to = this.localDay(toMs);
    if (from.msOfDay === to.msOfDay) return to.day - from.day;
    return closeDateDays(fromMs, toMs, this.zone);
  }

  private localDay(ms: number): { day: number; msOfDay: number } {
    let local = this.localDays.get(ms);
    if (!local) {
      const t = DateTime.fromMillis(ms, { zone: this.zone });
      local = {
        day: Date.UTC(t.year, t.month - 1, t.day) / DAY_MS,
        msOfDay: ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.millisecond,
      };
      this.localDays.set(ms, local);
    }
    return local;
  }
}
