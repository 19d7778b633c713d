import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeadEvent } from '../../src/domain/events.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { REPORTS } from '../../src/reports/registry.js';
import { reportTable } from '../../src/cli/report.js';
import { computeReport, runReport, type ReportRequest } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { setQuota } from '../../src/store/quotas.js';
import { at, play } from '../support/forecast-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Options a report does not read are refused, not ignored (F1); quota by team lists the wins of a
 * rep in no team as `(none)` so the rows add up to the summary (F2); coaching's impact is null
 * when there is nothing to compare (F5); days are rounded once for the table (F4). Dora, the default owner, is in no team; Cleo has no lead.
 */

const PROCESS = `name: Options
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
  - { id: ben, name: Ben }
  - { id: dora, name: Dora }
  - { id: cleo, name: Cleo }
teams:
  - { id: east, name: East, manager: anna, members: [anna, ben] }
assignment:
  default_owner: dora
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: qualify, name: Qualify, probability: 0.1 }
      - { id: negotiate, name: Negotiate, probability: 0.6 }
`;

const create = (lead: string, owner: string, value: number): LeadEvent => ({
  type: 'lead.created',
  lead,
  owner,
  fields: { value },
});

const NOVEMBER: [string, LeadEvent][] = [
  ['2026-11-02T10:00:00Z', create('A1', 'anna', 1000)],
  ['2026-11-03T10:00:00Z', create('D1', 'dora', 500)],
  ['2026-11-04T10:00:00Z', create('B1', 'ben', 700)],
  // 8 days 13:06:14 = 8.546 days: the table must say 8.5 (rounded once), not 8.55 then 8.6.
  ['2026-11-10T23:06:14Z', { type: 'lead.won', lead: 'A1' }],
  ['2026-11-11T10:00:00Z', { type: 'lead.won', lead: 'D1' }],
  ['2026-11-12T10:00:00Z', { type: 'lead.lost', lead: 'B1', reason: 'no budget' }],
];

const NOW = at('2026-12-10T12:00:00Z');
const COMMON_OPTIONS = ['owner', 'window', 'period'] as const;
/** A value each option would accept, so only "not read" can make a report refuse it. */
const VALUE: Record<(typeof COMMON_OPTIONS)[number], string> = { owner: 'anna', window: '30', period: '2026-11' };

