import { offsetMinutes } from '../domain/calendar.js';
import type { Stamp } from './rebuild-history.js';

/**
 * A date alone means the midnight of that day in the organisation's zone (values.ts). Exports mix
 * dates with a time of day and dates without one: HubSpot's "Create Date" has a time, its "Close
 * Date" often not. Read literally, a deal created at 09:15 and closed "that day" closes nine hours
 * before it was created. So a date alone is placed, within its own day, no earlier than the
 * timed evidence of that same day: a stage entered "on the creation day" is entered at the
 * creation, and a close "on day D" is at the latest creation or stage entry of day D (the
 * creation's instant for a deal created and closed that day). That is the earliest instant the
 * file does not contradict: cycle lengths and stays become zero, never negative, and no time is
 * invented (the end of the day would add up to 24 hours, and put a same-day close later than a
 * next-day one). A date alone on an earlier day than the evidence is left as it is, so a close
 * or entry that is really before the creation is still refused or reported.
 */

/** A date from the export: its instant, the text a message quotes, whether it was a day alone. */
export interface DayStamp extends Stamp {
  dateOnly: boolean;
}

export interface DealDates<E extends DayStamp> {
  /** The creation as the export gives it (null: it has no creation column, or it is empty). */
  createdAt: DayStamp | null;
  /** When the deal entered its current stage (Pipedrive's "Last stage change"). */
  lastStageChange: DayStamp | null;
  /** Per-stage entry dates. */
  dated: readonly E[];
  closedAt: DayStamp | null;
}

export interface SettledDates<E extends DayStamp> {
  /** The creation: the export's, else the earliest stage entry, else the close; null without any date. */
  created: Stamp | null;
  lastStageChange: DayStamp | null;
  dated: E[];
  closedAt: DayStamp | null;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The calendar day an instant falls on in `zone`, as a day number (memoised offsets: no Intl call per row). */
function localDay(ms: number, zone: string): number {
  return Math.floor((ms + offsetMinutes(zone, ms) * MINUTE_MS) / DAY_MS);
}

/** A day alone before `floor` on the same day in `zone` moves up to it; anything else is as it was. */
function notBefore<S extends DayStamp>(d: S, floor: number, zone: string): S {
  return d.dateOnly && d.at < floor && localDay(d.at, zone) === localDay(floor, zone) ? { ...d, at: floor } : d;
}

export function settleSameDay<E extends DayStamp>(input: DealDates<E>, zone: string): SettledDates<E> {
  const entries: DayStamp[] = [...input.dated, ...(input.lastStageChange ? [input.lastStageChange] : [])];
  const earliest = entries.reduce<DayStamp | null>((a, d) => (a === null || d.at < a.at ? d : a), null);
  const created = input.createdAt ?? earliest ?? input.closedAt;
  if (created === null) return { created: null, ...input, dated: [...input.dated] };
  const dated = input.dated.map((d) => notBefore(d, created.at, zone));
  const lastStageChange = input.lastStageChange && notBefore(input.lastStageChange, created.at, zone);
  let closedAt = input.closedAt;
  if (closedAt?.dateOnly) {
    // The latest creation or entry on the close's own day; later days are not looked at.
    const day = localDay(closedAt.at, zone);
    let at = closedAt.at;
    for (const e of [created, ...dated, ...(lastStageChange ? [lastStageChange] : [])])
      if (e.at > at && localDay(e.at, zone) === day) at = e.at;
    if (at !== closedAt.at) closedAt = { ...closedAt, at };
  }
  return { created: { at: created.at, text: created.text }, lastStageChange, dated, closedAt };
}

/**
 * A closed deal's close from its close date and the time it entered its closed stage (HubSpot's
 * `Date entered "Closed Won (…)"`): the entry when the close date is empty, or a day alone on the
 * entry's own day (it gives that day its time); otherwise the close date, which the user may have
 * set on purpose to another day than the stage change.
 */
export function closeOf(closeDate: DayStamp | null, enteredClosed: DayStamp | null, zone: string): DayStamp | null {
  if (enteredClosed === null) return closeDate;
  if (closeDate === null) return enteredClosed;
  return closeDate.dateOnly && localDay(closeDate.at, zone) === localDay(enteredClosed.at, zone)
    ? enteredClosed
    : closeDate;
}
