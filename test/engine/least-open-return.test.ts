import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * least_open and a rep back from leave, through the engine and the store (each lead its own
 * transaction, as on the CLI and the API): b is away 9-13 March in Berlin, a lead arrives every two
 * hours. For the five days back b gets their share plus a steady part of what they missed (docs:
 * 7 or 8 of each day's 12, never more than 4 in a row), has caught up when the days end, and the
 * day's routed counts come from the store's own day keys, not from a test resetting them. No rep
 * has a cap: a cap that never binds (1000 a day) must not change a single owner.
 */

const processText = (cap: string): string => `name: Least open return
organisation: { timezone: Europe/Berlin }
users:
  - { id: boss, name: Boss }
  - { id: a, name: A${cap} }
  - { id: b, name: B, out_of_office: [{ from: 2026-03-09, to: 2026-03-13 }]${cap} }
  - { id: c, name: C${cap} }
teams:
  - { id: abc, name: ABC, members: [a, b, c] }
assignment:
  default_owner: boss
  rules:
    - { id: r, to: { team: abc, strategy: least_open } }
pipelines:
  - id: p
    name: P
    default: true
    stages:
      - { id: s1, name: S1 }
`;

const HOUR = 3_600_000;
// Midnight 2 March in Berlin (UTC+1) to midnight 21 March.
const FIRST = Date.parse('2026-03-01T23:00:00Z');
const END = Date.parse('2026-03-20T23:00:00Z');

/** Routes a lead every two hours through the engine; the owners by Berlin day, in order. */
async function route(store: Store, cap: string): Promise<Map<string, string[]>> {
  await applyProcess(store, processText(cap), FIRST - HOUR, 'test');
  const engine = new Engine(store);
  const days = new Map<string, string[]>();
  for (let at = FIRST, i = 0; at < END; at += 2 * HOUR, i++) {
    const out = await engine.handle({ type: 'lead.created', lead: `L${i}`, actor: { kind: 'api' }, fields: {} }, at);
    if (!out.ok) throw new Error(JSON.stringify(out.error));
    const day = new Date(at + HOUR).toISOString().slice(0, 10);
    const owners = days.get(day) ?? [];
    owners.push(out.lead.owner ?? '(none)');
    days.set(day, owners);
  }
  return days;
}

const count = (owners: readonly string[], who: string): number => owners.filter((o) => o === who).length;

function longestRun(owners: readonly string[], who: string): number {
  let run = 0;
  let longest = 0;
  for (const o of owners) longest = Math.max(longest, (run = o === who ? run + 1 : 0));
  return longest;
}

describe.each(dialects)('a rep back from leave under least_open on %s', (dialect) => {
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });

  it('catches up steadily over as many days as they were away, capped or not', async () => {
    const uncapped = await freshStore(dialect);
    const capped = await freshStore(dialect);
    stores.push(uncapped, capped);
    const days = await route(uncapped, '');
    for (const day of ['2026-03-14', '2026-03-15', '2026-03-16', '2026-03-17', '2026-03-18']) {
      const owners = days.get(day) ?? [];
      expect(owners, day).toHaveLength(12);
      expect(count(owners, 'b'), `${day}: ${owners.join(' ')}`).toBeGreaterThanOrEqual(7);
      expect(count(owners, 'b'), `${day}: ${owners.join(' ')}`).toBeLessThanOrEqual(8);
      expect(longestRun(owners, 'b'), `${day}: ${owners.join(' ')}`).toBeLessThanOrEqual(4);
    }
    // Caught up: the day after the window is shared evenly.
    const after = days.get('2026-03-20') ?? [];
    expect(['a', 'b', 'c'].map((who) => count(after, who))).toEqual([4, 4, 4]);
    // A cap that never binds changes nothing.
    expect(await route(capped, ', capacity: { per_day: 1000 }')).toEqual(days);
  });
});
