import type { Process } from '../domain/process-schema.js';
import type { Dimension } from '../domain/reporting.js';
import type { Tx } from '../store/db.js';
import { UNGROUPED_KEY, type ReportScope } from '../store/reports/scope.js';
import type { Period } from './period.js';

/** A report: which groupings it allows and how it computes its rows. */

/** One thing wrong with a report request: the option it is about (`from`, `by`, `period`), and why. */
export interface ReportProblem {
  option: string | null;
  message: string;
}

/**
 * A request the report cannot answer (an unknown name, grouping or option): the message says why,
 * in the CLI's words (`--from`); `problems` lists each wrong option when more than one was checked.
 */
export class ReportError extends Error {
  readonly problems: readonly ReportProblem[];
  constructor(message: string, problems?: readonly ReportProblem[]) {
    super(message);
    this.problems = problems ?? [{ option: optionNamed(message), message }];
  }

  /** Every problem found at once, so a request with two wrong options hears of both. */
  static of(problems: readonly ReportProblem[]): ReportError {
    return new ReportError(problems.map((p) => p.message).join('; '), problems);
  }
}

/** The option a message is about, from its first `--name`, or null. */
function optionNamed(message: string): string | null {
  return /--([a-z][a-z-]*)/.exec(message)?.[1] ?? null;
}

export type ReportRow = Record<string, string | number | boolean | null>;

/**
 * What a figure measures, so the table can show it the way a manager reads it (a ratio as a
 * percentage, money with the currency, days) while JSON and CSV keep the plain number.
 * `points` is a difference of two ratios (calibration's and coaching's gap).
 */
export type Unit = 'count' | 'money' | 'days' | 'ratio' | 'points' | 'number' | 'time' | 'text';

export interface ReportContext {
  tx: Tx;
  scope: ReportScope;
  /**
   * The period asked for. A report that takes its period another way (--period 2026-Q4) narrows
   * this object in place, and the JSON's from/to then show the period its figures are for.
   */
  period: Period;
  /** The current process (stages, probabilities, guidance, users and teams). */
  process: Process;
  /** Turns a group key into the row's dimension fields: `{ owner: "Anna Snelling", owner_id: "anna" }`. */
  dimensionFields(key: string): ReportRow;
  now: number;
  /** Report-specific options (coaching's --owner, neglect window, …). */
  options: Readonly<Record<string, string | undefined>>;
  /** Called with a share of work done, for long reports. */
  progress(done: number, total: number): void;
}

export interface ReportResult {
  rows: ReportRow[];
  /**
   * The rows' fields in order, known even when there is no row, so a CSV always has its header.
   * Every row has exactly these keys (test/reports/layout.test.ts checks it for every report).
   */
  columns: readonly string[];
  /** Report-level figures (deal size's spread, the coaching plan): JSON values. */
  summary?: Record<string, unknown>;
  notes?: string[];
}

export interface ReportDefinition {
  name: string;
  description: string;
  /** Groupings the metric allows (METRICS.md); null grouping is always allowed. */
  dimensions: readonly Dimension[];
  /** The grouping the rows carry when --by is not given (the JSON's `by` then names it). */
  defaultBy?: Dimension;
  /**
   * The unit of each figure, by name: row columns, summary keys and the columns of summary lists
   * (a name means one thing within a report). Unlisted fields are plain numbers or text.
   */
  units: Readonly<Record<string, Unit>>;
  /** How the table shows a null in a column where null means something (the organisation's total row). */
  nullLabels?: Readonly<Record<string, string>>;
  /** Options besides the common ones, with a one-line doc each. */
  options?: Readonly<Record<string, string>>;
  run(ctx: ReportContext): Promise<ReportResult>;
}

/** The columns of a row: the grouping's fields (`owner`, `owner_id`, …), then the figures. */
export function columnsOf(ctx: Pick<ReportContext, 'dimensionFields'>, figures: readonly string[]): string[] {
  return [...Object.keys(ctx.dimensionFields('')), ...figures];
}

/** Rows keyed by group, in key order, merged from several queries. */
export function mergeByKey(lists: readonly (readonly { key: string }[])[]): string[] {
  return [...new Set(lists.flatMap((l) => l.map((r) => r.key)))].sort();
}

/**
 * The groups a report has rows for: grouped, those the queries found (in key order); ungrouped,
 * always the one group (UNGROUPED_KEY), the total, so a period with nothing in it is a row of zero counts
 * and null ratios (as a grouped report's `summary.total` is), not an empty list a client must
 * read as zeros itself.
 */
export function groupKeys(ctx: Pick<ReportContext, 'scope'>, lists: readonly (readonly { key: string }[])[]): string[] {
  return ctx.scope.by === null ? [UNGROUPED_KEY] : mergeByKey(lists);
}
