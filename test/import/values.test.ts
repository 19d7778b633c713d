import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { buildMapping, refineMapping } from '../../src/import/mapping.js';
import { parseDate, parseNumber, type Parsed } from '../../src/import/values.js';

const at = (iso: string, zone: string): number => DateTime.fromISO(iso, { zone }).toMillis();
const ok = (r: Parsed<number>): number => {
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('parseDate', () => {
  it('reads Pipedrive and HubSpot SQL-ish times and ISO dates in the zone', () => {
    expect(ok(parseDate('2026-01-05 09:15:00', ['iso'], 'Europe/Berlin'))).toBe(Date.parse('2026-01-05T08:15:00Z'));
    expect(ok(parseDate('2026-07-05 09:15:00', ['iso'], 'Europe/Berlin'))).toBe(Date.parse('2026-07-05T07:15:00Z'));
    expect(ok(parseDate('2026-01-05', ['iso'], 'America/New_York'))).toBe(Date.parse('2026-01-05T05:00:00Z'));
    expect(ok(parseDate(' 2026-01-05T09:15 ', ['iso'], 'UTC'))).toBe(Date.parse('2026-01-05T09:15:00Z'));
    // An explicit offset wins over the zone.
    expect(ok(parseDate('2026-01-05T09:15:00+02:00', ['iso'], 'Europe/Berlin'))).toBe(
      Date.parse('2026-01-05T07:15:00Z'),
    );
    expect(ok(parseDate('2026-01-05 09:15', ['iso', 'yyyy-MM-dd HH:mm'], 'UTC'))).toBe(
      Date.parse('2026-01-05T09:15:00Z'),
    );
  });

  it('reads US and European formats, trying them in order', () => {
    expect(ok(parseDate('4/30/2026', ['M/d/yyyy'], 'UTC'))).toBe(Date.parse('2026-04-30T00:00:00Z'));
    expect(ok(parseDate('11/3/2025 2:05 PM', ['M/d/yyyy', 'M/d/yyyy h:mm a'], 'UTC'))).toBe(
      Date.parse('2025-11-03T14:05:00Z'),
    );
    expect(ok(parseDate('12/1/2025 12:30 am', ['M/d/yyyy h:mm a'], 'UTC'))).toBe(Date.parse('2025-12-01T00:30:00Z'));
    expect(ok(parseDate('05/01/2026', ['dd/MM/yyyy'], 'Europe/Berlin'))).toBe(Date.parse('2026-01-04T23:00:00Z'));
    expect(ok(parseDate('15/01/2026 16:30', ['dd/MM/yyyy', 'dd/MM/yyyy HH:mm'], 'Europe/Berlin'))).toBe(
      Date.parse('2026-01-15T15:30:00Z'),
    );
    expect(ok(parseDate('5 Mar 2026', ['d LLL yyyy'], 'UTC'))).toBe(Date.parse('2026-03-05T00:00:00Z'));
  });

  it('a date alone is that calendar day in the day zone (the organisation), a time of day in the clock zone', () => {
    // Hand-computed: midnight in Tokyo (UTC+9, no DST) is 15:00 UTC the day before; in New York
    // midnight is 05:00 UTC in winter, 04:00 UTC in summer time (from 8 March 2026, 02:00).
    const cases: [string, string[], string, number, boolean][] = [
      ['2024-03-15', ['iso'], 'Asia/Tokyo', Date.parse('2024-03-14T15:00:00Z'), true],
      ['15/03/2024', ['dd/MM/yyyy'], 'Asia/Tokyo', Date.parse('2024-03-14T15:00:00Z'), true],
      ['3/15/2024', ['M/d/yyyy'], 'America/New_York', Date.parse('2024-03-15T04:00:00Z'), true],
      ['2026-03-07', ['iso'], 'America/New_York', Date.parse('2026-03-07T05:00:00Z'), true],
      ['2026-03-09', ['iso'], 'America/New_York', Date.parse('2026-03-09T04:00:00Z'), true],
      ['15 Mar 2024', ['d LLL yyyy'], 'Asia/Tokyo', Date.parse('2024-03-14T15:00:00Z'), true],
      // With a time of day: the clock zone (here UTC), whatever the organisation's.
      ['2024-03-15 10:00', ['iso'], 'Asia/Tokyo', Date.parse('2024-03-15T10:00:00Z'), false],
      ['15/03/2024 10:00', ['dd/MM/yyyy HH:mm'], 'Asia/Tokyo', Date.parse('2024-03-15T10:00:00Z'), false],
    ];
    for (const [text, formats, dayZone, expected, dateOnly] of cases)
      expect(parseDate(text, formats, 'UTC', dayZone), `${text} in ${dayZone}`).toEqual({
        ok: true,
        value: expected,
        dateOnly,
      });
  });

  it('refuses impossible dates and says which formats it expected', () => {
    for (const [text, formats] of [
      ['2026-13-45 10:00:00', ['iso']],
      ['2026-02-29', ['iso']],
      ['31/04/2026', ['dd/MM/yyyy']],
      ['13/31/2026', ['M/d/yyyy']],
      ['yesterday', ['iso', 'dd/MM/yyyy']],
      ['2026-01-05', ['dd/MM/yyyy']],
    ] as const) {
      const r = parseDate(text, formats, 'UTC');
      expect(r.ok, text).toBe(false);
    }
    expect(parseDate('2026-13-45', ['iso', 'dd/MM/yyyy'], 'UTC')).toEqual({
      ok: false,
      message: '"2026-13-45" is not a date (expected YYYY-MM-DD or dd/MM/yyyy)',
    });
  });

  it('places wall-clock times like Luxon does, across DST changes', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2015-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(...zones),
        fc.constantFrom('iso', 'yyyy-MM-dd HH:mm', 'dd/MM/yyyy HH:mm', 'M/d/yyyy h:mm a'),
        (d, zone, format) => {
          const wall = DateTime.fromJSDate(d, { zone: 'UTC' });
          const text = format === 'iso' ? wall.toFormat('yyyy-MM-dd HH:mm:ss') : wall.toFormat(format);
          const luxon =
            format === 'iso'
              ? DateTime.fromSQL(text, { zone }).toMillis()
              : DateTime.fromFormat(text, format, { zone, locale: 'en-US' }).toMillis();
          expect(ok(parseDate(text, [format], zone))).toBe(firstOccurrence(luxon, zone));
        },
      ),
      { numRuns: 400 },
    );
    // The spring-forward gap moves forward as in Luxon; a time the autumn overlap repeats is its
    // first occurrence (CEST), whatever the date the test runs on.
    expect(ok(parseDate('2026-03-29 02:30', ['iso'], 'Europe/Berlin'))).toBe(at('2026-03-29T02:30', 'Europe/Berlin'));
    expect(ok(parseDate('2026-10-25 02:30', ['iso'], 'Europe/Berlin'))).toBe(Date.parse('2026-10-25T00:30:00Z'));
  });
});

