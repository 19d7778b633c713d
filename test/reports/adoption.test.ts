import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { runImport } from '../../src/import/import-service.js';
import { ReportError, runReport } from '../../src/reports/run-report.js';
import { simulate } from '../../src/simulate.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';
import { report, scenarioStore } from './scenario-report.js';

/**
 * `adoption` on scenarios/adoption, computed by hand. Period P = [2026-03-02, 2026-03-09), now
 * 2026-03-20 (after P, so figures "at to" are taken at 03-09 00:00). Teams: t1 = anna, ben;
 * t2 = carl, dave.
 *
 * Tasks with due_at in P, not skipped by the engine before due_at (assignee in brackets):
 *   L1 call    due 03-03 10:00, done 03-03 09:00           on time  [anna]
 *   L2 call#1  due 03-03 11:00, skipped 03-02 12:00 (move)  left out (skipped before due)
 *   L2 send    due 03-03 12:00, skipped 03-04 08:00 (back)  skipped after due [anna]
 *   L5 call    due 03-04 10:00, skipped 03-03 12:00 (pipe)  left out
 *   L5 plan    due 03-04 12:00, done 03-04 11:00           on time  [carl]
 *   L2 call#2  due 03-05 08:00, done 03-05 07:00           on time  [anna]
 *   L1 demo    due 03-05 09:00, done 03-06 09:00           late     [anna]
 *   L6 demo#2  due 03-06 10:00, done 03-06 11:00           late     [dave]  (after the reopen)
 *   L2 demo    due 03-07 07:00, done 03-12 10:00           late     [ben]   (reassigned 03-08 with the lead)
 *   L1 send    due 03-07 09:00, skipped 03-08 10:00 (move) skipped after due [anna]
 *   L6 send    due 03-07 11:00, still open                 overdue open [dave]
 *   => 9 tasks: 3 on time, 3 late, 1 open, 2 skipped after due; rate 3/9.
 *   anna 5 (2 on time, 1 late, 2 skipped) 0.4; ben 1 (late) 0; carl 1 (on time) 1; dave 2 (late, open) 0.
 *
 * Forward exits in P (goal or moved into a higher stage of the same pipeline; owner then):
 *   L2 qualify->propose moved 03-02 (skips demo) [anna]; L1 qualify->demo goal 03-03 [anna];
 *   L2 qualify->demo goal 03-05 [anna]; L1 demo->propose goal 03-06 [anna];
 *   L6 demo->propose goal 03-06 [dave]; L1 propose->close moved 03-08 [anna].
 *   Not forward: L2 propose->qualify (back), L5 nb->up (pipeline), L5 lost, L6's reopen.
 *   => 6 forward, 4 goal: 0.6667; anna 5/3 = 0.6; dave 1/1.
 *
 * Open at 03-09 (owner then): L1 (close stage, anna), L2 (demo, ben since 03-08), L3 (ben),
 *   L4 (ben), L6 (propose, dave); L5 was lost 03-06. Neglected (no open task, no task completed
 *   or activity in [02-23, 03-09)): L3 only (L1 completed tasks 03-03 and 03-06, L2 and L6 have
 *   open tasks, L4 an activity 03-01). => 5 open, 1 neglected, 0.2. With --window 7
 *   ([03-02, 03-09)) L4's activity is outside too: 2 neglected, 0.4.
 *
 * Reps who owned an open lead in P: anna (L1, L2), ben (L3, L4, L2), carl (L5), dave (L6 after
 *   the reopen). Active in P: anna (L1 call 03-03), carl (L5 plan 03-04), dave (L6 demo 03-06,
 *   activity 03-07); ben completed nothing in P (L2 demo 03-12, L4's activity 03-01) => 3/4.
 */

const NOW = '2026-03-20T00:00:00Z';
const P = { from: '2026-03-02', to: '2026-03-09' };

