import { expect, it } from 'vitest';
import { routeLead } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema } from '../../src/domain/process-schema.js';

/**
 * least_open and a rep back from leave: the others collected open leads while x was away (9-13
 * March, five days). For five days after, x counts as holding as many as the least-loaded other
 * member, so x gets a share of the new leads, not all of them until caught up.
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

it('gives a rep back from leave their share, not every lead, for as many days as they were away', () => {
  const routing = afterLeave();
  // Saturday 14 March, the first day back; and Wednesday 18 March, the fifth and last.
  for (const day of ['2026-03-14', '2026-03-18']) {
    const { owners, notes } = routeMany(routing, Date.parse(`${day}T09:00:00Z`), 9);
    expect(tally(owners)).toEqual({ x: 3, y: 3, z: 3 });
    // The run log says why x was not simply the least loaded.
    expect(notes[0]).toMatch(/^x back from leave \(until 2026-03-18\) counted as holding \d+ open leads, not \d+$/);
  }
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