describe.each(dialects)('report options, quota (none), coaching impact (%s)', (dialect) => {
  let store: Store;
  beforeAll(async () => {
    store = await freshStore(dialect);
    await applyProcess(store, PROCESS, at('2026-09-01T00:00:00Z'), 'test');
    await play(store, NOVEMBER);
    await setQuota(
      store.db,
      { scope: 'team', subject: 'east', period: '2026-11', amountMinor: 200_000, setBy: 't' },
      NOW,
    );
    await setQuota(
      store.db,
      { scope: 'user', subject: 'anna', period: '2026-11', amountMinor: 200_000, setBy: 't' },
      NOW,
    );
  });
  afterAll(async () => {
    await store.close();
  });

  const run = (req: Omit<ReportRequest, 'now'>) => runReport(store, { ...req, now: NOW });

  // Every report, every common option it does not document: the CLI and the API (both call
  // runReport with these options) get an error naming the option, never another period's figures.
  const unread = REPORTS.flatMap((def) =>
    COMMON_OPTIONS.filter((o) => !(o in (def.options ?? {}))).map((o) => [def.name, o] as const),
  );
  it.each(unread)('%s refuses --%s', async (name, option) => {
    await expect(run({ name, options: { [option]: VALUE[option] } })).rejects.toThrow(
      new RegExp(`^${name} has no --${option} option`),
    );
  });

  it('win-rate, deal-size and cycle still run without those options', async () => {
    const win = await run({ name: 'win-rate', from: '2026-11-01', to: '2026-12-01' });
    expect(win.rows).toEqual([
      { won: 2, lost: 1, closed: 3, win_rate: 0.6667, cohort: 3, cohort_won: 2, cohort_win_rate: 0.6667 },
    ]);
    const deals = await run({ name: 'deal-size', from: '2026-11-01', to: '2026-12-01' });
    expect(deals.rows).toEqual([{ count: 2, sum: 1500, mean: 750, median: 750, p90: 1000 }]);
  });

  it("quota by team lists the wins of a rep in no team as (none): the rows add up to the summary's won", async () => {
    const out = await run({ name: 'quota', by: 'team', options: { period: '2026-11' } });
    expect(out.rows).toEqual([
      { team: null, team_id: null, won_count: 1, won: 500, quota: null, attainment: null },
      { team: 'East', team_id: 'east', won_count: 1, won: 1000, quota: 2000, attainment: 0.5 },
    ]);
    const won = out.rows.reduce((a, r) => a + Number(r['won']), 0);
    // 1500 / 2000 = 75%; the quota holders alone 1000 / 2000 = 50%.
    expect(out.summary).toEqual({ period: '2026-11', won, quota: 2000, attainment: 0.75 });
    expect(out.notes).toEqual([
      '500 of the 1,500 won (1 win) is on rows without a quota for 2026-11; attainment of the quota holders alone: 50.0%',
    ]);
    // By rep the same: Dora listed without a quota.
    const byRep = await run({ name: 'quota', options: { period: '2026-11' } });
    expect(byRep.rows.map((r) => [r['owner_id'], r['won'], r['quota']])).toEqual([
      ['anna', 1000, 2000],
      ['dora', 500, null],
    ]);
  });

  it('coaching: impact is null, like gap, for a rep with nothing to compare', async () => {
    const one = await run({ name: 'coaching', from: '2026-11-01', to: '2026-12-01', options: { owner: 'cleo' } });
    expect(one.rows).toEqual([]);
    expect(one.summary).toMatchObject({ weakest_stage: null, gap: null, impact: null });
  });

  it('cycle days keep four decimals, so the table rounds them once: 8.546 shows 8.5', async () => {
    const out = await computeReport(store, {
      name: 'cycle',
      by: 'owner',
      from: '2026-11-01',
      to: '2026-12-01',
      now: NOW,
    });
    expect(out.output.rows.find((r) => r['owner_id'] === 'anna')).toMatchObject({ count: 1, mean: 8.546, p90: 8.546 });
    const anna = reportTable(out.output, out.layout).find((l) => l.trimStart().startsWith('Anna'));
    expect(anna?.trim().split(/\s+/).slice(0, 5)).toEqual(['Anna', '1', '8.5', '8.5', '8.5']);
  });

  it('forecast-accuracy says why no month is scored: cut by --from or --to, or not ended, not "not finished yet"', async () => {
    const cut = await run({ name: 'forecast-accuracy', from: '2026-10-15', to: '2026-11-20' });
    expect(cut.rows).toEqual([]);
    expect(cut.notes).toEqual([
      'no whole month that has ended lies in 2026-10-15 to 2026-11-20 (2026-10 starts before --from; 2026-11 ends after --to): only those are scored',
    ]);
    const running = await run({ name: 'forecast-accuracy', by: 'quarter', from: '2026-10-01', to: '2027-01-01' });
    expect(running.notes).toEqual([
      'no whole quarter that has ended lies in 2026-10-01 to 2027-01-01 (2026-Q4 has not ended): only those are scored',
    ]);
  });

  it('a time grouping over too long a range is a usage error naming the limit; just under it runs', async () => {
    await expect(run({ name: 'win-rate', by: 'week', from: '1700-01-01', to: '2026-01-01' })).rejects.toThrow(
      '--by week over 1700-01-01 to 2026-01-01 is about 17,010 weeks; a report takes at most 5,000: narrow --from/--to or group by a longer unit',
    );
    // Just under 95 years of weeks (4,953 buckets): within both engines' limit on bound parameters.
    const long = await run({ name: 'win-rate', by: 'week', from: '1932-01-01', to: '2026-12-01' });
    expect(long.rows.map((r) => r['week'])).toEqual(['2026-W45', '2026-W46']);
    expect(long.summary?.['total']).toMatchObject({ won: 2, lost: 1 });
  });
});