/** The organisation's figures for P: the ungrouped row, and the grouped reports' total. */
/** The ungrouped row of a period with nothing in it: counts 0, rates null. */
const NOTHING = {
  tasks_due: 0,
  on_time: 0,
  completed_late: 0,
  overdue_open: 0,
  skipped_overdue: 0,
  on_time_rate: null,
  forward_exits: 0,
  goal_exits: 0,
  goal_driven_share: null,
  open_leads: 0,
  neglected: 0,
  neglected_share: null,
  reps: 0,
  active_reps: 0,
  active_rep_share: null,
};

const ORGANISATION = {
  tasks_due: 9,
  on_time: 3,
  completed_late: 3,
  overdue_open: 1,
  skipped_overdue: 2,
  on_time_rate: 0.3333,
  forward_exits: 6,
  goal_exits: 4,
  goal_driven_share: 0.6667,
  open_leads: 5,
  neglected: 1,
  neglected_share: 0.2,
  reps: 4,
  active_reps: 3,
  active_rep_share: 0.75,
};

describe.each(dialects)('adoption on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await scenarioStore(dialect, 'adoption');
  });
  afterAll(async () => {
    await store.close();
  });

  it('gives the organisation total without --by', async () => {
    const out = await report(store, 'adoption', NOW, P);
    expect(out).toMatchObject({ report: 'adoption', from: '2026-03-02', to: '2026-03-09', by: null });
    expect(out.rows).toEqual([ORGANISATION]);
    expect(out.summary).toEqual({ window_days: 14 });
  });

  it('groups by owner: tasks by assignee, exits and open leads by the owner at the time', async () => {
    const out = await report(store, 'adoption', NOW, { ...P, by: 'owner' });
    expect(out.rows).toEqual([
      {
        owner: 'Anna',
        owner_id: 'anna',
        tasks_due: 5,
        on_time: 2,
        completed_late: 1,
        overdue_open: 0,
        skipped_overdue: 2,
        on_time_rate: 0.4,
        forward_exits: 5,
        goal_exits: 3,
        goal_driven_share: 0.6,
        open_leads: 1,
        neglected: 0,
        neglected_share: 0,
        reps: 1,
        active_reps: 1,
        active_rep_share: 1,
      },
      {
        owner: 'Ben',
        owner_id: 'ben',
        tasks_due: 1,
        on_time: 0,
        completed_late: 1,
        overdue_open: 0,
        skipped_overdue: 0,
        on_time_rate: 0,
        // Ben advanced nothing in P: no forward exits, so the share is null, not 0.
        forward_exits: 0,
        goal_exits: 0,
        goal_driven_share: null,
        open_leads: 3,
        neglected: 1,
        neglected_share: 0.3333,
        reps: 1,
        active_reps: 0,
        active_rep_share: 0,
      },
      {
        owner: 'Carl',
        owner_id: 'carl',
        tasks_due: 1,
        on_time: 1,
        completed_late: 0,
        overdue_open: 0,
        skipped_overdue: 0,
        on_time_rate: 1,
        forward_exits: 0,
        goal_exits: 0,
        goal_driven_share: null,
        open_leads: 0,
        neglected: 0,
        neglected_share: null,
        reps: 1,
        active_reps: 1,
        active_rep_share: 1,
      },
      {
        owner: 'Dave',
        owner_id: 'dave',
        tasks_due: 2,
        on_time: 0,
        completed_late: 1,
        overdue_open: 1,
        skipped_overdue: 0,
        on_time_rate: 0,
        forward_exits: 1,
        goal_exits: 1,
        goal_driven_share: 1,
        open_leads: 1,
        neglected: 0,
        neglected_share: 0,
        reps: 1,
        active_reps: 1,
        active_rep_share: 1,
      },
    ]);
  });

  it('groups by team', async () => {
    // t1 = anna + ben: tasks 6 (2 on time, 2 late, 2 skipped) 2/6; exits 5/3; open 4, neglected 1;
    // reps 2, active 1. t2 = carl + dave: tasks 3 (1 on time, 1 late, 1 open) 1/3; exits 1/1;
    // open 1, neglected 0; reps 2, active 2.
    const out = await report(store, 'adoption', NOW, { ...P, by: 'team' });
    expect(
      out.rows.map((r) => [
        r['team_id'],
        r['tasks_due'],
        r['on_time_rate'],
        r['goal_driven_share'],
        r['open_leads'],
        r['neglected'],
        r['reps'],
        r['active_reps'],
      ]),
    ).toEqual([
      ['t1', 6, 0.3333, 0.6, 4, 1, 2, 1],
      ['t2', 3, 0.3333, 1, 1, 0, 2, 2],
    ]);
    expect(out.rows[0]).toMatchObject({ team: 'Team One', completed_late: 2, skipped_overdue: 2 });
    // The total row is the organisation's: the ungrouped figures (t1 + t2 here: 9 tasks, 3 on
    // time, exits 6 of which 4 by goal, 5 open leads, 1 neglected, 4 reps of whom 3 active).
    expect(out.summary).toEqual({ window_days: 14, total: ORGANISATION });
    const byOwner = await report(store, 'adoption', NOW, { ...P, by: 'owner' });
    expect(byOwner.summary).toEqual({ window_days: 14, total: ORGANISATION });
  });

  it('takes the neglect window from --window', async () => {
    const out = await report(store, 'adoption', NOW, { ...P, options: { window: '7' } });
    expect(out.rows[0]).toMatchObject({ open_leads: 5, neglected: 2, neglected_share: 0.4 });
    expect(out.summary).toEqual({ window_days: 7 });
  });

  it('measures nothing for a period that has not started, rather than today as if it were then', async () => {
    const out = await report(store, 'adoption', NOW, { from: '2026-04-01', to: '2026-05-01' });
    expect(out.rows).toEqual([]);
    expect(out.notes).toEqual(['the period has not started (it starts 2026-04-01): nothing to measure yet']);
  });

  it('filters by pipeline: only the upsell stay of L5 and its task', async () => {
    // In pipeline up: L5's plan task (on time, carl); no forward exits; nothing open at 03-09;
    // carl owned L5 while it was open in up (03-03 12:00 to 03-06 12:00) and completed plan there.
    const out = await report(store, 'adoption', NOW, { ...P, pipeline: 'up' });
    expect(out.rows).toEqual([
      expect.objectContaining({
        tasks_due: 1,
        on_time: 1,
        on_time_rate: 1,
        forward_exits: 0,
        goal_driven_share: null,
        open_leads: 0,
        neglected_share: null,
        reps: 1,
        active_reps: 1,
      }),
    ]);
  });

  it('has its one total row, of zero counts and null rates, for an empty period', async () => {
    const out = await report(store, 'adoption', NOW, { from: '2025-01-01', to: '2025-02-01' });
    expect(out.rows).toEqual([NOTHING]);
    // Grouped, the same figures are the total, and there is no group.
    const byOwner = await report(store, 'adoption', NOW, { from: '2025-01-01', to: '2025-02-01', by: 'owner' });
    expect([byOwner.rows, byOwner.summary?.['total']]).toEqual([[], NOTHING]);
  });

  it('judges a period that has not ended as of now', async () => {
    // now = 03-09 00:00 inside [03-02, 03-16): tasks due and open leads are taken at 03-09, as
    // for P above (the figures over the whole period, such as exits, would see the later events
    // this store already holds, so they are not checked here), and a note says so.
    const out = await report(store, 'adoption', '2026-03-09T00:00:00Z', { from: '2026-03-02', to: '2026-03-16' });
    expect(out.rows[0]).toMatchObject({ tasks_due: 9, open_leads: 5, neglected: 1 });
    expect(out.notes).toEqual([expect.stringContaining('as of now (2026-03-09)')]);
  });

  it('refuses a bad window, another grouping and foreign options', async () => {
    await expect(report(store, 'adoption', NOW, { ...P, options: { window: '0' } })).rejects.toThrow(
      /--window must be a whole number of days/,
    );
    await expect(report(store, 'adoption', NOW, { ...P, options: { window: 'two' } })).rejects.toThrow(ReportError);
    await expect(report(store, 'adoption', NOW, { ...P, by: 'product' })).rejects.toThrow(
      /adoption cannot be grouped by "product"/,
    );
    await expect(report(store, 'adoption', NOW, { ...P, options: { owner: 'anna' } })).rejects.toThrow(
      /adoption has no --owner option/,
    );
  });
});

