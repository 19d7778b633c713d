import { expect, it } from 'vitest';
import { routeLead } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema } from '../../src/domain/process-schema.js';

/**
 * least_open and a rep back from leave: the others collected open leads while x was away (9-13
 * March, five days). The run log's note and who is raised; the catch-up over days, whose routed
 * counts the store keeps per day, is test/engine/least-open-return.test.ts.
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

it('says in the run log why a rep back from leave was not simply the least loaded', () => {
  const { notes } = routeMany(afterLeave(), Date.parse('2026-03-14T09:00:00Z'), 1);
  expect(notes[0]).toMatch(/^x back from leave \(until 2026-03-18\) counted as holding \d+ open leads, not 8$/);
});

it('counts open leads as they are once the days back have passed', () => {
  const routing = afterLeave();
  const { owners, notes } = routeMany(routing, Date.parse('2026-03-19T09:00:00Z'), 3);
  expect(owners).toEqual(['x', 'x', 'x']);
  expect(notes.filter((n) => n.includes('back from leave'))).toEqual([]);
});

it('does not raise a rep who was never away, nor one back from leave who holds more than the others', () => {
  const routing = afterLeave();
  routing.users['x'] = { open: 40, routedToday: 0, routedThisWeek: 0 };
  routing.users['y'] = { open: 2, routedToday: 0, routedThisWeek: 0 };
  const { owners, notes } = routeMany(routing, Date.parse('2026-03-14T09:00:00Z'), 3);
  expect(owners).toEqual(['y', 'y', 'y']);
  expect(notes.filter((n) => n.includes('back from leave'))).toEqual([]);
});
