import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DemoRefused, runDemo, type DemoSummary } from '../../src/demo/demo-service.js';
import { CloseDateReader } from '../../src/domain/close-date.js';
import { closeDateOf } from '../../src/reports/definitions/slippage.js';
import type { ReportRow } from '../../src/reports/report.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { latestProcess } from '../../src/store/processes.js';
import { freshStore } from '../support/stores.js';

/**
 * `stageflow demo` on real databases: a small company run (400 leads over 6 months) must be the
 * same for the same seed, differ for another, and hold everything the reports need.
 */

const PROCESS = readFileSync(new URL('../../examples/b2b-saas.process.yaml', import.meta.url), 'utf8');
const NOW = Date.parse('2026-11-27T06:00:00Z');
const SMALL = { leads: 400, months: 6, now: NOW, processText: PROCESS };

/** A hash of every lead, stage stay and task row, in id order. */
async function fingerprint(store: Store): Promise<string> {
  const h = createHash('sha256');
  const leads = await store.db
    .selectFrom('leads')
    .select(['id', 'pipeline', 'stage', 'status', 'owner', 'value_minor', 'created_at', 'closed_at', 'close_reason'])
    .select(['fields', 'expected_close', 'seq'])
    .orderBy('id')
    .execute();
  const stays = await store.db.selectFrom('stage_stays').selectAll().orderBy('id').execute();
  const tasks = await store.db.selectFrom('tasks').selectAll().orderBy('id').execute();
  for (const rows of [leads, stays, tasks]) for (const r of rows) h.update(JSON.stringify(r));
  return h.digest('hex');
}

/** The slippage report over the whole demo range (every change since the first lead), grouped or not. */
async function slippage(
  store: Store,
  opts: { by?: string; owners?: readonly string[] } = {},
): Promise<{ rows: ReportRow[]; total: ReportRow | undefined }> {
  const out = await runReport(store, { name: 'slippage', from: '2024-01-01', to: '2027-01-01', now: NOW, ...opts });
  const total = out.summary?.['total'] as ReportRow | undefined;
  return { rows: out.rows, total: total ?? out.rows[0] };
}

/**
 * Every pull (a close date moved earlier) in the field history, and those whose new date is a day
 * already past when the change was made, both days in the organisation's zone.
 */
