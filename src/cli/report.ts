import type { Command } from 'commander';
import { stringify } from 'csv-stringify/sync';
import { DateTime } from 'luxon';
import { DIMENSIONS } from '../domain/reporting.js';
import type { Unit } from '../reports/report.js';
import { REPORTS } from '../reports/registry.js';
import { computeReport, ReportError, type ReportLayout, type ReportOutput } from '../reports/run-report.js';
import { defuseFormula } from '../store/export-writers.js';
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
          return await computeReport(store, {
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
      if (format === 'json') printJson(out.output);
      else if (format === 'csv') process.stdout.write(reportCsv(out.output, out.layout));
      else for (const line of reportTable(out.output, out.layout)) print(line);
    });
}

/**
 * CSV for spreadsheets and scripts: the header (the report's columns, also when there is no row),
 * the rows with plain values (ratios as fractions, money in major units, an empty cell for null),
 * then the context a spreadsheet would otherwise lose, each line's first cell `#`: the report, its
 * period, grouping and pipeline, every summary figure (`#,summary,KEY,VALUE`; a record's fields as
 * `KEY.FIELD`; a list as `#,summary,KEY,` lines whose first holds the column names) and the notes
 * (`#,note,TEXT`). Tools that take a comment character (`comment: '#'`, pandas `comment='#'`) skip
 * them; a `#` inside a value is always quoted, so it never starts a comment. A text cell a
 * spreadsheet would run as a formula gets a leading quote, as in `stageflow export` (group values
 * such as a lead's source come from web forms); numbers, negative ones too, stay numbers.
 */
