import { DateTime } from 'luxon';
import type { DueSpec, Process, User } from './process-schema.js';

/** Calendar and clock rules. Times are epoch milliseconds; zones are IANA names. */

export interface OrgCalendar {
  timezone: string;
  workweek: readonly number[];
  holidays: ReadonlySet<string>;
}

export function orgCalendar(p: Process): OrgCalendar {
  return {
    timezone: p.organisation.timezone,
    workweek: p.organisation.workweek,
    holidays: new Set(p.organisation.holidays),
  };
}

function isBusinessDay(d: DateTime, cal: OrgCalendar): boolean {
  return cal.workweek.includes(d.weekday) && !cal.holidays.has(d.toISODate() ?? '');
}

/**
 * When a task falls due. Days keep the wall-clock time in the organisation's zone, so a task
 * due "in 2 business days" at 09:00 stays at 09:00 across a DST change; `at` sets the time of day.
 */
export function dueAt(enteredAt: number, due: DueSpec, cal: OrgCalendar): number {
  if (due.hours !== undefined) return enteredAt + Math.round(due.hours * 3_600_000);
  const local = DateTime.fromMillis(enteredAt, { zone: cal.timezone });
  // Count days on the bare calendar (a UTC date has no DST), then place the wall-clock time back
  // in the zone once: the same answer as stepping in the zone, with two offset look-ups, not 2n.
  let day = DateTime.utc(local.year, local.month, local.day);
  if (due.days !== undefined) day = day.plus({ days: due.days });
  if (due.business_days !== undefined) {
    let left = due.business_days;
    // Zero business days from a weekend means the next business day.
    if (left === 0) while (!isBusinessDay(day, cal)) day = day.plus({ days: 1 });
    while (left > 0) {
      day = day.plus({ days: 1 });
      if (isBusinessDay(day, cal)) left--;
    }
  }
  const [hour, minute] = due.at !== undefined ? due.at.split(':').map(Number) : [local.hour, local.minute];
  const wall = { year: day.year, month: day.month, day: day.day, hour, minute };
  const seconds =
    due.at !== undefined ? { second: 0, millisecond: 0 } : { second: local.second, millisecond: local.millisecond };
  return DateTime.fromObject({ ...wall, ...seconds }, { zone: cal.timezone }).toMillis();
}

export function userZone(u: User, p: Process): string {
  return u.timezone ?? p.organisation.timezone;
}

export function isOutOfOffice(u: User, at: number, zone: string): boolean {
  const day = DateTime.fromMillis(at, { zone }).toISODate() ?? '';
  return u.out_of_office.some((o) => o.from <= day && day <= o.to);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** A user without working hours is always at work. */
export function inWorkingHours(u: User, at: number, zone: string): boolean {
  const wh = u.working_hours;
  if (!wh) return true;
  const t = DateTime.fromMillis(at, { zone });
  const minute = t.hour * 60 + t.minute;
  return wh.days.includes(t.weekday) && minute >= minutesOf(wh.start) && minute < minutesOf(wh.end);
}

/** The first moment at or after `at` when the user is at work and not away; null if none within 60 days. */
export function nextWorkStart(u: User, at: number, zone: string): number | null {
  if (inWorkingHours(u, at, zone) && !isOutOfOffice(u, at, zone)) return at;
  const wh = u.working_hours;
  const start = wh ? minutesOf(wh.start) : 0;
  let d = DateTime.fromMillis(at, { zone }).startOf('day');
  for (let i = 0; i <= 60; i++) {
    // Set the wall-clock time rather than adding minutes, which would drift on DST change days.
    const candidate = d.set({ hour: Math.floor(start / 60), minute: start % 60 });
    const ms = candidate.toMillis();
    if (ms >= at && (!wh || wh.days.includes(candidate.weekday)) && !isOutOfOffice(u, ms, zone)) return ms;
    d = d.plus({ days: 1 });
  }
  return null;
}

/** Keys of the capacity windows (day and ISO week in the user's zone) that `at` falls in. */
export function capacityKeys(at: number, zone: string): { day: string; week: string } {
  const t = DateTime.fromMillis(at, { zone });
  return { day: `D${t.toISODate() ?? ''}`, week: `W${t.toFormat("kkkk-'W'WW")}` };
}
