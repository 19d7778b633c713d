import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  capacityKeys,
  dateAfter,
  dueAt,
  inWorkingHours,
  nextWorkStart,
  type OrgCalendar,
} from '../../src/domain/calendar.js';
import type { DueSpec, User } from '../../src/domain/process-schema.js';

const berlin: OrgCalendar = { timezone: 'Europe/Berlin', workweek: [1, 2, 3, 4, 5], holidays: new Set(['2026-04-03']) };
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe("dateAfter (a set automation's relative date)", () => {
  const newYork: OrgCalendar = { timezone: 'America/New_York', workweek: [1, 2, 3, 4, 5], holidays: new Set() };

  it("counts from the organisation's day across the spring-forward night", () => {
    // 23:30Z on Saturday 28 March is 00:30 on Sunday 29 March in Berlin, the night clocks go forward.
    expect(dateAfter(t('2026-03-28T23:30:00Z'), { days: 0 }, berlin)).toBe('2026-03-29');
    expect(dateAfter(t('2026-03-28T23:30:00Z'), { days: 1 }, berlin)).toBe('2026-03-30');
    // Sunday: the next business day is Monday 30 March; two are Tuesday 31 March.
    expect(dateAfter(t('2026-03-28T23:30:00Z'), { business_days: 2 }, berlin)).toBe('2026-03-31');
  });

  it("counts from the organisation's day late on the fall-back day, when UTC is already a day ahead", () => {
    // 04:30Z on Monday 2 November is 23:30 on Sunday 1 November in New York (EST since 02:00 that day).
    expect(dateAfter(t('2026-11-02T04:30:00Z'), { days: 0 }, newYork)).toBe('2026-11-01');
    expect(dateAfter(t('2026-11-02T04:30:00Z'), { days: 30 }, newYork)).toBe('2026-12-01');
    expect(dateAfter(t('2026-11-02T04:30:00Z'), { business_days: 1 }, newYork)).toBe('2026-11-02');
  });

  it("skips holidays as a task's due day does", () => {
    // Thursday 2 April in Berlin; Good Friday is a holiday: one business day is Monday 6 April.
    expect(dateAfter(t('2026-04-02T20:00:00Z'), { business_days: 1 }, berlin)).toBe('2026-04-06');
  });
});

describe('dueAt', () => {
  it('skips the weekend for business days', () => {
    // Friday 2026-03-06 11:00 Berlin (10:00Z) + 1 business day = Monday 10:00Z
    expect(iso(dueAt(t('2026-03-06T10:00:00Z'), { business_days: 1 }, berlin))).toBe('2026-03-09T10:00:00.000Z');
  });

  it('skips public holidays', () => {
    // Thursday 2026-04-02 + 1 business day: Good Friday is a holiday, so Monday 2026-04-06
    expect(iso(dueAt(t('2026-04-02T08:00:00Z'), { business_days: 1 }, berlin))).toBe('2026-04-06T08:00:00.000Z');
  });

  it('keeps the local wall-clock time across a DST change', () => {
    // Friday 2026-03-27 09:00 CET (08:00Z) + 1 business day = Monday 09:00 CEST (07:00Z)
    expect(iso(dueAt(t('2026-03-27T08:00:00Z'), { business_days: 1 }, berlin))).toBe('2026-03-30T07:00:00.000Z');
    // Calendar days do the same; hours do not.
    expect(iso(dueAt(t('2026-03-28T08:00:00Z'), { days: 1 }, berlin))).toBe('2026-03-29T07:00:00.000Z');
    expect(iso(dueAt(t('2026-03-28T08:00:00Z'), { hours: 24 }, berlin))).toBe('2026-03-29T08:00:00.000Z');
  });

  it('sets the time of day with "at"', () => {
    expect(iso(dueAt(t('2026-03-02T08:00:00Z'), { business_days: 2, at: '17:00' }, berlin))).toBe(
      '2026-03-04T16:00:00.000Z',
    );
  });

  it('never makes a task due before it exists: a time of day already gone is the next such time', () => {
    // Friday 18 December 2026 at 19:00 in Berlin: 09:00 that day has gone.
    const friday7pm = t('2026-12-18T18:00:00Z');
    expect(iso(dueAt(friday7pm, { days: 0, at: '09:00' }, berlin))).toBe('2026-12-19T08:00:00.000Z');
    // Business days: Monday's 09:00, past the weekend.
    expect(iso(dueAt(friday7pm, { business_days: 0, at: '09:00' }, berlin))).toBe('2026-12-21T08:00:00.000Z');
    // A time still to come that day, and one more day, are as before.
    expect(iso(dueAt(friday7pm, { business_days: 0, at: '20:00' }, berlin))).toBe('2026-12-18T19:00:00.000Z');
    expect(iso(dueAt(friday7pm, { days: 1, at: '09:00' }, berlin))).toBe('2026-12-19T08:00:00.000Z');
  });

  it('moves zero business days from a weekend to Monday', () => {
    expect(iso(dueAt(t('2026-03-07T10:00:00Z'), { business_days: 0 }, berlin))).toBe('2026-03-09T10:00:00.000Z');
  });
});

const rep: User = {
  id: 'kai',
  name: 'Kai',
  timezone: 'America/New_York',
  territories: [],
  products: [],
  weight: 1,
  active: true,
  working_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
  out_of_office: [{ from: '2026-03-10', to: '2026-03-11' }],
  capacity: {},
};

