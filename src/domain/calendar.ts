import { DateTime, IANAZone } from 'luxon';
import type { DateAfter, DueSpec, Process, User } from './process-schema.js';

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

const MINUTE = 60_000;
const DAY = 86_400_000;
// Offsets only change at whole quarter hours of UTC in every zone in use, so a quarter-hour
// bucket is exact; Intl is slow (it dominated the engine's profile), the cache is not. Most days
// have one offset throughout, so a day is looked up once and only transition days go by quarter hour.
const OFFSET_BUCKET = 15 * MINUTE;
const offsets = new Map<string, Map<number, number>>();
const dayOffsets = new Map<string, Map<number, number | null>>();

function rawOffset(zone: string, ms: number): number {
  return IANAZone.create(zone).offset(ms);
}

/** The zone's UTC offset in minutes at `ms`, memoised per day (per quarter hour on a transition day). */
export function offsetMinutes(zone: string, ms: number): number {
  let byDay = dayOffsets.get(zone);
  if (!byDay) dayOffsets.set(zone, (byDay = new Map()));
  const day = Math.floor(ms / DAY);
  let whole = byDay.get(day);
  if (whole === undefined) {
    const start = rawOffset(zone, day * DAY);
    // One offset at both ends of the day and at its middle: no transition inside (none is shorter than 12 h).
    whole =
      start === rawOffset(zone, day * DAY + DAY / 2) && start === rawOffset(zone, day * DAY + DAY - 1) ? start : null;
    if (byDay.size > 100_000) byDay.clear();
    byDay.set(day, whole);
  }
  if (whole !== null) return whole;
  let byBucket = offsets.get(zone);
  if (!byBucket) offsets.set(zone, (byBucket = new Map()));
  const bucket = Math.floor(ms / OFFSET_BUCKET);
  let offset = byBucket.get(bucket);
  if (offset === undefined) {
    offset = rawOffset(zone, ms);
    if (byBucket.size > 200_000) byBucket.clear();
    byBucket.set(bucket, offset);
  }
  return offset;
}

/**
 * Epoch ms of a wall-clock time (given as if it were UTC) in `zone`. A time that happens twice
 * (the repeated hour when DST ends) is its first occurrence, as java.time and RFC 5545 choose, in
 * every zone alike; a time skipped by DST moves forward, as in Luxon.
 */
export function fromWallClock(zone: string, wall: number): number {
  // The real instant is within a day of `wall` read as UTC, so the offsets a day either side are
  // those on both sides of any transition near it: each that maps back to `wall` is an occurrence.
  let first: number | null = null;
  for (const o of [offsetMinutes(zone, wall - DAY), offsetMinutes(zone, wall), offsetMinutes(zone, wall + DAY)]) {
    const t = wall - o * MINUTE;
    if (offsetMinutes(zone, t) === o && (first === null || t < first)) first = t;
  }
  if (first !== null) return first;
  const o1 = offsetMinutes(zone, wall);
  let guess = wall - o1 * MINUTE;
  const o2 = offsetMinutes(zone, guess);
  if (o1 === o2) return guess;
  guess -= (o2 - o1) * MINUTE;
  const o3 = offsetMinutes(zone, guess);
  if (o2 === o3) return guess;
  return wall - Math.min(o2, o3) * MINUTE;
}

/** `day` is a local calendar day as UTC midnight. */
function isBusinessDay(day: number, cal: OrgCalendar): boolean {
  const d = new Date(day);
  const weekday = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return cal.workweek.includes(weekday) && !cal.holidays.has(d.toISOString().slice(0, 10));
}

/**
 * When a task falls due. Days keep the wall-clock time in the zone, so a task due "in 2
 * business days" at 09:00 stays at 09:00 across a DST change; `at` sets the time of day. Days
 * are counted on the bare calendar and the result placed back in the zone once.
 */
export function dueAt(enteredAt: number, due: DueSpec, cal: OrgCalendar): number {
  if (due.hours !== undefined) return enteredAt + Math.round(due.hours * 3_600_000);
  const wallNow = enteredAt + offsetMinutes(cal.timezone, enteredAt) * MINUTE;
  let day = wallNow - (((wallNow % DAY) + DAY) % DAY);
  let timeOfDay = wallNow - day;
  if (due.days !== undefined) day += due.days * DAY;
  if (due.business_days !== undefined) {
    let left = due.business_days;
    // Zero business days from a weekend means the next business day.
    if (left === 0) while (!isBusinessDay(day, cal)) day += DAY;
    while (left > 0) {
      day += DAY;
      if (isBusinessDay(day, cal)) left--;
    }
  }
  if (due.at === undefined) return fromWallClock(cal.timezone, day + timeOfDay);
  const [hour, minute] = due.at.split(':').map(Number);
  timeOfDay = ((hour ?? 0) * 60 + (minute ?? 0)) * MINUTE;
  const onTheDay = fromWallClock(cal.timezone, day + timeOfDay);
  if (onTheDay >= enteredAt) return onTheDay;
  // A time of day already gone (0 days, "09:00", entered at 19:00) is the next such time, the next
  // business day's for business days, as a weekend entry is: a task is never due before it exists.
  do day += DAY;
  while (due.business_days !== undefined && !isBusinessDay(day, cal));
  return fromWallClock(cal.timezone, day + timeOfDay);
}

