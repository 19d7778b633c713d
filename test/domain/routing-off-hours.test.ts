import { expect, it } from 'vitest';
import { countRouted, routeLead } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema } from '../../src/domain/process-schema.js';

/**
 * A lead that comes in when nobody is at work goes to someone who starts soon: the reps who start
 * within 2 hours of the first to start share it by the team's strategy, so the night's and the
 * weekend's leads keep the weights instead of all going to the earliest starter.
 */

const weekdays = { days: [1, 2, 3, 4, 5], end: '17:00' };
const process = processSchema.parse({
  name: 'off hours',
  organisation: { timezone: 'Europe/Berlin' },
  users: [
    // Stockholm starts half an hour before Berlin: before the window, she got every weekend lead.
    { id: 'paula', name: 'Paula', timezone: 'Europe/Stockholm', working_hours: { ...weekdays, start: '08:30' } },
    {
      id: 'yusuf',
      name: 'Yusuf',
      weight: 2,
      timezone: 'Europe/Berlin',
      working_hours: { ...weekdays, start: '09:00' },
    },
    { id: 'theo', name: 'Theo', timezone: 'Europe/Berlin', working_hours: { ...weekdays, start: '09:00' } },
    // Starts three hours after Paula: outside the window, gets only leads that arrive while at work.
    { id: 'late', name: 'Late', timezone: 'Europe/Berlin', working_hours: { ...weekdays, start: '11:30' } },
    { id: 'boss', name: 'Boss' },
  ],
  teams: [{ id: 'emea', name: 'EMEA', members: ['paula', 'yusuf', 'theo', 'late'] }],
  assignment: { default_owner: 'boss', rules: [{ id: 'emea', to: { team: 'emea', strategy: 'weighted' } }] },
  pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
});

it('shares leads that arrive while nobody is at work among those starting within 2 hours of the first, by weight', () => {
  const routing: RoutingState = { users: {}, cursors: {} };
  const counts: Record<string, number> = {};
  // Saturday 7 March 2026, one lead every 15 minutes from 10:00 UTC: 40 leads.
  const saturday = Date.parse('2026-03-07T10:00:00Z');
  let firstNote = '';
  for (let i = 0; i < 40; i++) {
    const out = routeLead(process, {}, routing, saturday + i * 15 * 60_000);
    countRouted(routing, out.owner);
    counts[out.owner] = (counts[out.owner] ?? 0) + 1;
    firstNote ||= out.notes[0] ?? '';
  }
  expect(counts).toEqual({ yusuf: 20, paula: 10, theo: 10 });
  // lead why tells the reader the rotation ran over a narrowed pool, and why.
  expect(firstNote).toBe(
    'nobody at work; first start 2026-03-09T07:30Z, shared among those starting within 2 h of it: paula, yusuf, theo',
  );
});

it('leaves the pool alone while someone is at work', () => {
  const routing: RoutingState = { users: {}, cursors: {} };
  // Monday 9 March 12:00 Berlin: everyone is at work.
  const out = routeLead(process, {}, routing, Date.parse('2026-03-09T11:00:00Z'));
  expect(out.notes).toEqual([]);
});
