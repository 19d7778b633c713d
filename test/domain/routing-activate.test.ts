import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { runImport } from '../../src/import/import-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * An imported lead without an owner is routed when it goes live (`import --automations`,
 * `lead activate`): under the same caps and rotation as a new lead, and counted against them.
 * So is one whose owner is inactive: they have left, and would get its tasks and reminders.
 * On a real SQLite file and a real PostgreSQL.
 */

const PROCESS = `name: Activate caps
organisation: { timezone: UTC }
users:
  - { id: boss, name: Boss }
  - { id: a, name: A, capacity: { per_day: 1 } }
  - { id: b, name: B, capacity: { per_day: 1 } }
  - { id: gone, name: Gone, active: false }
teams:
  - { id: t, name: T, members: [a, b] }
assignment:
  default_owner: boss
  rules:
    - { id: r, to: { team: t, strategy: round_robin } }
pipelines:
  - id: p
    name: P
    stages:
      - id: s1
        name: S1
        tasks:
          - { id: call, title: Call, kind: call, due: { days: 1 } }
`;

const CSV = `Ref,Name,Owner,Stage,Status,Created
1,One,,s1,open,2026-03-01
2,Two,,s1,open,2026-03-01
3,Three,,s1,open,2026-03-01
4,Four,,s1,open,2026-03-01
`;

const MAPPING = `source: legacy
pipeline: p
columns: { id: Ref, name: Name, owner: Owner, stage: Stage, status: Status, created_at: Created }
`;

const NOW = Date.parse('2026-03-02T09:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Leads 7 and 8 are still owned by someone who has left. */
const CSV_INACTIVE_OWNER = `Ref,Name,Owner,Stage,Status,Created
7,Seven,gone,s1,open,2026-03-01
8,Eight,gone,s1,open,2026-03-01
`;

async function importLeads(store: Store, automations: boolean, csv = CSV): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'routing-activate-'));
  const path = join(dir, 'leads.csv');
  writeFileSync(path, csv);
  const report = await runImport(store, {
    format: 'generic',
    path,
    mapping: { text: MAPPING, label: 'm.yaml' },
    dryRun: false,
    skipInvalid: false,
    automations,
    now: NOW,
    actor: { kind: 'import' },
  });
  expect(report.outcome).toBe('imported');
}

async function owners(store: Store): Promise<Record<string, string | null>> {
  const rows = await store.db.selectFrom('leads').select(['id', 'owner']).orderBy('id').execute();
  return Object.fromEntries(rows.map((r) => [r.id, r.owner]));
}

describe.each(dialects)('routing an imported lead as it goes live on %s', (dialect) => {
  async function setup(): Promise<Store> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, NOW - 86_400_000, 'test');
    return store;
  }

  const expected = { 'legacy:1': 'a', 'legacy:2': 'b', 'legacy:3': 'boss', 'legacy:4': 'boss' };

  it('import --automations rotates and respects the daily caps, and records what it counted', async () => {
    const store = await setup();
    await importLeads(store, true);
    expect(await owners(store)).toEqual(expected);
    const counts = await store.db.selectFrom('routing_counts').select(['user_id', 'period', 'routed']).execute();
    expect(counts.filter((c) => c.period.startsWith('D')).sort((x, y) => x.user_id.localeCompare(y.user_id))).toEqual([
      { user_id: 'a', period: 'D2026-03-02', routed: 1 },
      { user_id: 'b', period: 'D2026-03-02', routed: 1 },
    ]);
  });

  it('lead activate, one at a time, does the same', async () => {
    const store = await setup();
    await importLeads(store, false);
    const engine = new Engine(store);
    for (const id of Object.keys(expected)) {
      const out = await engine.handle({ type: 'lead.activated', lead: id }, NOW);
      if (!out.ok) throw new Error(out.error.message);
    }
    expect(await owners(store)).toEqual(expected);
  });

  /** Who holds each open task, and what the run log says of the inactive owner. */
  async function handedTo(store: Store): Promise<{ tasks: Record<string, string | null>; notes: string[] }> {
    const tasks = await store.db.selectFrom('tasks').select(['id', 'assignee']).where('status', '=', 'open').execute();
    const notes = await store.db
      .selectFrom('run_log')
      .select('message')
      .where('message', 'like', 'owner gone%')
      .orderBy('lead_id')
      .execute();
    return { tasks: Object.fromEntries(tasks.map((t) => [t.id, t.assignee])), notes: notes.map((n) => n.message) };
  }

  const routedPastGone = {
    tasks: { 'legacy:7#2:call': 'a', 'legacy:8#2:call': 'b' },
    notes: ['owner gone is inactive; routed by the rules', 'owner gone is inactive; routed by the rules'],
  };

  it('import --automations routes a lead whose owner is inactive, instead of handing its tasks to them', async () => {
    const store = await setup();
    await importLeads(store, true, CSV_INACTIVE_OWNER);
    expect(await owners(store)).toEqual({ 'legacy:7': 'a', 'legacy:8': 'b' });
    expect(await handedTo(store)).toEqual(routedPastGone);
  });

  it('lead activate routes such a lead the same way', async () => {
    const store = await setup();
    await importLeads(store, false, CSV_INACTIVE_OWNER);
    expect(await owners(store)).toEqual({ 'legacy:7': 'gone', 'legacy:8': 'gone' });
    const engine = new Engine(store);
    for (const id of ['legacy:7', 'legacy:8']) {
      const out = await engine.handle({ type: 'lead.activated', lead: id }, NOW);
      if (!out.ok) throw new Error(out.error.message);
    }
    expect(await owners(store)).toEqual({ 'legacy:7': 'a', 'legacy:8': 'b' });
    expect(await handedTo(store)).toEqual(routedPastGone);
  });
});