async function pullsToPastDays(store: Store): Promise<{ checked: number; early: string[] }> {
  const zone = (await latestProcess(store.db))?.process.organisation.timezone ?? 'UTC';
  const dayOf = (ms: number): string => DateTime.fromMillis(ms, { zone }).toISODate() ?? '';
  const changes = await store.db
    .selectFrom('field_history')
    .select(['lead_id', 'at', 'old_value', 'new_value'])
    .where('field', '=', 'expected_close')
    .where('old_value', 'is not', null)
    .where('new_value', 'is not', null)
    .execute();
  let checked = 0;
  const early: string[] = [];
  const dates = new CloseDateReader(zone);
  for (const c of changes) {
    const from = closeDateOf(c.old_value ?? '', dates);
    const to = closeDateOf(c.new_value ?? '', dates);
    if (from === null || to === null || to >= from) continue;
    checked++;
    if (dayOf(to) < dayOf(c.at)) early.push(`${c.lead_id} pulled to ${dayOf(to)} on ${dayOf(c.at)}`);
  }
  return { checked, early };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

async function count(store: Store, query: ReturnType<typeof sql<{ n: number | string }>>): Promise<number> {
  const { rows } = await query.execute(store.db);
  return Number(rows[0]?.n ?? 0);
}

describe('stageflow demo on SQLite', () => {
  let store: Store;
  let summary: DemoSummary;

  beforeAll(async () => {
    store = await freshStore('sqlite');
    summary = await runDemo(store, { ...SMALL, seed: 7 });
  });
  afterAll(async () => store.close());

  it('is deterministic by seed', async () => {
    const again = await freshStore('sqlite');
    const other = await freshStore('sqlite');
    try {
      await runDemo(again, { ...SMALL, seed: 7 });
      await runDemo(other, { ...SMALL, seed: 8 });
      const first = await fingerprint(store);
      expect(await fingerprint(again)).toBe(first);
      expect(await fingerprint(other)).not.toBe(first);
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('builds five teams of about thirty reps, each team with a manager who is a user', async () => {
    const process = (await latestProcess(store.db))?.process;
    expect(process?.teams).toHaveLength(5);
    const reps = process?.users.filter((u) => ['junior', 'senior', 'closer'].includes(u.tier ?? '')) ?? [];
    expect(reps.length).toBeGreaterThanOrEqual(25);
    expect(reps.length).toBeLessThanOrEqual(35);
    for (const t of process?.teams ?? []) expect(process?.users.some((u) => u.id === t.manager)).toBe(true);
    expect(summary.people.struggling).toHaveLength(2);
  });

  it('has tasks done on time, done late and skipped, leads won, lost and open, in both pipelines', async () => {
    const onTime = await count(
      store,
      sql`select count(*) as n from tasks where status = 'done' and completed_at <= due_at`,
    );
    const late = await count(
      store,
      sql`select count(*) as n from tasks where status = 'done' and completed_at > due_at`,
    );
    const skipped = await count(store, sql`select count(*) as n from tasks where status = 'skipped'`);
    expect(onTime).toBeGreaterThan(late);
    expect(late).toBeGreaterThan(0);
    expect(skipped).toBeGreaterThan(0);
    expect(await count(store, sql`select count(*) as n from tasks where skip_reason = 'goal'`)).toBeGreaterThan(0);
    for (const status of ['won', 'lost', 'open'])
      expect(await count(store, sql`select count(*) as n from leads where status = ${status}`)).toBeGreaterThan(0);
    const pipelines = await sql<{ pipeline: string }>`select distinct pipeline from leads order by pipeline`.execute(
      store.db,
    );
    expect(pipelines.rows.map((r) => r.pipeline)).toEqual(['new-business', 'renewals']);
    const exits = await sql<{
      k: string;
    }>`select distinct exit_kind as k from stage_stays where exit_kind is not null`.execute(store.db);
    expect(exits.rows.map((r) => r.k).sort()).toEqual(expect.arrayContaining(['goal', 'lost', 'moved', 'won']));
    expect(await count(store, sql`select count(*) as n from events where type = 'activity.logged'`)).toBeGreaterThan(0);
    expect(await count(store, sql`select count(*) as n from events where type = 'signal.received'`)).toBeGreaterThan(0);
    expect(summary.events.refused).toBe(0);
    expect(summary.events.unplannedStageEntries).toBe(0);
  });

  it('gives most open leads a close date, and some a forecast category', async () => {
    const open = await count(store, sql`select count(*) as n from leads where status = 'open'`);
    const dated = await count(
      store,
      sql`select count(*) as n from leads where status = 'open' and expected_close is not null`,
    );
    expect(dated).toBeLessThan(open);
    expect(dated).toBeGreaterThan(open / 2);
    expect(
      await count(store, sql`select count(*) as n from field_history where field = 'forecast_category'`),
    ).toBeGreaterThan(0);
  });

  it('has close dates pushed out and, less often, pulled in, never to a day already past', async () => {
    const { total } = await slippage(store);
    const pushes = Number(total?.['pushes']);
    const pulls = Number(total?.['pulls']);
    expect(pulls).toBeGreaterThan(0);
    expect(pushes).toBeGreaterThan(2 * pulls);
    // About one change in five is a pull.
    expect(pulls / (pushes + pulls)).toBeGreaterThan(0.08);
    expect(pulls / (pushes + pulls)).toBeLessThan(0.35);
    const { checked, early } = await pullsToPastDays(store);
    expect(early).toEqual([]);
    expect(checked).toBe(pulls);
  });

  it('sets a quota for every rep and team, every month and quarter of the range', async () => {
    const process = (await latestProcess(store.db))?.process;
    const reps = process?.users.filter((u) => ['junior', 'senior', 'closer'].includes(u.tier ?? '')) ?? [];
    // 2026-05-27 to 2026-11-27 touches seven months and three quarters.
    const months = await count(
      store,
      sql`select count(*) as n from quotas where scope = 'user' and period not like '%Q%'`,
    );
    const quarters = await count(
      store,
      sql`select count(*) as n from quotas where scope = 'user' and period like '%-Q%'`,
    );
    expect(months).toBe(reps.length * 7);
    expect(quarters).toBe(reps.length * 3);
    expect(await count(store, sql`select count(*) as n from quotas where scope = 'team'`)).toBe(5 * 10);
  });

  it("records each period start's forecast: 6 months (June to November) and 2 quarters (Q3, Q4) start inside the range", async () => {
    // The range 2026-05-27 to 2026-11-27 contains the starts of 2026-06 … 2026-11 and 2026-Q3, 2026-Q4.
    const periods = await store.db
      .selectFrom('forecast_snapshots')
      .select('period')
      .distinct()
      .where('kind', '=', 'period_start')
      .orderBy('period')
      .execute();
    expect(periods.map((p) => p.period)).toEqual([
      '2026-06',
      '2026-07',
      '2026-08',
      '2026-09',
      '2026-10',
      '2026-11',
      '2026-Q3',
      '2026-Q4',
    ]);
    expect(summary.snapshots).toBe(8);
    const totals = await store.db
      .selectFrom('forecast_snapshots')
      .select(['period', 'forecast_minor'])
      .where('owner', '=', '')
      .where('period', 'in', ['2026-10', '2026-11'])
      .execute();
    expect(totals.every((t) => t.forecast_minor > 0)).toBe(true);
  });

  it('refuses a database that already has leads, unless forced', async () => {
    await expect(runDemo(store, { ...SMALL, seed: 7 })).rejects.toBeInstanceOf(DemoRefused);
  });
});

describe('the struggling reps', () => {
  let store: Store;
  let summary: DemoSummary;

  beforeAll(async () => {
    // A bigger company run: with 400 leads a rep sees too few deals at one stage, or close-date
    // changes, to tell.
    store = await freshStore('sqlite');
    summary = await runDemo(store, { ...SMALL, leads: 3000, months: 12, seed: 3 });
    // 3,000 leads through the real engine: this file took 187 s alone on an idle 2-core machine
    // and this hook passed the default two minutes in two CI runs. A hook's limit, not a speed check.
  }, 360_000);
  afterAll(async () => store.close());

  const strugglers = (): string[] => summary.people.struggling.map((entry) => entry.split(' (')[0] ?? '');

  it('convert worse at their weak stage than the other reps', async () => {
    const process = (await latestProcess(store.db))?.process;
    const pipeline = process?.pipelines.find((p) => p.id === 'new-business');
    for (const entry of summary.people.struggling) {
      const [rep, key] = entry.replace(')', '').split(' (');
      const stage = key?.split('/')[1] ?? '';
      const index = pipeline?.stages.findIndex((s) => s.id === stage) ?? -1;
      // Leads that left the stage (or closed in it), and which of them got past it.
      const { rows } = await sql<{ mine: number; n: number | string; x: number | string }>`
          select case when l.owner = ${rep} then 1 else 0 end as mine,
                 count(distinct s.lead_id) as n,
                 count(distinct case when l.status = 'won' or exists (
                   select 1 from stage_stays later
                   where later.lead_id = s.lead_id and later.pipeline = s.pipeline and later.stage_index > ${index}
                 ) then s.lead_id end) as x
          from stage_stays s join leads l on l.id = s.lead_id
          where s.pipeline = 'new-business' and s.stage = ${stage} and s.exited_at is not null
          group by case when l.owner = ${rep} then 1 else 0 end`.execute(store.db);
      const mine = rows.find((r) => Number(r.mine) === 1);
      const others = rows.find((r) => Number(r.mine) === 0);
      const rate = (r: typeof mine): number => Number(r?.x ?? 0) / Number(r?.n ?? 1);
      expect(Number(mine?.n ?? 0)).toBeGreaterThan(5);
      expect(rate(mine)).toBeLessThan(rate(others) - 0.1);
    }
  });

  it('never pull a close date in to a day already past', async () => {
    // Checked on this bigger run too: a pull drawn before its stay's timing is known rarely needs
    // holding back, too rarely for the small run to show it.
    const { checked, early } = await pullsToPastDays(store);
    expect(checked).toBeGreaterThan(50);
    expect(early).toEqual([]);
  });

  it('push close dates out more often and further than the median rep', async () => {
    // How often: the report's pushes over the rep's chances to push, the stays their leads entered
    // with a close date already set (the owner reviews the date as a stay begins).
    const { rows: reviewRows } = await sql<{ owner: string; n: number | string }>`
      select l.owner as owner, count(*) as n from stage_stays s join leads l on l.id = s.lead_id
      where s.entered_at > (select min(fh.at) from field_history fh
                            where fh.lead_id = s.lead_id and fh.field = 'expected_close' and fh.new_value is not null)
      group by l.owner`.execute(store.db);
    const reviews = new Map(reviewRows.map((r) => [r.owner, Number(r.n)]));
    const { rows } = await slippage(store, { by: 'owner' });
    const reps = rows.filter((r) => (reviews.get(String(r['owner_id'])) ?? 0) >= 20);
    expect(reps.length).toBeGreaterThanOrEqual(25);
    const pushRate = (r: ReportRow | undefined): number =>
      Number(r?.['pushes'] ?? 0) / (reviews.get(String(r?.['owner_id'])) ?? Infinity);
    const medianRate = median(reps.map(pushRate));
    const medianDays = median(reps.map((r) => Number(r['mean_days_pushed'] ?? 0)));
    for (const rep of strugglers()) {
      const row = rows.find((r) => r['owner_id'] === rep);
      expect(Number(row?.['pushes'] ?? 0), rep).toBeGreaterThan(5);
      expect(pushRate(row), rep).toBeGreaterThan(medianRate * 1.2);
      expect(Number(row?.['mean_days_pushed']), rep).toBeGreaterThan(medianDays * 1.2);
    }
  });

  it("forecasts each month within reason: the start-of-month forecast's median |bias| is at most 30%", async () => {
    // Reps date a deal by what they know once it firms up, so a month's forecast is near what it
    // wins; leads created in the month (not forecast at its start) keep it somewhat under. The
    // first months are left out: the pipeline is still filling up from an empty start.
    const out = await runReport(store, {
      name: 'forecast-accuracy',
      from: '2026-02-01',
      to: '2026-11-01',
      now: NOW,
      by: 'month',
    });
    const biases = out.rows.filter((r) => r['owner_id'] === null).map((r) => Number(r['bias']));
    expect(biases).toHaveLength(9);
    expect(median(biases.map(Math.abs))).toBeLessThanOrEqual(0.3);
    // Still a forecast by people: reps differ, and some over-forecast.
    const byRep = (out.summary?.['by_rep'] ?? []) as ReportRow[];
    const repBiases = byRep
      .filter((r) => r['owner_id'] !== null && Number(r['scored']) >= 4)
      .map((r) => Number(r['bias']));
    expect(repBiases.length).toBeGreaterThanOrEqual(15);
    expect(repBiases.filter((b) => b > 0).length).toBeGreaterThan(0);
  });
});

describe('stageflow demo on PostgreSQL', () => {
  it('writes the same leads, stays and tasks as on SQLite', async () => {
    const pg = await freshStore('postgres');
    const lite = await freshStore('sqlite');
    try {
      const summary = await runDemo(pg, { ...SMALL, seed: 7 });
      await runDemo(lite, { ...SMALL, seed: 7 });
      expect(summary.leads.won).toBeGreaterThan(0);
      expect(summary.events.refused).toBe(0);
      expect(await fingerprint(pg)).toBe(await fingerprint(lite));
      expect(await count(pg, sql`select count(*) as n from quotas`)).toBe(summary.quotas);
    } finally {
      await pg.close();
      await lite.close();
    }
  });
});
