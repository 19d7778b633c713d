import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countRouted, routeLead, type RoutingOutcome } from '../../src/domain/assignment.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { processSchema, type Process } from '../../src/domain/process-schema.js';

const DAY = 86_400_000;
const start = Date.parse('2026-03-02T10:00:00Z');

function teamProcess(
  members: { id: string; weight?: number; ooo?: { from: string; to: string }[]; perDay?: number }[],
  strategy: 'round_robin' | 'weighted' | 'least_open',
): Process {
  return processSchema.parse({
    name: 't',
    organisation: { timezone: 'UTC' },
    users: [
      ...members.map((m) => ({
        id: m.id,
        name: m.id,
        weight: m.weight ?? 1,
        out_of_office: m.ooo ?? [],
        capacity: m.perDay ? { per_day: m.perDay } : {},
      })),
      { id: 'boss', name: 'Boss' },
    ],
    teams: [{ id: 'sales', name: 'Sales', members: members.map((m) => m.id) }],
    assignment: { default_owner: 'boss', rules: [{ id: 'all', to: { team: 'sales', strategy } }] },
    pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
  });
}

/** Routes one new lead and counts it, as decide() does when the owner changes. */
function route(p: Process, routing: RoutingState, at: number): RoutingOutcome {
  const out = routeLead(p, {}, routing, at);
  countRouted(routing, out.owner);
  // The engine's routing session keeps open-lead load; here each routed lead stays open.
  const load = routing.users[out.owner];
  if (load) load.open++;
  return out;
}

function fresh(): RoutingState {
  return { users: {}, cursors: {} };
}

describe('routeLead', () => {
  it('round robin spreads evenly: counts never differ by more than one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 200 }), (n, leads) => {
        const p = teamProcess(
          Array.from({ length: n }, (_, i) => ({ id: `r${i}` })),
          'round_robin',
        );
        const routing = fresh();
        const counts = new Map<string, number>();
        for (let i = 0; i < leads; i++) {
          const owner = route(p, routing, start).owner;
          counts.set(owner, (counts.get(owner) ?? 0) + 1);
        }
        const values = [...counts.values()];
        expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
        expect(values.reduce((a, b) => a + b, 0)).toBe(leads);
      }),
    );
  });

  it('does not flood a rep returning from leave', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 10 }), (n, awayDays) => {
        const to = new Date(start + (awayDays - 1) * DAY).toISOString().slice(0, 10);
        const members = Array.from({ length: n }, (_, i) => ({
          id: `r${i}`,
          ...(i === 0 ? { ooo: [{ from: '2026-03-02', to }] } : {}),
        }));
        const p = teamProcess(members, 'round_robin');
        const routing = fresh();
        // Ten leads a day while r0 is away, then n leads right after the return.
        for (let d = 0; d < awayDays; d++)
          for (let k = 0; k < 10; k++) expect(route(p, routing, start + d * DAY).owner).not.toBe('r0');
        const back = start + awayDays * DAY;
        const owners = Array.from({ length: n }, () => route(p, routing, back).owner);
        expect(owners.filter((o) => o === 'r0')).toHaveLength(1);
      }),
    );
  });

  it('weighted routing follows the weights', () => {
    const p = teamProcess(
      [
        { id: 'a', weight: 3 },
        { id: 'b', weight: 1 },
      ],
      'weighted',
    );
    const routing = fresh();
    const owners = Array.from({ length: 400 }, () => route(p, routing, start).owner);
    expect(owners.filter((o) => o === 'a')).toHaveLength(300);
    // Smooth: b is never starved for more than three leads in a row.
    expect(owners.join(',')).not.toMatch(/(a,){4}/);
  });

  it('falls back to the default owner when every member hit the daily cap', () => {
    const p = teamProcess(
      [
        { id: 'a', perDay: 2 },
        { id: 'b', perDay: 1 },
      ],
      'round_robin',
    );
    const routing = fresh();
    const owners = Array.from({ length: 5 }, () => route(p, routing, start).owner);
    expect(owners).toEqual(['a', 'b', 'a', 'boss', 'boss']);
    const out = route(p, routing, start);
    expect(out.rule).toBe('default_owner');
    expect(out.passedOver.map((x) => x.why)).toEqual(['daily cap 2 reached', 'daily cap 1 reached']);
  });

  it('names the working day a full cap belongs to when the rep is off until then', () => {
    const p = processSchema.parse({
      name: 't',
      organisation: { timezone: 'Europe/Berlin' },
      users: [
        {
          id: 'a',
          name: 'A',
          capacity: { per_day: 1, per_week: 1 },
          working_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' },
        },
        { id: 'boss', name: 'Boss' },
      ],
      assignment: { default_owner: 'boss', rules: [{ id: 'all', to: { user: 'a' } }] },
      pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
    });
    const full: RoutingState = { users: { a: { open: 0, routedToday: 1, routedThisWeek: 0 } }, cursors: {} };
    // Saturday night: the count loaded is Monday's, and the message says so.
    const saturday = routeLead(p, {}, full, Date.parse('2026-03-14T01:00:00Z'));
    expect(saturday.passedOver.map((x) => x.why)).toEqual(['daily cap 1 reached for 2026-03-16']);
    // At work on Monday the day is today's: no date.
    const monday = routeLead(p, {}, full, Date.parse('2026-03-16T10:00:00Z'));
    expect(monday.passedOver.map((x) => x.why)).toEqual(['daily cap 1 reached']);
    const week: RoutingState = { users: { a: { open: 0, routedToday: 0, routedThisWeek: 1 } }, cursors: {} };
    const sunday = routeLead(p, {}, week, Date.parse('2026-03-15T12:00:00Z'));
    expect(sunday.passedOver.map((x) => x.why)).toEqual(['weekly cap 1 reached for 2026-W12']);
  });

  it('least_open picks the rep with the fewest open leads', () => {
    const p = teamProcess([{ id: 'a' }, { id: 'b' }, { id: 'c' }], 'least_open');
    const routing: RoutingState = {
      users: {
        a: { open: 5, routedToday: 0, routedThisWeek: 0 },
        b: { open: 2, routedToday: 0, routedThisWeek: 0 },
        c: { open: 4, routedToday: 0, routedThisWeek: 0 },
      },
      cursors: {},
    };
    expect([1, 2, 3].map(() => route(p, routing, start).owner)).toEqual(['b', 'b', 'c']);
  });
});

