import { fromWallClock, offsetMinutes } from '../domain/calendar.js';
import type { User } from '../domain/process-schema.js';

/**
 * When a person is at their desk, fast: the demo asks this a few million times, so it works on
 * wall-clock arithmetic with the calendar's cached zone offsets instead of building Luxon dates.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

export interface WorkPattern {
  zone: string;
  /** ISO weekdays, 1 = Monday. */
  days: readonly number[];
  startMinute: number;
  endMinute: number;
  /** Local dates (YYYY-MM-DD) the person is away. */
  away: ReadonlySet<string>;
}

function minutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function workPattern(u: User, orgZone: string): WorkPattern {
  const away = new Set<string>();
  for (const o of u.out_of_office) {
    for (let d = Date.parse(`${o.from}T00:00:00Z`); d <= Date.parse(`${o.to}T00:00:00Z`); d += DAY)
      away.add(new Date(d).toISOString().slice(0, 10));
  }
  const wh = u.working_hours;
  return {
    zone: u.timezone ?? orgZone,
    days: wh?.days ?? [1, 2, 3, 4, 5],
    startMinute: minutes(wh?.start ?? '09:00'),
    endMinute: minutes(wh?.end ?? '17:00'),
    away,
  };
}

/** ISO weekday of a local day number (days since 1970-01-01, a Thursday). */
function weekday(day: number): number {
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

function workday(p: WorkPattern, day: number): boolean {
  return p.days.includes(weekday(day)) && !p.away.has(new Date(day * DAY).toISOString().slice(0, 10));
}

/** The first moment at or after `at` when the person is at work (`at` itself if they are). */
export function nextAtWork(p: WorkPattern, at: number): number {
  const wall = at + offsetMinutes(p.zone, at) * MINUTE;
  let day = Math.floor(wall / DAY);
  const minute = (wall - day * DAY) / MINUTE;
  if (workday(p, day) && minute < p.endMinute) {
    if (minute >= p.startMinute) return at;
    return fromWallClock(p.zone, day * DAY + p.startMinute * MINUTE);
  }
  // A long absence is bounded: after 60 days the person is taken to be back.
  for (let i = 0; i < 60; i++) {
    day++;
    if (workday(p, day)) break;
  }
  return fromWallClock(p.zone, day * DAY + p.startMinute * MINUTE);
}

/** Minutes of the working day left after `at` (0 outside working hours). */
export function minutesLeftToday(p: WorkPattern, at: number): number {
  const wall = at + offsetMinutes(p.zone, at) * MINUTE;
  const day = Math.floor(wall / DAY);
  const minute = (wall - day * DAY) / MINUTE;
  if (!workday(p, day) || minute < p.startMinute || minute >= p.endMinute) return 0;
  return p.endMinute - minute;
}

/** Local hour (0-23) and ISO weekday at `at` in `zone`. */
export function localClock(zone: string, at: number): { hour: number; weekday: number } {
  const wall = at + offsetMinutes(zone, at) * MINUTE;
  const day = Math.floor(wall / DAY);
  return { hour: Math.floor((wall - day * DAY) / 3_600_000), weekday: weekday(day) };
}