/**
 * Imported history is left out of adoption; an imported open lead is live from its import on. The
 * Pipedrive fixture of the import tests (process in Europe/Berlin) imported on 2026-03-02 rebuilds:
 * 101 (anna) qualified -> demo 01-20, open in demo; 102 won, 103 lost (before 2026); 104 (carla)
 * open in qualified; 105 (ben) qualified -> negotiation 02-10, open. Then, in Stageflow: 101 is
 * moved demo -> proposal on 03-03 and an integration logs an activity on 105 on 03-04.
 *
 * Jan-Feb 2026 (before the import): the two forward moves were recorded by the import (their next
 *   stays are imported), and the three open leads sit in stays that were history then: nothing
 *   counts, no rows (counted, they would show a goal-driven share of 0 and three neglected leads).
 * March 2026: one forward exit, a move, made in Stageflow out of an imported stay (anna): share 0.
 *   Open at 04-01: 101 (in its Stageflow stay), 104 and 105 (in their imported stays, live since
 *   the import on 03-02). None has a task (the fixture stages have none) and none an activity in
 *   the 14 days before 04-01 (105's is on 03-04): all three neglected. anna, carla and ben owned
 *   them while open in March: reps 3; ben's lead got the integration's activity, which counts for
 *   its owner: active 1.
 */
