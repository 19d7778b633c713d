import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, type SimulationResult } from '../src/simulate.js';
import { dialects, freshStore } from './support/stores.js';

/**
 * The regression net: every folder under test/scenarios holds a process, an event file and the
 * expected outcome, and runs through the real engine on SQLite and on PostgreSQL.
 * See test/scenarios/README.md for the format.
 */

type Range = number | [number, number];

interface Expected {
  description: string;
  process?: string;
  until?: string;
  expect?: Record<string, unknown>;
  lead_count?: number;
  owner_counts?: Record<string, Range>;
  owner_counts_window?: { from: string; to: string; counts: Record<string, Range> }[];
}

const root = join(import.meta.dirname, 'scenarios');
const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'expected.json')))
  .map((d) => d.name)
  .sort();

function countOwners(result: SimulationResult, from?: string, to?: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const lead of result.leads) {
    const created = lead.created_at ?? '';
    if (from && created < new Date(from).toISOString()) continue;
    if (to && created >= new Date(to).toISOString()) continue;
    const owner = lead.owner ?? '(none)';
    counts[owner] = (counts[owner] ?? 0) + 1;
  }
  return counts;
}

function checkRanges(actual: Record<string, number>, wanted: Record<string, Range>, what: string): void {
  for (const [owner, range] of Object.entries(wanted)) {
    const n = actual[owner] ?? 0;
    const [lo, hi] = typeof range === 'number' ? [range, range] : range;
    expect(n, `${what}: leads of ${owner} (all: ${JSON.stringify(actual)})`).toBeGreaterThanOrEqual(lo);
    expect(n, `${what}: leads of ${owner} (all: ${JSON.stringify(actual)})`).toBeLessThanOrEqual(hi);
  }
}

it('has at least 20 scenarios', () => {
  expect(scenarios.length).toBeGreaterThanOrEqual(20);
});

describe.each(dialects)('scenarios on %s', (dialect) => {
  it.each(scenarios)('%s', async (name) => {
    const dir = join(root, name);
    const spec = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
    const store = await freshStore(dialect);
    try {
      const result = await simulate({
        processText: readFileSync(join(dir, spec.process ?? 'process.yaml'), 'utf8'),
        eventsText: readFileSync(join(dir, 'events.jsonl'), 'utf8'),
        ...(spec.until ? { until: Date.parse(spec.until) } : {}),
        store,
      });
      if (spec.expect) expect(result).toMatchObject(spec.expect);
      if (spec.lead_count !== undefined) expect(result.leads).toHaveLength(spec.lead_count);
      if (spec.owner_counts) checkRanges(countOwners(result), spec.owner_counts, 'all leads');
      for (const w of spec.owner_counts_window ?? [])
        checkRanges(countOwners(result, w.from, w.to), w.counts, `leads created ${w.from}..${w.to}`);
    } finally {
      await store.close();
    }
  });
});
