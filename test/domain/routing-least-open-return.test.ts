import { expect, it } from 'vitest';
import { countRouted, routeLead } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema } from '../../src/domain/process-schema.js';

/**
 * least_open and a rep back from leave: the others collected open leads while x was away (9-13
 * March, five days). For five days after, x is let stay behind the least-loaded other member by a
 * gap that shrinks steadily to nothing: x gets more than a share of the new leads but never all of
 * them, has caught up when the five days end, and is not flooded after.
 */

const process = processSchema.parse({
  name: 'least open return',
  organisation: { timezone: 'UTC' },
  users: [
    { id: 'x', name: 'X', out_of_office: [{ from: '2026-03-09', to: '2026-03-13' }] },
    { id: 'y', name: 'Y' },
    { id: 'z', name: 'Z' },
    { id: 'boss', name: 'Boss' },
  ],
  teams: [{ id: 't', name: 'T', members: ['x', 'y', 'z'] }],
  assignment: { default_owner: 'boss', rules: [{ id: 'lo', to: { team: 't', strategy: 'least_open' } }] },
  pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
});

/** x holds 8 open leads, y and z 33 each after taking x's share of the week away. */
function afterLeave(): RoutingState {
  return {
    users: {
      x: { open: 8, routedToday: 0, routedThisWeek: 0 },
      y: { open: 33, routedToday: 0, routedThisWeek: 0 },
      z: { open: 33, routedToday: 0, routedThisWeek: 0 },
    },
    cursors: {},
  };
}

/** Routes `n` leads at `at`, each staying open with its new owner (as the engine's load does). */
function routeMany(routing: RoutingState, at: number, n: number): { owners: string[]; notes: string[] } {
  const owners: string[] = [];
  const notes: string[] = [];
  for (let i = 0; i < n; i++) {
    const out = routeLead(process, {}, routing, at + i * 60_000);
    owners.push(out.owner);
    notes.push(...out.notes);
    const load = routing.users[out.owner];
    if (load) load.open++;
  }
  return { owners, notes };
}

function tally(owners: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of owners) counts[o] = (counts[o] ?? 0) + 1;
  return counts;
}

/** One lead every two hours from `from` for `days` days, the day's routed counts starting afresh each day. */
function routeDays(routing: RoutingState, from: string, days: number): { day: string; owners: string[] }[] {
  const out: { day: string; owners: string[] }[] = [];
  for (let d = 0; d < days; d++) {
    const start = Date.parse(`${from}T00:00:00Z`) + d * 86_400_000;
    for (const load of Object.values(routing.users)) load.routedToday = 0;
    const owners: string[] = [];
    for (let h = 0; h < 24; h += 2) {
      const lead = routeLead(process, {}, routing, start + h * 3_600_000);
      countRouted(routing, lead.owner);
      const load = routing.users[lead.owner];
      if (load) load.open++;
      owners.push(lead.owner);
    }
    out.push({ day: new Date(start).toISOString().slice(0, 10), owners });
  }
  return out;
}

function longestRun(owners: string[], who: string): number {
  let run = 0;
  let longest = 0;
  for (const o of owners) longest = Math.max(longest, (run = o === who ? run + 1 : 0));
  return longest;
}

it('lets a rep back from leave catch up steadily over as many days as they were away, with no flood after', () => {
  const routing = afterLeave();
  // 14-18 March: the five days back; 19-20 March: after.
  const days = routeDays(routing, '2026-03-14', 7);
  for (const { day, owners } of days.slice(0, 5)) {
    const x = tally(owners)['x'] ?? 0;
    // More than a third (catching up), never the whole day's leads, nor a long run of them.
    expect(x, day).toBeGreaterThan(4);
    expect(x, day).toBeLessThan(12);
    expect(longestRun(owners, 'x'), day).toBeLessThanOrEqual(5);
  }
  // Caught up by the window's end ...
  const open = (id: string): number => routing.users[id]?.open ?? 0;
  expect(Math.abs(open('x') - open('y'))).toBeLessThanOrEqual(1);
  // ... so the days after are shared, not handed to x.
  for (const { day, owners } of days.slice(5)) expect(tally(owners), day).toEqual({ x: 4, y: 4, z: 4 });
});

it('says in the run log why a rep back from leave was not simply the least loaded', () => {
  const { notes } = routeMany(afterLeave(), Date.parse('2026-03-14T09:00:00Z'), 1);
  expect(notes[0]).toMatch(/^x back from leave \(until 2026-03-18\) counted as holding \d+ open leads, not 8$/);
});

it('counts open leads as they are once the days back have passed', () => {
  const routing = afterLeave();
  const { owners, notes } = routeMany(routing, Date.parse('2026-03-19T09:00:00Z'), 3);
  expect(owners).toEqual(['x', 'x', 'x']);
  expect(notes).toEqual([]);
});

it('does not raise a rep who was never away, nor one back from leave who holds more than the others', () => {
  const routing = afterLeave();
  routing.users['x'] = { open: 40, routedToday: 0, routedThisWeek: 0 };
  routing.users['y'] = { open: 2, routedToday: 0, routedThisWeek: 0 };
  const { owners, notes } = routeMany(routing, Date.parse('2026-03-14T09:00:00Z'), 3);
  expect(owners).toEqual(['y', 'y', 'y']);
  expect(notes).toEqual([]);
});
