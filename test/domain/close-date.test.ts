import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CloseDateReader,
  closeDateDays,
  closeDateField,
  closeDateInstant,
  isCloseDate,
  presentCloseDate,
} from '../../src/domain/close-date.js';
import { leadEventSchema } from '../../src/domain/events.js';

/** A lead's expected close in the organisation's zone, hand-computed (docs/process.md, "Expected close"). */

describe('expected close', () => {
  it('keeps a date as its midnight in the organisation zone, with the offset of that day', () => {
    expect(closeDateField('2026-03-31', 'Asia/Tokyo')).toBe('2026-03-31T00:00:00+09:00');
    expect(closeDateField('2026-03-07', 'America/New_York')).toBe('2026-03-07T00:00:00-05:00');
    expect(closeDateField('2026-03-09', 'America/New_York')).toBe('2026-03-09T00:00:00-04:00');
    expect(closeDateField('2027-02-01', 'UTC')).toBe('2027-02-01T00:00:00+00:00');
    // Santiago skips midnight on 6 September 2026 (clocks go from 00:00 to 01:00): the day starts at 01:00.
    expect(closeDateField('2026-09-06', 'America/Santiago')).toBe('2026-09-06T01:00:00-03:00');
  });

  it('keeps a time with an offset as that instant, and reads a time without one on the zone clock', () => {
    expect(closeDateField('2026-04-15T12:00:00Z', 'Asia/Tokyo')).toBe('2026-04-15T21:00:00+09:00');
    expect(closeDateField('2026-04-15T12:00:00.250+02:00', 'UTC')).toBe('2026-04-15T10:00:00.250+00:00');
    expect(closeDateField('2026-04-15T10:00', 'America/New_York')).toBe('2026-04-15T10:00:00-04:00');
    // 02:30 on 8 March does not exist in New York: the clock reads 03:30 then.
    expect(closeDateField('2026-03-08T02:30', 'America/New_York')).toBe('2026-03-08T03:30:00-04:00');
  });

  it('refuses a day that does not exist, which Date.parse would take for another', () => {
    expect(Number.isNaN(Date.parse('2027-02-30'))).toBe(false);
    expect(isCloseDate('2027-02-30')).toBe(false);
    expect(isCloseDate('2027-02-28')).toBe(true);
    expect(isCloseDate('31/03/2027')).toBe(false);
    const parsed = leadEventSchema.safeParse({
      type: 'lead.updated',
      lead: 'L',
      fields: { expected_close: '2027-02-30' },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['fields.expected_close']);
  });

  it('presents the instant in the offset the field carries, and an older date-only field in UTC', () => {
    const tokyo = Date.parse('2026-03-30T15:00:00Z');
    expect(presentCloseDate(tokyo, '2026-03-31T00:00:00+09:00')).toBe('2026-03-31T00:00:00.000+09:00');
    expect(presentCloseDate(Date.parse('2027-02-01T00:00:00Z'), '2027-02-01T00:00:00+00:00')).toBe(
      '2027-02-01T00:00:00.000Z',
    );
    expect(presentCloseDate(Date.parse('2027-03-31T00:00:00Z'), '2027-03-31')).toBe('2027-03-31T00:00:00.000Z');
    // A field that does not match the column is not trusted over it.
    expect(presentCloseDate(tokyo, '2026-04-01T00:00:00+09:00')).toBe('2026-03-30T15:00:00.000Z');
    expect(presentCloseDate(null, '2026-03-31T00:00:00+09:00')).toBeNull();
  });

  it('counts calendar days in the zone: a month across a DST change is whole days', () => {
    const day = (iso: string): number => Date.parse(iso);
    expect(closeDateDays(day('2026-03-01T05:00:00Z'), day('2026-03-31T04:00:00Z'), 'America/New_York')).toBe(30);
    expect(closeDateDays(day('2026-10-01T04:00:00Z'), day('2026-11-30T05:00:00Z'), 'America/New_York')).toBe(60);
    expect(closeDateDays(day('2026-03-30T15:00:00Z'), day('2026-04-01T03:00:00Z'), 'Asia/Tokyo')).toBe(1.5);
  });
});

describe('CloseDateReader (the cached reading slippage uses)', () => {
  const ZONES = ['America/New_York', 'America/Santiago', 'Asia/Tokyo', 'Europe/Berlin', 'Australia/Lord_Howe'];
  // Dates around DST changes, midnights, and times of day: where whole days and fractions differ.
  const day = fc.date({
    min: new Date('2026-01-01T00:00:00Z'),
    max: new Date('2027-12-31T00:00:00Z'),
    noInvalidDate: true,
  });
  const value = fc.oneof(
    day.map((d) => d.toISOString().slice(0, 10)),
    day.map((d) => d.toISOString()),
    day.map((d) => d.toISOString().slice(0, 16)),
  );

  it('reads each value and counts days exactly as the functions it caches do', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.array(fc.tuple(value, value), { minLength: 1, maxLength: 20 }),
        (zone, pairs) => {
          const reader = new CloseDateReader(zone);
          // Twice, so the second round answers from the caches.
          for (const round of [1, 2]) {
            for (const [a, b] of pairs) {
              const from = closeDateInstant(a, zone)?.toMillis() ?? null;
              const to = closeDateInstant(b, zone)?.toMillis() ?? null;
              expect(reader.instant(a), `round ${round}`).toBe(from);
              expect(reader.instant(b), `round ${round}`).toBe(to);
              if (from !== null && to !== null)
                expect(reader.daysBetween(from, to)).toBe(closeDateDays(from, to, zone));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('counts whole days across a DST change, and a day that starts at 01:00', () => {
    const ny = new CloseDateReader('America/New_York');
    const at = (v: string): number => ny.instant(v) ?? Number.NaN;
    expect(ny.daysBetween(at('2026-03-01'), at('2026-03-31'))).toBe(30);
    expect(ny.daysBetween(at('2026-03-31'), at('2026-03-01'))).toBe(-30);
    const santiago = new CloseDateReader('America/Santiago');
    const st = (v: string): number => santiago.instant(v) ?? Number.NaN;
    expect(santiago.daysBetween(st('2026-09-01'), st('2026-09-06'))).toBe(
      closeDateDays(st('2026-09-01'), st('2026-09-06'), 'America/Santiago'),
    );
    expect(ny.instant('2027-02-30')).toBeNull();
  });
});