describe.each(dialects)('adoption with imported history on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    const fixtures = join(import.meta.dirname, '..', 'fixtures', 'import');
    store = await freshStore(dialect);
    await applyProcess(
      store,
      readFileSync(join(fixtures, 'process.yaml'), 'utf8'),
      Date.parse('2026-03-01T09:00:00Z'),
      'test',
    );
    const imported = await runImport(store, {
      format: 'pipedrive',
      path: join(fixtures, 'pipedrive-deals.csv'),
      dryRun: false,
      skipInvalid: false,
      now: Date.parse('2026-03-02T09:00:00Z'),
      actor: { kind: 'import' },
    });
    expect(imported).toMatchObject({ outcome: 'imported', written: 5 });
    const engine = new Engine(store);
    const moved = await engine.handle(
      { type: 'lead.moved', lead: 'pipedrive:101', stage: 'proposal', override: false },
      Date.parse('2026-03-03T10:00:00Z'),
    );
    const logged = await engine.handle(
      { type: 'activity.logged', lead: 'pipedrive:105', kind: 'call' },
      Date.parse('2026-03-04T10:00:00Z'),
    );
    expect([moved.ok, logged.ok]).toEqual([true, true]);
  });
  afterAll(async () => {
    await store.close();
  });

  it('does not count what the import rebuilt', async () => {
    const out = await report(store, 'adoption', NOW, { from: '2026-01-01', to: '2026-03-01' });
    expect(out.rows).toEqual([NOTHING]);
  });

  it('counts what was done in Stageflow since', async () => {
    const out = await report(store, 'adoption', '2026-04-10T00:00:00Z', { from: '2026-03-01', to: '2026-04-01' });
    expect(out.rows).toEqual([
      {
        tasks_due: 0,
        on_time: 0,
        completed_late: 0,
        overdue_open: 0,
        skipped_overdue: 0,
        on_time_rate: null,
        forward_exits: 1,
        goal_exits: 0,
        goal_driven_share: 0,
        open_leads: 3,
        neglected: 3,
        neglected_share: 1,
        reps: 3,
        active_reps: 1,
        active_rep_share: 0.3333,
      },
    ]);
  });

  it('counts an imported open lead from its import on, by owner', async () => {
    // At 03-02 08:00, before the 09:00 import, nothing was live; an hour after it, all three are.
    const before = await report(store, 'adoption', '2026-04-10T00:00:00Z', {
      from: '2026-02-01',
      to: '2026-03-02T08:00:00Z',
      by: 'owner',
    });
    expect(before.rows).toEqual([]);
    const after = await report(store, 'adoption', '2026-04-10T00:00:00Z', {
      from: '2026-03-02T09:00:00Z',
      to: '2026-03-02T10:00:00Z',
      by: 'owner',
    });
    expect(after.rows.map((r) => [r['owner'], r['open_leads'], r['neglected'], r['reps']])).toEqual([
      ['Anna Schmidt', 1, 1, 1],
      ['Ben Okafor', 1, 1, 1],
      ['Carla Diaz', 1, 1, 1],
    ]);
  });
});