describe('routing by the reps’ own attributes', () => {
  const p = processSchema.parse({
    name: 'pool',
    organisation: { timezone: 'UTC' },
    users: [
      { id: 'ana', name: 'Ana', territories: ['EMEA'], products: ['Core'], tier: 'senior' },
      { id: 'bo', name: 'Bo', territories: ['emea'], products: ['Analytics'], tier: 'junior' },
      { id: 'cy', name: 'Cy', territories: ['EMEA', 'APAC'], products: ['Core', 'Analytics'], tier: 'closer' },
      { id: 'vp', name: 'VP' },
    ],
    assignment: {
      default_owner: 'vp',
      rules: [
        { id: 'big', when: { field: 'value', gte: 50000 }, to: { pool: { tier: ['closer'] } } },
        { id: 'fit', to: { pool: { territory: true, product: true } } },
      ],
    },
    pipelines: [{ id: 'p', name: 'P', default: true, stages: [{ id: 's', name: 'S' }] }],
  });

  it('sends leads to reps whose territory and product line match, in rotation', () => {
    const routing = fresh();
    const owners = [1, 2, 3, 4].map(() => routeLead(p, { territory: 'EMEA', product: 'core' }, routing, start).owner);
    expect(owners).toEqual(['ana', 'cy', 'ana', 'cy']);
    expect(routeLead(p, { territory: 'apac', product: 'Analytics' }, routing, start).owner).toBe('cy');
    expect(routeLead(p, { territory: 'LATAM', product: 'Core' }, routing, start)).toMatchObject({
      owner: 'vp',
      rule: 'default_owner',
    });
  });

  it('sends high-value leads to the closer tier', () => {
    expect(routeLead(p, { territory: 'EMEA', product: 'Core', value: 90000 }, fresh(), start)).toMatchObject({
      owner: 'cy',
      rule: 'big',
      target: expect.stringContaining('pool:') as unknown as string,
    });
  });
});
