import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { DIMENSIONS } from '../domain/reporting.js';
import { REPORTS } from '../reports/registry.js';
import { ReportError, runReport, type ReportOutput } from '../reports/run-report.js';
import { contextOf, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { print, printJson, table } from './output.js';
import { ProgressLine } from './progress.js';

/** `stageflow report NAME`: the reports of METRICS.md as an aligned table, JSON or CSV. */

interface ReportCliOptions {
  from?: string;
  to?: string;
  by?: string;
  pipeline?: string;
  format?: string;
  owner?: string;
  window?: string;
  period?: string;
  team?: string[];
}

/** `--team a --team b` and `--team a,b` alike: every team id or name, in order. */
function collectTeams(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((t) => t.trim())
      .filter((t) => t !== ''),
  ];
}

const FORMATS = ['table', 'json', 'csv'] as const;

export function reportCommand(program: Command): void {
  program
    .command('report')
    .description('a report of METRICS.md (see docs/reports.md)')
    .argument('<name>', REPORTS.map((r) => r.name).join(' | '))
    .option('--from <date>', 'period start, inclusive (YYYY-MM-DD in the organisation time zone; default: this month)')
    .option('--to <date>', 'period end, exclusive')
    .option('--by <dimension>', DIMENSIONS.join(' | '))
    .option('--pipeline <id>', 'only this pipeline')
    .option('--format <format>', FORMATS.join(' | '), 'table')
    .option('--owner <user>', 'coaching: the rep to coach')
    .option('--window <days>', 'coaching: days back from --to (default 180); adoption: neglect window (default 14)')
    .option('--period <key>', 'forecast, quota: a period key such as 2026-11 or 2026-Q4')
    .option(
      '--team <team>',
      "only this team's members: their leads and their work (a team id or name; repeatable or comma-separated)",
      collectTeams,
    )
    .addHelpText('after', `\nReports:\n${REPORTS.map((r) => `  ${r.name.padEnd(18)} ${r.description}`).join('\n')}`)
    .action(async (name: string, opts: ReportCliOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const format = ctx.json ? 'json' : (opts.format ?? 'table');
      if (!(FORMATS as readonly string[]).includes(format))
        throw new UsageError(`--format must be ${FORMATS.join(', ')}, not "${format}"`);
      if (opts.team !== undefined && opts.team.length === 0) throw new UsageError('--team needs a team id or name');
      const bar = new ProgressLine(format === 'table' && process.stderr.isTTY === true);
      const out = await withStore(ctx, async (store) => {
        try {
          return await runReport(store, {
            name,
            from: opts.from,
            to: opts.to,
            by: opts.by,
            pipeline: opts.pipeline,
            teams: opts.team,
            options: { owner: opts.owner, window: opts.window, period: opts.period },
            now: ctx.now,
            onProgress: (done, total) => bar.update(name, done, total),
          });
        } catch (e) {
          if (e instanceof ReportError) throw new CliError(e.message);
          throw e;
        } finally {
          bar.done();
        }
      });
      if (format === 'json') printJson(out);
      else if (format === 'csv') process.stdout.write(stringify(out.rows, { header: true, columns: columnsOf(out) }));
      else printTable(out);
    });
}

function columnsOf(out: ReportOutput): string[] {
  return [...new Set(out.rows.flatMap((r) => Object.keys(r)))];
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number')
    return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 4 });
  return String(v);
}

function printTable(out: ReportOutput): void {
  const scope = `${out.from} to ${out.to}${out.pipeline ? `, pipeline ${out.pipeline}` : ''}${out.by ? `, by ${out.by}` : ''}`;
  print(`${out.report}: ${scope} (to is exclusive)`);
  if (out.rows.length === 0) print('no data in this period');
  else {
    const cols = columnsOf(out).filter((c) => !c.endsWith('_id') || c === 'stage_id');
    for (const line of table([cols, ...out.rows.map((r) => cols.map((c) => cell(r[c])))], '  ')) print(line);
  }
  if (out.summary) printSummary(out.summary);
  for (const n of out.notes ?? []) print(`note: ${n}`);
}

/** Scalars on one line; a text on its own lines; a list of records as a small table. */
function printSummary(summary: Record<string, unknown>): void {
  const scalars = Object.entries(summary).filter(([, v]) => v === null || typeof v !== 'object');
  const short = scalars.filter(([, v]) => typeof v !== 'string' || (v.length < 60 && !v.includes('\n')));
  if (short.length > 0) print(short.map(([k, v]) => `${k}: ${cell(v)}`).join('  '));
  for (const [k, v] of scalars)
    if (typeof v === 'string' && !short.some(([s]) => s === k)) print(`${k}:\n  ${v.trim().replace(/\n/g, '\n  ')}`);
  for (const [k, v] of Object.entries(summary)) {
    if (!Array.isArray(v) || v.length === 0) continue;
    const rows = v.filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null);
    const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    print(`${k}:`);
    for (const line of table([cols, ...rows.map((r) => cols.map((c) => cell(r[c])))], '  ')) print(line);
  }
}