/**
 * Luxon resolves a wall time the zone repeats by the offset the zone has today; Stageflow takes its
 * first occurrence. The same wall time 30 or 60 minutes earlier (the two sizes of DST shift) is it.
 */
function firstOccurrence(ms: number, zone: string): number {
  const wall = DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm:ss');
  const same = (t: number): boolean => DateTime.fromMillis(t, { zone }).toFormat('yyyy-MM-dd HH:mm:ss') === wall;
  return [ms - 3_600_000, ms - 1_800_000].find(same) ?? ms;
}

describe('parseNumber', () => {
  const us = { decimal: '.', thousands: ',' } as const;
  const eu = { decimal: ',', thousands: '.' } as const;

  it('drops currency codes and signs and applies the separators', () => {
    expect(ok(parseNumber('USD 12,500.00', us))).toBe(12500);
    expect(ok(parseNumber('$12,500.00', us))).toBe(12500);
    expect(ok(parseNumber('12,500.50 EUR', us))).toBe(12500.5);
    expect(ok(parseNumber('€ 1.234,56', eu))).toBe(1234.56);
    expect(ok(parseNumber('1.099,50', eu))).toBe(1099.5);
    expect(ok(parseNumber('550', eu))).toBe(550);
    expect(ok(parseNumber('1 234,5', { decimal: ',', thousands: ' ' }))).toBe(1234.5);
    expect(ok(parseNumber("1'234.5", { decimal: '.', thousands: "'" }))).toBe(1234.5);
    expect(ok(parseNumber('8000.5', us))).toBe(8000.5);
    expect(ok(parseNumber('-42', us))).toBe(-42);
    expect(ok(parseNumber('1054', { decimal: '.', thousands: '' }))).toBe(1054);
  });

  it('refuses what is not a number', () => {
    for (const text of ['12k', 'n/a', '1.2.3', '--5', '$', '12,50,1.5.'])
      expect(parseNumber(text, us).ok, text).toBe(false);
    expect(parseNumber('12k', us)).toEqual({ ok: false, message: '"12k" is not a number' });
  });

  it('refuses a number written with the other convention instead of misreading it', () => {
    for (const [text, numbers] of [
      ['1.500,50', us],
      ['12,5', us],
      ['1,50,000', us],
      ['1,500.50', eu],
      ['12.5', eu],
    ] as const) {
      const r = parseNumber(text, numbers);
      expect(r.ok, text).toBe(false);
      expect(r.ok ? '' : r.message, text).toMatch(/does not read as a number .* \(set the mapping's number format\)$/);
    }
    expect(ok(parseNumber('1,500,000.25', us))).toBe(1500000.25);
    expect(ok(parseNumber('1.500.000,25', eu))).toBe(1500000.25);
  });

  it('a decimal comma alone brings the dot as thousands separator', () => {
    const m = buildMapping({ source: 'x', columns: { id: 'id' }, numbers: { decimal: ',' } });
    expect(m.numbers).toEqual({ decimal: ',', thousands: '.' });
    expect(ok(parseNumber('12.500,00', m.numbers))).toBe(12500);
    expect(() =>
      buildMapping({ source: 'x', columns: { id: 'id' }, numbers: { decimal: ',', thousands: ',' } }),
    ).toThrow(/must differ/);
  });
});

describe('refineMapping', () => {
  const base = buildMapping({
    source: 'salesforce',
    columns: { id: 'Opportunity ID', stage: 'Stage', created_at: 'Created Date' },
    stages: { 'Closed Won': 'won' },
    dates: { formats: ['M/d/yyyy'] },
    footer: ['^Grand Totals'],
  });

  it("keeps the format's dates, numbers and tables unless the refinement names them", () => {
    const m = refineMapping(base, { pipeline: 'Opportunities', stages: { Negotiation: 'negotiation' } });
    expect(m.dates).toEqual({ formats: ['M/d/yyyy'] });
    expect(m.numbers).toEqual({ decimal: '.', thousands: ',' });
    expect(m.stages).toEqual({ 'Closed Won': 'won', Negotiation: 'negotiation' });
    expect(m.pipeline).toBe('Opportunities');
    expect(m.footer).toEqual(['^Grand Totals']);
    expect(m.columns.id).toBe('Opportunity ID');
  });

  it('adds columns without naming the id again, and merges nested settings', () => {
    const m = refineMapping(base, {
      columns: { product: 'Product Name' },
      dates: { zone: 'America/New_York' },
      numbers: { decimal: ',' },
      status_values: { won: ['gewonnen'] },
    });
    expect(m.columns).toMatchObject({ id: 'Opportunity ID', product: 'Product Name' });
    expect(m.dates).toEqual({ formats: ['M/d/yyyy'], zone: 'America/New_York' });
    expect(m.numbers).toEqual({ decimal: ',', thousands: '.' });
    expect(m.status_values.won).toEqual(['gewonnen']);
    expect(m.status_values.lost).toEqual(['lost', 'closed lost']);
  });
});
