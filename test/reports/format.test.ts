import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { reportCsv, reportTable } from '../../src/cli/report.js';
import type { ReportLayout, ReportOutput } from '../../src/reports/run-report.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { session } from '../cli/helpers.js';
import { scenarioStore } from './scenario-report.js';

/**
 * How a report reads in a terminal and in a spreadsheet: the table's units, alignment and
 * percentages, and the CSV's header and `#` trailer, on outputs written out by hand; then the
 * real CLI on a real database for an empty period.
 */

const layout = (columns: string[], units: ReportLayout['units'], nullLabels = {}): ReportLayout => ({
  columns,
  units,
  nullLabels,
  zone: 'Europe/Berlin',
  currency: 'EUR',
});

const WIN_RATE: ReportOutput = {
  report: 'win-rate',
  from: '2026-01-20T13:00+01:00',
  to: '2026-02-01',
  by: 'team',
  pipeline: null,
  rows: [
    { team: null, team_id: null, won: 1, lost: 3, closed: 4, win_rate: 0.25 },
    { team: 'North', team_id: 'north', won: 1200, lost: 0, closed: 1200, win_rate: 1 },
  ],
  summary: { total: { won: 1201, lost: 3, closed: 1204, win_rate: 0.9975 } },
  notes: ['a note, with a comma'],
};
const WIN_RATE_LAYOUT = layout(['team', 'team_id', 'won', 'lost', 'closed', 'win_rate'], {
  won: 'count',
  lost: 'count',
  closed: 'count',
  win_rate: 'ratio',
});

describe('report table', () => {
  it('shows the period as used, the units, numbers right-aligned, ratios in %, a missing group and the total', () => {
    expect(reportTable(WIN_RATE, WIN_RATE_LAYOUT)).toEqual([
      'win-rate: 2026-01-20T13:00+01:00 to 2026-02-01, by team (to is exclusive)',
      '(rates in %)',
      '  team      won  lost  closed  win_rate',
      '  (none)      1     3       4     25.0%',
      '  North   1,200     0   1,200    100.0%',
      '  total   1,201     3   1,204     99.8%',
      'note: a note, with a comma',
    ]);
  });

  it('prints a total per stage after the groups, labelled total, with the stage columns it has', () => {
    const row = (team: string | null, stage: string, count: number, median: number): ReportOutput['rows'][number] => ({
      team,
      team_id: team?.toLowerCase() ?? null,
      stage,
      stage_id: stage.toLowerCase(),
      count,
      median,
    });
    const out: ReportOutput = {
      report: 'time-in-stage',
      from: '2026-03-01',
      to: '2026-04-01',
      by: 'team',
      pipeline: 'nb',
      rows: [row('North', 'Qualify', 4, 1.5), row('North', 'Demo', 2, 1.5), row('South', 'Qualify', 3, 2)],
      summary: {
        total: [
          { stage: 'Qualify', stage_id: 'qualify', count: 7, median: 2 },
          { stage: 'Demo', stage_id: 'demo', count: 2, median: 1.5 },
        ],
      },
    };
    const l = layout(['team', 'team_id', 'stage', 'stage_id', 'count', 'median'], { count: 'count', median: 'days' });
    expect(reportTable(out, l)).toEqual([
      'time-in-stage: 2026-03-01 to 2026-04-01, pipeline nb, by team (to is exclusive)',
      '(durations in days)',
      '  team   stage    stage_id  count  median',
      '  North  Qualify  qualify       4     1.5',
      '  North  Demo     demo          2     1.5',
      '  South  Qualify  qualify       3     2.0',
      '  total  Qualify  qualify       7     2.0',
      '  total  Demo     demo          2     1.5',
    ]);
  });

  it('shows money with the currency, days to a tenth, gaps in points, times in the zone and a labelled null', () => {
    const out: ReportOutput = {
      report: 'x',
      from: '2026-01-01',
      to: '2026-02-01',
      by: null,
      pipeline: null,
      rows: [
        { owner: null, sum: 1234.5, days: 2.25, gap: 0.0833, at: '2025-10-31T23:00:00.000Z', rate: null },
        { owner: 'Anna', sum: 80, days: 10, gap: -0.1, at: null, rate: 0.5 },
      ],
      summary: { spread: 0.2041, window_days: 14 },
    };
    const l = layout(
      ['owner', 'sum', 'days', 'gap', 'at', 'rate'],
      { sum: 'money', days: 'days', gap: 'points', at: 'time', rate: 'ratio', spread: 'ratio', window_days: 'count' },
      { owner: '(total)' },
    );
    expect(reportTable(out, l)).toEqual([
      'x: 2026-01-01 to 2026-02-01 (to is exclusive)',
      '(money in EUR; durations in days; rates in %; gaps in percentage points (pp); times in Europe/Berlin)',
      '  owner         sum  days       gap  at                 rate',
      '  (total)  1,234.50   2.3   +8.3 pp  2025-11-01 00:00      -',
      '  Anna        80.00  10.0  -10.0 pp  -                 50.0%',
      'spread: 20.4%  window_days: 14',
    ]);
  });

  it('prints a figure that rounds to zero as 0.0, never -0.0 or +0.0', () => {
    const out: ReportOutput = {
      report: 'x',
      from: '2026-01-01',
      to: '2026-02-01',
      by: null,
      pipeline: null,
      rows: [
        { gap: -0.0001, rate: -0.0001, days: -0.01 },
        { gap: 0.0002, rate: 0, days: 0 },
      ],
    };
    const l = layout(['gap', 'rate', 'days'], { gap: 'points', rate: 'ratio', days: 'days' });
    expect(reportTable(out, l).slice(2)).toEqual([
      '     gap  rate  days',
      '  0.0 pp  0.0%   0.0',
      '  0.0 pp  0.0%   0.0',
    ]);
  });

  it('gives every cell of a money column cents when the total row has some, so the decimals line up', () => {
    const out: ReportOutput = {
      report: 'deal-size',
      from: '2026-03-01',
      to: '2026-05-01',
      by: 'week',
      pipeline: null,
      rows: [
        { week: '2026-W13', count: 1, sum: 400, mean: 400 },
        { week: '2026-W14', count: 2, sum: 300, mean: 150 },
      ],
      summary: { total: { count: 3, sum: 700, mean: 233.33 } },
    };
    const l = layout(['week', 'count', 'sum', 'mean'], { count: 'count', sum: 'money', mean: 'money' });
    expect(reportTable(out, l)).toEqual([
      'deal-size: 2026-03-01 to 2026-05-01, by week (to is exclusive)',
      '(money in EUR)',
      '  week      count  sum    mean',
      '  2026-W13      1  400  400.00',
      '  2026-W14      2  300  150.00',
      '  total         3  700  233.33',
    ]);
  });
});