/**
 * The organisation's date (`2026-04-05`) that many days, or business days, after `at`: counted from
 * the day `at` falls on in the organisation's zone, by the same rules as a task's due day.
 */
export function dateAfter(at: number, after: DateAfter, cal: OrgCalendar): string {
  const due = dueAt(at, after.days !== undefined ? { days: after.days } : { business_days: after.business_days }, cal);
  return DateTime.fromMillis(due, { zone: cal.timezone }).toISODate() ?? '';
}

export function userZone(u: User, p: Process): string {
  return u.timezone ?? p.organisation.timezone;
}

export function isOutOfOffice(u: User, at: number, zone: string): boolean {
  const day = DateTime.fromMillis(at, { zone }).toISODate() ?? '';
  return u.out_of_office.some((o) => o.from <= day && day <= o.to);
}

/** The days after a leave during which a rep counts as just back (as many as the leave lasted). */
export interface BackFromLeave {
  /** The window's last day, ISO. */
  until: string;
  /** How many days the window lasts. */
  days: number;
  /** Days of the window left, today included: `days` on the first day back, 1 on the last. */
  daysLeft: number;
  /** How much of today has gone, 0 at midnight to 1, in the rep's zone. */
  dayGone: number;
}

/**
 * Whether `at`'s day falls in the window after a rep's latest out-of-office period that ended
 * before it, which lasts as many days as the leave did (a week away, a week back). Null when
 * `at` is past that, or they have not been away.
 */
export function backFromLeave(u: User, at: number, zone: string): BackFromLeave | null {
  const local = DateTime.fromMillis(at, { zone });
  const day = local.toISODate() ?? '';
  let latest: User['out_of_office'][number] | undefined;
  for (const o of u.out_of_office) if (o.to < day && (!latest || o.to > latest.to)) latest = o;
  if (!latest) return null;
  const from = DateTime.fromISO(latest.from, { zone: 'UTC' });
  const to = DateTime.fromISO(latest.to, { zone: 'UTC' });
  const days = Math.round(to.diff(from, 'days').days) + 1;
  const until = to.plus({ days });
  const daysLeft = Math.round(until.diff(DateTime.fromISO(day, { zone: 'UTC' }), 'days').days) + 1;
  if (daysLeft < 1) return null;
  const midnight = local.startOf('day');
  const dayGone = (at - midnight.toMillis()) / (midnight.plus({ days: 1 }).toMillis() - midnight.toMillis());
  return { until: until.toISODate() ?? '', days, daysLeft, dayGone };
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
export function nextWorkStart(u: User, at: number, zone: string, skipLeave = true): number | null {
  const away = (ms: number): boolean => skipLeave && isOutOfOffice(u, ms, zone);
  if (inWorkingHours(u, at, zone) && !away(at)) return at;
  const wh = u.working_hours;
  const start = wh ? minutesOf(wh.start) : 0;
  let d = DateTime.fromMillis(at, { zone }).startOf('day');
  for (let i = 0; i <= 60; i++) {
    // Set the wall-clock time rather than adding minutes, which would drift on DST change days.
    const candidate = d.set({ hour: Math.floor(start / 60), minute: start % 60 });
    const ms = candidate.toMillis();
    if (ms >= at && (!wh || wh.days.includes(candidate.weekday)) && !away(ms)) return ms;
    d = d.plus({ days: 1 });
  }
  return null;
}

/**
 * The out-of-office period a user is in when they could next work, leave aside: a leave that starts
 * before their next working moment (the Monday of a leave, for a lead that comes in on Saturday), so
 * they cannot work what arrives now until it is over. Null when they are at work now, or their
 * next working moment is free.
 */
export function leaveBeforeNextWork(u: User, at: number, zone: string): User['out_of_office'][number] | null {
  const next = nextWorkStart(u, at, zone, false);
  if (next === null) return null;
  const day = DateTime.fromMillis(next, { zone }).toISODate() ?? '';
  return u.out_of_office.find((o) => o.from <= day && day <= o.to) ?? null;
}

/**
 * The capacity windows a lead routed to `u` at `at` is charged to: those of the moment they can
 * next work it. A lead that arrives at night or on a weekend waits for the rep's next working day
 * and counts against that day's cap, so `per_day: 2` bounds what they find on Monday morning
 * (charged to the arrival day, Saturday's and Sunday's leads piled up on top of Monday's).
 */
export function capacityKeysFor(u: User, at: number, zone: string): { day: string; week: string } {
  return capacityKeys(nextWorkStart(u, at, zone) ?? at, zone);
}

/** Keys of the capacity windows (day and ISO week in the user's zone) that `at` falls in. */
export function capacityKeys(at: number, zone: string): { day: string; week: string } {
  const t = DateTime.fromMillis(at, { zone });
  return { day: `D${t.toISODate() ?? ''}`, week: `W${t.toFormat("kkkk-'W'WW")}` };
}
