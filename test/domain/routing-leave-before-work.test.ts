import { expect, it } from 'vitest';
import { routeLead } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema } from '../../src/domain/process-schema.js';

/**
 * A rep whose leave starts before they next work cannot work a lead that comes in now: out of
 * office for it, though not yet away at the moment it arrives. A leave that starts after their
 * next working moment leaves them eligible, and so does one that ended before it (the fair
 * re-entry after leave still applies to them).
 */

const weekdays = { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
const process = processSchema.parse({
  name: 'leave ahead',
  organisation: { timezone: 'Europe/Berlin' },
  users: [
    // On leave Monday 30 November to Friday 4 December 2026.
    { id: 'x', name: 'X', working_hours: weekdays, out_of_office: [{ from: '2026-11-30', to: '2026-12-04' }] },
    // On leave from Tuesday 1 December: works Monday first.
    { id: 'z', name: 'Z', working_hours: weekdays, out_of_office: [{ from: '2026-12-01', to: '2026-12-04' }] },
    { id: 'boss', name: 'Boss' },
  ],
  teams: [
    { id: 'tx', name: 'TX', members: ['x'] },
    { id: 'tz', name: 'TZ', members: ['z'] },
  ],
  assignment: {
    default_owner: 'boss',
    rules: [
      { id: 'to-x', when: { field: 'team', eq: 'x' }, to: { team: 'tx', strategy: 'round_robin' } },
      { id: 'to-z', to: { team: 'tz', strategy: 'round_robin' } },
    ],
  },
  pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
});
const empty = (): RoutingState => ({ users: {}, cursors: {} });

it('passes over a rep whose leave starts before they next work, saying when', () => {
  // Saturday 28 November: x next works on Monday, which is the first day of the leave.
  const out = routeLead(process, { team: 'x' }, empty(), Date.parse('2026-11-28T12:00:00Z'));
  expect(out.owner).toBe('boss');
  expect(out.passedOver).toEqual([{ user: 'x', why: 'out of office 2026-11-30 to 2026-12-04, before they next work' }]);
  // Friday evening too, and on Friday at work the lead is theirs (their leave has not started).
  expect(routeLead(process, { team: 'x' }, empty(), Date.parse('2026-11-27T18:00:00Z')).owner).toBe('boss');
  expect(routeLead(process, { team: 'x' }, empty(), Date.parse('2026-11-27T10:00:00Z')).owner).toBe('x');
});

it('keeps a rep whose leave starts after their next working moment', () => {
  const out = routeLead(process, {}, empty(), Date.parse('2026-11-28T12:00:00Z'));
  expect(out.owner).toBe('z');
  expect(out.passedOver).toEqual([]);
});
