import type { Process } from '../domain/process-schema.js';
import { DateTime } from 'luxon';
import {
  isDimension,
  isTimeDimension,
  type Bucket,
  type Dimension,
  type TeamMembership,
  type TimeDimension,
} from '../domain/reporting.js';
import type { Store } from '../store/db.js';
import { latestProcess, listProcessVersions, processVersion } from '../store/processes.js';
import type { ReportScope } from '../store/reports/scope.js';
import { boundProblems, bucketsOf, parsePeriod, periodBound, type Period } from './period.js';
import { findReport, REPORTS } from './registry.js';
import { ReportError, type ReportProblem, type ReportRow, type Unit } from './report.js';

/**
 * Runs a report by name with the common options (period, grouping, pipeline, and the people it is
 * limited to) and returns the one JSON shape the CLI prints and the API serves:
 * `{ report, from, to, by, pipeline, rows: [...], summary?, notes? }`.
 */

export { ReportError } from './report.js';

export interface ReportRequest {
  name: string;
  from?: string | undefined;
  to?: string | undefined;
  by?: string | undefined;
  pipeline?: string | undefined;
  /**
   * Limits the report to these people (a manager's reach): lead figures over the leads they own now,
   * figures about reps (adoption, coaching) to them. Undefined for everyone; an empty list matches
   * nothing.
   */
  owners?: readonly string[] | undefined;
  /** Who `owners` are, for the note saying the report is limited ("your teams"). */
  ownersLabel?: string | undefined;
  /** Limits the report to the members of these teams (ids or names in the current process): `--team`. */
  teams?: readonly string[] | undefined;
  options?: Readonly<Record<string, string | undefined>>;
  now: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ReportOutput {
  report: string;
  from: string;
  to: string;
  by: Dimension | null;
  pipeline: string | null;
  rows: ReportRow[];
  summary?: Record<string, unknown>;
  notes?: string[];
}

/**
 * How to show a report's output, beside the JSON (which it does not change): the columns in order
 * (also when there is no row), each figure's unit, and the organisation's zone and currency.
 */
export interface ReportLayout {
  columns: readonly string[];
  units: Readonly<Record<string, Unit>>;
  nullLabels: Readonly<Record<string, string>>;
  zone: string;
  currency: string;
}

export async function runReport(store: Store, req: ReportRequest): Promise<ReportOutput> {
  return (await computeReport(store, req)).output;
}

/** The report's JSON and its layout, for the CLI's table and CSV. */
export async function computeReport(
  store: Store,
  req: ReportRequest,
): Promise<{ output: ReportOutput; layout: ReportLayout }> {
  const def = findReport(req.name);
  if (!def) throw new ReportError(`unknown report "${req.name}" (reports: ${REPORTS.map((r) => r.name).join(', ')})`);
  const current = await latestProcess(store.db);
  if (!current) throw new ReportError('no process has been applied yet: run `stageflow process apply FILE` first');
  const process = current.process;
  // The common options are checked together, so a request wrong in two places hears of both.
  const problems: ReportProblem[] = [];
  let by: Dimension | null = def.defaultBy ?? null;
  if (req.by !== undefined) {
    if (!isDimension(req.by) || !def.dimensions.includes(req.by))
      problems.push({
        option: 'by',
        message: `${def.name} cannot be grouped by "${req.by}" (by: ${def.dimensions.length > 0 ? def.dimensions.join(', ') : 'nothing'})`,
      });
    else by = req.by;
  }
  if (req.pipeline !== undefined && !process.pipelines.some((p) => p.id === req.pipeline))
    problems.push({
      option: 'pipeline',
      message: `unknown pipeline "${req.pipeline}" (pipelines: ${process.pipelines.map((p) => p.id).join(', ')})`,
    });
  const zone = process.organisation.timezone;
  const bounds = boundProblems(req.from, req.to, zone);
  problems.push(...bounds);
  let period: Period | null = null;
  if (bounds.length === 0)
    try {
      period = parsePeriod(req.from, req.to, zone, req.now);
    } catch (e) {
      // The bounds are dates, in the wrong order.
      problems.push({ option: 'to', message: (e as Error).message });
    }
  if (problems.length > 0 || period === null) throw ReportError.of(problems);
  const limit = limitOf(process, req);
  const scope: ReportScope = {
    dialect: store.dialect,
    from: period.from,
    to: period.to,
    by,
    pipeline: req.pipeline ?? null,
    buckets: by !== null && isTimeDimension(by) ? boundedBuckets(period, by) : [],
    teams: by === 'team' || def.name === 'coaching' ? await teamMemberships(store) : [],
    owners: limit?.owners ?? null,
  };
  const result = await def.run({
    tx: store.db,
    scope,
    period,
    process,
    dimensionFields: dimensionFields(by, process),
    now: req.now,
    options: {
      ...req.options,
      fromGiven: req.from === undefined ? 'no' : 'yes',
      toGiven: req.to === undefined ? 'no' : 'yes',
    },
    progress: req.onProgress ?? (() => undefined),
  });
  const notes = [...(limit ? [limit.note] : []), ...(result.notes ?? []), ...futureNote(def.name, period, req.now)];
  const output: ReportOutput = {
    report: def.name,
    from: periodBound(period.from, period.zone),
    to: periodBound(period.to, period.zone),
    by,
    pipeline: scope.pipeline,
    rows: result.rows,
    ...(result.summary ? { summary: result.summary } : {}),
    ...(notes.length > 0 ? { notes } : {}),
  };
  return {
    output,
    layout: {
      columns: result.columns,
      units: def.units,
      nullLabels: def.nullLabels ?? {},
      zone: process.organisation.timezone,
      currency: process.organisation.currency,
    },
  };
}

/**
 * At most this many time buckets: each is three bound parameters of the query, and SQLite takes
 * about 32,000 (PostgreSQL 65,535). 5,000 weeks is 96 years, which no report needs.
 */
export const MAX_BUCKETS = 5_000;

/** The period's buckets, or a usage error naming the limit for a range too long to group so finely. */
function boundedBuckets(period: Period, unit: TimeDimension): Bucket[] {
  const start = DateTime.fromMillis(period.from, { zone: period.zone });
  const span = DateTime.fromMillis(period.to, { zone: period.zone }).diff(start, `${unit}s`).as(`${unit}s`);
  // Counted before listing them: a range of centuries by week would build every bucket first.
  if (span + 1 > MAX_BUCKETS) {
    const range = `${periodBound(period.from, period.zone)} to ${periodBound(period.to, period.zone)}`;
    throw new ReportError(
      `--by ${unit} over ${range} is about ${Math.ceil(span).toLocaleString('en')} ${unit}s; a report takes at most ${MAX_BUCKETS.toLocaleString('en')}: narrow --from/--to${unit === 'quarter' ? '' : ' or group by a longer unit'}`,
    );
  }
  return bucketsOf(period, unit);
}

/** Reports that look ahead: a period after now is what they are for, so it needs no note. */
const FORWARD_LOOKING = new Set(['forecast', 'adoption', 'forecast-accuracy']);

/**
 * A report for a period that starts after now says why its figures are zeros (an ungrouped
 * report's total row) or missing, so they do not read as a team that did nothing. (Adoption says
 * so itself; the forecast is about the future.)
 */
function futureNote(name: string, period: Period, now: number): string[] {
  if (FORWARD_LOOKING.has(name) || period.from <= now) return [];
  return [`the period starts after now (${periodBound(period.from, period.zone)}): nothing has happened in it yet`];
}

/**
 * The people the report is limited to, from `owners` and `teams` (both given: the people in both),
 * with the note that says so; null when it is not limited. An unknown team is an error naming the
 * known ones.
 */
function limitOf(process: Process, req: ReportRequest): { owners: string[]; note: string } | null {
  if (req.owners === undefined && req.teams === undefined) return null;
  let owners: string[] | null = req.owners === undefined ? null : [...new Set(req.owners)];
  let label = req.ownersLabel ?? 'the people given';
  if (req.teams !== undefined) {
    const teams = req.teams.map((wanted) => {
      const team = process.teams.find((t) => t.id === wanted || t.name.toLowerCase() === wanted.toLowerCase());
      if (!team) {
        const known = process.teams.map((t) => t.id).join(', ');
        throw new ReportError(`unknown team "${wanted}" (teams: ${known === '' ? 'none' : known})`);
      }
      return team;
    });
    const members = new Set(teams.flatMap((t) => t.members));
    owners = owners === null ? [...members] : owners.filter((o) => members.has(o));
    const names = [...new Set(teams.map((t) => t.name))];
    label = `${names.length === 1 ? 'team' : 'teams'} ${names.join(', ')}`;
  }
  const sorted = [...(owners ?? [])].sort();
  const names = new Map(process.users.map((u) => [u.id, u.name]));
  const who = sorted.length === 0 ? 'nobody' : sorted.map((o) => names.get(o) ?? o).join(', ');
  return {
    owners: sorted,
    note: `limited to ${label}: figures count only the leads owned by (and the work of) ${who}`,
  };
}

/** Each version's teams: a rep belongs to the first team that lists them. */
async function teamMemberships(store: Store): Promise<TeamMembership[]> {
  const out: TeamMembership[] = [];
  for (const { version } of await listProcessVersions(store.db)) {
    const stored = await processVersion(store.db, version);
    const seen = new Set<string>();
    for (const team of stored?.process.teams ?? [])
      for (const user of team.members) {
        if (seen.has(user)) continue;
        seen.add(user);
        out.push({ version, user, team: team.id });
      }
  }
  return out;
}

/** The row's dimension under its own name: people and teams by name, with their id beside. */
function dimensionFields(by: Dimension | null, process: Process): (key: string) => ReportRow {
  if (by === null) return () => ({});
  if (by === 'owner') {
    const names = new Map(process.users.map((u) => [u.id, u.name]));
    return (key) => ({ owner: key === '' ? null : (names.get(key) ?? key), owner_id: key === '' ? null : key });
  }
  if (by === 'team') {
    const names = new Map(process.teams.map((t) => [t.id, t.name]));
    return (key) => ({ team: key === '' ? null : (names.get(key) ?? key), team_id: key === '' ? null : key });
  }
  return (key) => ({ [by]: key === '' ? null : key });
}
