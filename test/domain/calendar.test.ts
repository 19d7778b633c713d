import { describe, expect, it } from 'vitest';
import { capacityKeys, dueAt, inWorkingHours, nextWorkStart, type OrgCalendar } from '../../src/domain/calendar.js';
import type { User } from '../../src/domain/process-schema.js';

const berlin: OrgCalendar = { timezone: 'Europe/Berlin', workweek: [1, 2, 3, 4, 5], holidays: new Set(['2026-04-03']) };
const t = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

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