describe('report CSV', () => {
  it('has the header, plain values, and the context and summary as # lines a comment-aware reader skips', () => {
    const csv = reportCsv(WIN_RATE, WIN_RATE_LAYOUT);
    expect(csv.split('\n')).toEqual([
      'team,team_id,won,lost,closed,win_rate',
      ',,1,3,4,0.25',
      'North,north,1200,0,1200,1',
      '#,report,win-rate',
      '#,from,2026-01-20T13:00+01:00',
      '#,to,2026-02-01',
      '#,by,team',
      '#,pipeline,',
      '#,summary,total.won,1201',
      '#,summary,total.lost,3',
      '#,summary,total.closed,1204',
      '#,summary,total.win_rate,0.9975',
      '#,note,"a note, with a comma"',
      '',
    ]);
    expect(parse(csv, { columns: true, comment: '#' })).toEqual([
      { team: '', team_id: '', won: '1', lost: '3', closed: '4', win_rate: '0.25' },
      { team: 'North', team_id: 'north', won: '1200', lost: '0', closed: '1200', win_rate: '1' },
    ]);
  });

  it('quotes a # inside a value, writes a summary list under its column names, and keeps an empty report its header', () => {
    const out: ReportOutput = {
      report: 'forecast',
      from: '2026-11-01',
      to: '2026-12-01',
      by: null,
      pipeline: 'nb',
      rows: [],
      summary: { period: '2026-11', probabilities: [{ stage: 'Stage #2', probability: 0.6, closed_leads: null }] },
    };
    const csv = reportCsv(out, layout(['won', 'weighted'], { won: 'money', weighted: 'money' }));
    expect(csv.split('\n')).toEqual([
      'won,weighted',
      '#,report,forecast',
      '#,from,2026-11-01',
      '#,to,2026-12-01',
      '#,by,',
      '#,pipeline,nb',
      '#,summary,period,2026-11',
      '#,summary,probabilities,stage,probability,closed_leads',
      '#,summary,probabilities,"Stage #2",0.6,',
      '',
    ]);
    expect(parse(csv, { columns: true, comment: '#' })).toEqual([]);
  });
});

describe('stageflow report --format csv (the real CLI)', () => {
  it('prints the header of an empty period, and the table says why it is empty', async () => {
    const url = await freshDatabaseUrl('sqlite');
    const store = await scenarioStore('sqlite', 'outcomes', url);
    await store.close();
    const cli = session(url);
    const csv = await cli(
      ['report', 'win-rate', '--by', 'owner', '--from', '2026-04-01', '--format', 'csv'],
      '2026-03-01T12:00:00Z',
    );
    expect(csv.stderr).toBe('');
    expect(csv.stdout.split('\n').slice(0, 2)).toEqual([
      'owner,owner_id,won,lost,closed,win_rate,cohort,cohort_won,cohort_win_rate',
      '#,report,win-rate',
    ]);
    const tableOut = await cli(
      ['report', 'deal-size', '--from', '2026-01-01', '--by', 'owner'],
      '2026-03-01T12:00:00Z',
    );
    expect(tableOut.stdout).toBe(
      [
        'deal-size: 2026-01-01 to 2026-02-01, by owner (to is exclusive)',
        '(money in EUR; rates in %)',
        '  owner       count  sum  mean  median  p90',
        '  Anna Berg       1  100   100     100  100',
        '  Ben Okafor      1   60    60      60   60',
        '  Carl Diaz       1   80    80      80   80',
        '  total           3  240    80      80  100',
        'spread: 20.4%',
        '',
      ].join('\n'),
    );
  });
});