describe('working hours', () => {
  it('reads hours in the rep’s own zone', () => {
    expect(inWorkingHours(rep, t('2026-03-02T14:00:00Z'), 'America/New_York')).toBe(true); // 09:00 EST
    expect(inWorkingHours(rep, t('2026-03-02T13:59:00Z'), 'America/New_York')).toBe(false);
  });

  it('finds the next start, passing over weekends and leave', () => {
    // Saturday -> Monday 09:00 EST
    expect(iso(nextWorkStart(rep, t('2026-03-07T12:00:00Z'), 'America/New_York') ?? 0)).toBe(
      '2026-03-09T13:00:00.000Z',
    );
    // Monday evening before two days off -> Thursday 09:00 EDT (DST began 2026-03-08)
    expect(iso(nextWorkStart(rep, t('2026-03-09T23:00:00Z'), 'America/New_York') ?? 0)).toBe(
      '2026-03-12T13:00:00.000Z',
    );
  });

  it('keys capacity windows by local day and ISO week', () => {
    expect(capacityKeys(t('2026-03-02T03:00:00Z'), 'America/New_York')).toEqual({
      day: 'D2026-03-01',
      week: 'W2026-W09',
    });
  });
});

describe('dueAt agrees with stepping through the days in Luxon', () => {
  // Luxon throughout: count whole days on the calendar, then let Luxon place the wall-clock time
  // in the zone. (Stepping day by day in the zone would drift after a DST gap.)
  function reference(enteredAt: number, due: DueSpec, cal: OrgCalendar): number {
    if (due.hours !== undefined) return enteredAt + Math.round(due.hours * 3_600_000);
    const local = DateTime.fromMillis(enteredAt, { zone: cal.timezone });
    let d = DateTime.fromObject({ year: local.year, month: local.month, day: local.day }, { zone: 'UTC' });
    const business = (x: DateTime): boolean =>
      cal.workweek.includes(x.weekday) && !cal.holidays.has(x.toISODate() ?? '');
    if (due.days !== undefined) d = d.plus({ days: due.days });
    if (due.business_days !== undefined) {
      let left = due.business_days;
      if (left === 0) while (!business(d)) d = d.plus({ days: 1 });
      while (left > 0) {
        d = d.plus({ days: 1 });
        if (business(d)) left--;
      }
    }
    const [hour, minute] = due.at !== undefined ? due.at.split(':').map(Number) : [local.hour, local.minute];
    const rest =
      due.at !== undefined ? { second: 0, millisecond: 0 } : { second: local.second, millisecond: local.millisecond };
    // Luxon resolves a repeated wall time by the offset the zone has today, so the test would
    // depend on the date it runs; the rule is the first occurrence, found by looking 30 and 60
    // minutes earlier (DST shifts are one or the other) for the same wall time.
    const place = (day: DateTime): number => {
      const wall = { year: day.year, month: day.month, day: day.day, hour, minute, ...rest };
      const t = DateTime.fromObject(wall, { zone: cal.timezone }).toMillis();
      const same = (ms: number): boolean => {
        const x = DateTime.fromMillis(ms, { zone: cal.timezone });
        return (
          x.year === wall.year && x.month === wall.month && x.day === wall.day && x.hour === hour && x.minute === minute
        );
      };
      return [t - 3_600_000, t - 1_800_000].find(same) ?? t;
    };
    // A time of day already gone when the task is created is the next (business) day's.
    if (due.at === undefined || place(d) >= enteredAt) return place(d);
    do d = d.plus({ days: 1 });
    while (due.business_days !== undefined && !business(d));
    return place(d);
  }

  it('places a wall time that happens twice (DST ending) at its first occurrence, in every zone', () => {
    const cal = (timezone: string): OrgCalendar => ({ timezone, workweek: [1, 2, 3, 4, 5, 6, 7], holidays: new Set() });
    // Berlin: 02:30 happens at 00:30Z (CEST) and 01:30Z (CET) on 2026-10-25.
    expect(iso(dueAt(Date.parse('2026-10-24T00:30:00Z'), { days: 1 }, cal('Europe/Berlin')))).toBe(
      '2026-10-25T00:30:00.000Z',
    );
    // St John's: 01:00 happens at 03:30Z (NDT) and 04:30Z (NST) on 2027-11-07.
    expect(iso(dueAt(Date.parse('2027-10-11T03:30:00Z'), { days: 27 }, cal('America/St_Johns')))).toBe(
      '2027-11-07T03:30:00.000Z',
    );
    // Lord Howe shifts by 30 minutes: 01:45 on 2026-04-05 happens at 14:45Z (+11) and 15:15Z (+10:30).
    expect(iso(dueAt(Date.parse('2026-04-03T14:45:00Z'), { days: 1, at: '01:45' }, cal('Australia/Lord_Howe')))).toBe(
      '2026-04-04T14:45:00.000Z',
    );
  });

  it('for random times, zones with DST, odd offsets and holidays', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Australia/Lord_Howe',
      'Asia/Kolkata',
      'America/St_Johns',
      'UTC',
    ];
    const spec = fc.oneof(
      fc.record({ days: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ business_days: fc.integer({ min: 0, max: 30 }) }),
      fc.record({
        business_days: fc.integer({ min: 0, max: 30 }),
        at: fc.constantFrom('00:00', '02:30', '09:00', '17:00', '23:59'),
      }),
      fc.record({ days: fc.integer({ min: 0, max: 40 }), at: fc.constantFrom('02:30', '12:00') }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
        fc.constantFrom(...zones),
        spec,
        (at, timezone, due) => {
          const cal: OrgCalendar = {
            timezone,
            workweek: [1, 2, 3, 4, 5],
            holidays: new Set(['2026-04-03', '2026-12-25']),
          };
          expect(iso(dueAt(at, due, cal))).toBe(iso(reference(at, due, cal)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