/**
 * Active reps across a handover, counted by hand: M1 is created for carl on 03-02 10:00 and handed
 * to dave on 03-04 10:00; no other lead. In [03-03, 03-05) both owned it while open (carl's span
 * ended inside the period, so he is found through the handover, not through a lead he owns now); in
 * [03-05, 03-06) only dave did.
 */
describe.each(dialects)('adoption across a handover on %s', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    const dir = join(import.meta.dirname, 'scenarios', 'adoption');
    const events = [
      { at: '2026-03-02T10:00:00Z', type: 'lead.created', lead: 'M1', owner: 'carl', fields: { name: 'Handed Co' } },
      { at: '2026-03-04T10:00:00Z', type: 'lead.reassigned', lead: 'M1', owner: 'dave' },
    ];
    const result = await simulate({
      processText: readFileSync(join(dir, 'process.yaml'), 'utf8'),
      eventsText: events.map((e) => JSON.stringify(e)).join('\n'),
      store,
    });
    expect(result.rejected).toEqual([]);
  });
  afterAll(async () => {
    await store.close();
  });

  const reps = async (from: string, to: string, by?: 'owner' | 'team') => {
    const out = await report(store, 'adoption', NOW, { from, to, ...(by ? { by } : {}) });
    return out.rows.map((r) => [r[by === 'team' ? 'team_id' : by === 'owner' ? 'owner_id' : 'reps'], r['reps']]);
  };

  it('counts the earlier owner when the span ended inside the period', async () => {
    expect(await reps('2026-03-03', '2026-03-05')).toEqual([[2, 2]]);
    expect(await reps('2026-03-03', '2026-03-05', 'owner')).toEqual([
      ['carl', 1],
      ['dave', 1],
    ]);
    expect(await reps('2026-03-03', '2026-03-05', 'team')).toEqual([['t2', 2]]);
  });

  it('leaves the earlier owner out when the span ended before the period', async () => {
    expect(await reps('2026-03-05', '2026-03-06')).toEqual([[1, 1]]);
    expect(await reps('2026-03-05', '2026-03-06', 'owner')).toEqual([['dave', 1]]);
    expect(await reps('2026-03-05', '2026-03-06', 'team')).toEqual([['t2', 1]]);
  });

  it('finds the earlier owner through the handover in a report limited to him', async () => {
    const out = await runReport(store, {
      name: 'adoption',
      now: Date.parse(NOW),
      from: '2026-03-03',
      to: '2026-03-05',
      by: 'owner',
      owners: ['carl'],
    });
    expect(out.rows.map((r) => [r['owner_id'], r['reps']])).toEqual([['carl', 1]]);
  });
});