export function reportCsv(out: ReportOutput, layout: ReportLayout): string {
  const write = (records: unknown[][]): string =>
    stringify(records, { quoted_match: /#/, cast: { string: defuseFormula } });
  const header = write([[...layout.columns]]);
  const rows = write(out.rows.map((r) => layout.columns.map((c) => csvValue(r[c]))));
  const trailer: unknown[][] = [
    ['report', out.report],
    ['from', out.from],
    ['to', out.to],
    ['by', out.by ?? ''],
    ['pipeline', out.pipeline ?? ''],
  ];
  for (const [key, value] of Object.entries(out.summary ?? {})) {
    if (Array.isArray(value)) {
      const records = value.filter(isRecord);
      const cols = [...new Set(records.flatMap((r) => Object.keys(r)))];
      trailer.push(['summary', key, ...cols]);
      for (const r of records) trailer.push(['summary', key, ...cols.map((c) => csvValue(r[c]))]);
    } else if (isRecord(value)) {
      for (const [field, v] of Object.entries(value)) trailer.push(['summary', `${key}.${field}`, csvValue(v)]);
    } else trailer.push(['summary', key, csvValue(value)]);
  }
  for (const note of out.notes ?? []) trailer.push(['note', note]);
  // One line per trailer record (line breaks in a text become spaces), so a comment-skipping
  // reader drops exactly these lines; the leading # is the only one left unquoted.
  const flat = trailer.map((r) => r.map((c) => (typeof c === 'string' ? c.replace(/\s*\n\s*/g, ' ') : c)));
  return header + rows + flat.map((r) => `#,${write([r])}`).join('');
}

function csvValue(v: unknown): unknown {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return v;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const NUMERIC: ReadonlySet<Unit> = new Set(['count', 'money', 'days', 'ratio', 'points', 'number']);
const GROUPINGS: ReadonlySet<string> = new Set(DIMENSIONS);

/**
 * The table a manager reads in a terminal: the title with the period as it was used, a line
 * naming the units, the rows (ids left out but the stage's, numbers right-aligned, ratios as
 * percentages, gaps in percentage points, money with separators, days to one decimal, times in
 * the organisation's zone, a missing figure as `-`, a missing group as `(none)`), the total rows
 * when the report has them (one, or one per stage), then the summary and the notes.
 */
export function reportTable(out: ReportOutput, layout: ReportLayout): string[] {
  const lines: string[] = [];
  const scope = `${out.from} to ${out.to}${out.pipeline ? `, pipeline ${out.pipeline}` : ''}${out.by ? `, by ${out.by}` : ''}`;
  lines.push(`${out.report}: ${scope} (to is exclusive)`);
  const cols = layout.columns.filter((c) => !c.endsWith('_id') || c === 'stage_id');
  const summary = { ...(out.summary ?? {}) };
  // One total row (win-rate, deal-size, …) or one per stage (flow, time-in-stage grouped).
  const rawTotal = summary['total'];
  const totals = isRecord(rawTotal) ? [rawTotal] : Array.isArray(rawTotal) ? rawTotal.filter(isRecord) : [];
  if (isRecord(rawTotal) || Array.isArray(rawTotal)) delete summary['total'];
  const unitsLine = unitsText(layout, [...cols, ...summaryFields(summary)]);
  if (unitsLine !== '') lines.push(unitsLine);
  if (out.rows.length === 0) lines.push('no data in this period');
  else {
    // The total rows are part of the columns they are printed in: one with cents gives the column cents.
    const column = [...out.rows, ...totals];
    const cells = (r: Record<string, unknown>): string[] => cols.map((c) => cell(r[c], c, layout, column));
    const body = [cols, ...out.rows.map(cells)];
    for (const total of totals)
      body.push(cols.map((c, i) => (c in total ? cell(total[c], c, layout, column) : i === 0 ? 'total' : '')));
    const right = cols.map((c) => NUMERIC.has(layout.units[c] ?? 'text'));
    lines.push(...table(body, '  ', right));
  }
  lines.push(...summaryLines(summary, layout));
  for (const n of out.notes ?? []) lines.push(`note: ${n}`);
  return lines;
}

/**
 * Records as a report table's rows (names, numbers right-aligned, money with separators and cents
 * for the whole column, null as `-` or the layout's label), with the header: for tables printed
 * outside `report`, such as `forecast list`, so they read like the report beside them.
 */
export function figureTable(rows: readonly Record<string, unknown>[], layout: ReportLayout): string[] {
  const cols = layout.columns;
  const body = [[...cols], ...rows.map((r) => cols.map((c) => cell(r[c], c, layout, rows)))];
  return table(
    body,
    '  ',
    cols.map((c) => NUMERIC.has(layout.units[c] ?? 'text')),
  );
}

function summaryFields(summary: Record<string, unknown>): string[] {
  return Object.entries(summary).flatMap(([k, v]) =>
    Array.isArray(v) ? [...new Set(v.filter(isRecord).flatMap((r) => Object.keys(r)))] : [k],
  );
}

/** One line naming the units the table uses, so a figure is never read in the wrong one. */
function unitsText(layout: ReportLayout, fields: readonly string[]): string {
  const used = new Set(fields.map((f) => layout.units[f]));
  const parts = [
    used.has('money') ? `money in ${layout.currency}` : null,
    used.has('days') ? 'durations in days' : null,
    used.has('ratio') ? 'rates in %' : null,
    used.has('points') ? 'gaps in percentage points (pp)' : null,
    used.has('time') ? `times in ${layout.zone}` : null,
  ].filter((p): p is string => p !== null);
  return parts.length === 0 ? '' : `(${parts.join('; ')})`;
}

/** Scalars on one line; a long text on its own lines; a list of records as a small table. */
function summaryLines(summary: Record<string, unknown>, layout: ReportLayout): string[] {
  const lines: string[] = [];
  const scalars = Object.entries(summary).filter(([, v]) => v === null || typeof v !== 'object');
  const short = scalars.filter(([, v]) => typeof v !== 'string' || (v.length < 60 && !v.includes('\n')));
  if (short.length > 0) lines.push(short.map(([k, v]) => `${k}: ${cell(v, k, layout, [])}`).join('  '));
  for (const [k, v] of scalars)
    if (typeof v === 'string' && !short.some(([s]) => s === k))
      lines.push(`${k}:\n  ${v.trim().replace(/\n/g, '\n  ')}`);
  for (const [k, v] of Object.entries(summary)) {
    if (!Array.isArray(v) || v.length === 0) continue;
    const rows = v.filter(isRecord);
    const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => !c.endsWith('_id') || c === 'task_id');
    lines.push(`${k}:`);
    const right = cols.map((c) => NUMERIC.has(layout.units[c] ?? 'text'));
    lines.push(...table([cols, ...rows.map((r) => cols.map((c) => cell(r[c], c, layout, rows)))], '  ', right));
  }
  return lines;
}

/**
 * A figure as the table shows it. `column` is every row printed in the column (the total rows
 * too), so money shows cents in every cell of a column that has some, and the digits line up.
 */
function cell(v: unknown, name: string, layout: ReportLayout, column: readonly Record<string, unknown>[]): string {
  if (v === null || v === undefined) return layout.nullLabels[name] ?? (GROUPINGS.has(name) ? '(none)' : '-');
  const unit = layout.units[name];
  if (typeof v === 'number') {
    if (unit === 'ratio') return `${unsignedZero((v * 100).toFixed(1))}%`;
    if (unit === 'points') {
      // The sign is the rounded figure's: a tiny gap either way is `0.0 pp`, never `-0.0` or `+0.0`.
      const pp = unsignedZero((v * 100).toFixed(1));
      return `${Number(pp) > 0 ? '+' : ''}${pp} pp`;
    }
    if (unit === 'days') return fixed(v, 1);
    if (unit === 'money') {
      const cents =
        column.some((r) => typeof r[name] === 'number' && !Number.isInteger(r[name])) || !Number.isInteger(v);
      return fixed(v, cents ? 2 : 0);
    }
    if (unit === 'count') return fixed(v, 0);
    return Number.isInteger(v) ? v.toLocaleString('en') : v.toLocaleString('en', { maximumFractionDigits: 4 });
  }
  if (unit === 'time' && typeof v === 'string') {
    const t = DateTime.fromISO(v, { zone: layout.zone });
    return t.isValid ? t.toFormat('yyyy-MM-dd HH:mm') : v;
  }
  return String(v);
}

function fixed(v: number, digits: number): string {
  return unsignedZero(v.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits }));
}

/** A figure that rounds to zero without its minus: a small negative shown as `-0.0` reads as a loss that is not there. */
function unsignedZero(shown: string): string {
  return shown.replace(/^-(?=0(\.0+)?$)/, '');
}
