import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parsePeriod } from '../../src/reports/period.js';

/** Report periods from --from and --to, half-open, in the organisation's zone. */

const zone = 'Europe/Berlin';
const now = DateTime.fromISO('2026-11-28T10:00', { zone }).toMillis();
const day = (ms: number): string => DateTime.fromMillis(ms, { zone }).toISO() ?? '';

describe('parsePeriod', () => {
  it('takes the current month by default, and one bound alone as the month it starts or ends', () => {
    const both = (from?: string, to?: string) => {
      const p = parsePeriod(from, to, zone, now);
      return [day(p.from), day(p.to)];
    };
    expect(both()).toEqual(['2026-11-01T00:00:00.000+01:00', '2026-12-01T00:00:00.000+01:00']);
    expect(both('2026-03-15')).toEqual(['2026-03-15T00:00:00.000+01:00', '2026-04-01T00:00:00.000+02:00']);
    expect(both(undefined, '2026-10-01')).toEqual(['2026-09-01T00:00:00.000+02:00', '2026-10-01T00:00:00.000+02:00']);
    expect(both(undefined, '2026-10-15')).toEqual(['2026-10-01T00:00:00.000+02:00', '2026-10-15T00:00:00.000+02:00']);
    expect(() => parsePeriod('2026-10-02', '2026-10-01', zone, now)).toThrow(/must be after --from/);
  });
});
