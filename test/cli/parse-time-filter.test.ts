import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/errors.js';
import { parseTimeFilter } from '../../src/cli/parse.js';

/** `export --updated-since`: the same reading of a time filter as the API's `updated_since`. */
describe('parseTimeFilter', () => {
  it('reads a date alone as the start of that day in the organisation’s zone', () => {
    // Tokyo is UTC+9: its 2 March begins at 15:00 UTC on 1 March.
    expect(new Date(parseTimeFilter('2026-03-02', '--updated-since', 'Asia/Tokyo')).toISOString()).toBe(
      '2026-03-01T15:00:00.000Z',
    );
    // New York on the day summer time begins (UTC-5 until 2 a.m.): midnight is 05:00 UTC.
    expect(new Date(parseTimeFilter('2026-03-08', '--updated-since', 'America/New_York')).toISOString()).toBe(
      '2026-03-08T05:00:00.000Z',
    );
  });

  it('keeps an instant’s own offset whatever the zone', () => {
    expect(
      new Date(parseTimeFilter('2026-03-02T01:00:00+09:00', '--updated-since', 'America/New_York')).toISOString(),
    ).toBe('2026-03-01T16:00:00.000Z');
  });

  it('refuses what the API refuses: an impossible date, other date forms, a time without offset, a non-time', () => {
    for (const raw of ['2026-02-30', '20260306', '2026-03', '2026-W10', '2026-03-06T10:00', 'yesterday'])
      expect(() => parseTimeFilter(raw, '--updated-since', 'Asia/Tokyo'), raw).toThrow(
        new UsageError(
          `--updated-since ${JSON.stringify(raw)}: give a date (2026-03-31) or an ISO 8601 date and time with offset (2026-03-31T09:00:00Z)`,
        ),
      );
  });
});
