import type { Fields } from '../domain/conditions.js';
import { isEmailAddress } from '../domain/events.js';
import type { LeadState, StayState } from '../domain/lead.js';
import type { Pipeline, Process } from '../domain/process-schema.js';
import type { DateCell, ImportProblem, ImportRecord, ImportStatus } from './record.js';
import { offsetMinutes } from '../domain/calendar.js';
import { rebuildStays, type RebuiltStay, type Stamp } from './rebuild-history.js';
import { closeOf, settleSameDay, type DayStamp } from './same-day.js';

/**
 * Checks one ImportRecord against the process and turns it into the lead and stage stays to
 * store: owner, pipeline and stage resolved by id, name or email (without case), status from the
 * status column or a won/lost stage, and the stage history rebuilt from the export's dates.
 * Pure: the same record and process always give the same plan.
 */

export interface PlanContext {
  process: Process;
  processVersion: number;
  /** The export's system (`pipedrive`, `maven`, a mapping's `source`): with the record id, the key. */
  source: string;
  /** Export stage name -> stage id, `won` or `lost` (from the mapping). */
  stageNames: Record<string, string>;
  /** Used for created_at when the export has no date at all for a record. */
  now: number;
  /**
   * An undated record's created_at from its first import: a re-run keeps it rather than moving the
   * lead's creation (and its stays and stall clock) to every new run's time.
   */
  undatedCreatedAt?: number;
  /** Currency code -> units of the organisation's currency one unit is worth (`--rates`). */
  rates: ReadonlyMap<string, number>;
  /** How the caller gives a missing rate, in their own terms (default: the CLI's `--rates FILE`). */
  rateHint?: RateHint;
}

/** The fix for a value in `code` without a rate, ending the error's message. */
export type RateHint = (code: string, home: string) => string;

const cliRateHint: RateHint = (code, home) => `pass --rates FILE with a line "${code},RATE" (1 ${code} = RATE ${home})`;

/** Why an amount in `code` cannot be stored in the organisation's `home` currency, and the fix. */
export function missingRateMessage(code: string, home: string, hint: RateHint = cliRateHint): string {
  return (
    `the value is in ${code}, not ${home} (the organisation's currency), and no exchange rate for ${code} was given: ` +
    hint(code, home)
  );
}

export interface PlannedLead {
  id: string;
  sourceId: string;
  line: number;
  company: string | null;
  phone: string | null;
  state: LeadState;
  stays: RebuiltStay[];
  /** No date in the record: created_at is the import time (of its first import, on a re-run). */
  createdEstimated: boolean;
  /** The value was converted from another currency. */
  converted: boolean;
}

export type PlanResult =
  { ok: true; lead: PlannedLead; warnings: ImportProblem[] } | { ok: false; problems: ImportProblem[] };

const DAY_MS = 86_400_000;

/** What the creation, close and stage history are built from: any of them unread, they are not checked. */
const HISTORY_FIELDS = ['status', 'created_at', 'closed_at', 'won_at', 'lost_at', 'last_stage_change', 'stage_dates'];

export function importedLeadId(source: string, sourceId: string): string {
  return `${source}:${sourceId}`;
}

/**
 * A name as compared: without case, with runs of spaces as one (hand-edited exports) and in one
 * Unicode form (macOS writes "é" as "e" and an accent).
 */
function nameKey(name: string): string {
  return name.normalize('NFC').replace(/\s+/g, ' ').trim().toLowerCase();
}

/** Lookups built once per import, not per row. */
export class ProcessDirectory {
  /** Every user an id, name or email names: two people of one name are both here. */
  private readonly users = new Map<string, string[]>();
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly stageIndex = new Map<string, Map<string, number>>();

  constructor(readonly process: Process) {
    for (const u of process.users) {
      for (const key of [u.id, u.name, u.email]) {
        if (!key) continue;
        const ids = this.users.get(nameKey(key)) ?? [];
        if (!ids.includes(u.id)) this.users.set(nameKey(key), [...ids, u.id]);
      }
    }
    for (const p of process.pipelines) {
      this.pipelines.set(nameKey(p.id), p);
      this.pipelines.set(nameKey(p.name), p);
      const stages = new Map<string, number>();
      p.stages.forEach((s, i) => {
        stages.set(nameKey(s.id), i);
        stages.set(nameKey(s.name), i);
      });
      this.stageIndex.set(p.id, stages);
    }
  }

  /** The users an owner cell names: one, none, or several that share the name (or one's name is another's id). */
  usersNamed(name: string): readonly string[] {
    return this.users.get(this.key(name)) ?? [];
  }

  pipeline(name: string): Pipeline | null {
    return this.pipelines.get(this.key(name)) ?? null;
  }

  stage(pipeline: Pipeline, name: string): number | null {
    return this.stageIndex.get(pipeline.id)?.get(this.key(name)) ?? null;
  }

  /** An export repeats a few owner and stage names on every row: each is normalised once. */
  private readonly keys = new Map<string, string>();

  private key(name: string): string {
    let k = this.keys.get(name);
    if (k === undefined) {
      k = nameKey(name);
      if (this.keys.size < 10_000) this.keys.set(name, k);
    }
    return k;
  }

  /** The first pipeline that has a stage of this name. */
  pipelineWithStage(name: string): Pipeline | null {
    return this.process.pipelines.find((p) => this.stage(p, name) !== null) ?? null;
  }

  defaultPipeline(): Pipeline {
    return this.process.pipelines.find((p) => p.default) ?? (this.process.pipelines[0] as Pipeline);
  }
}

export function planLead(record: ImportRecord, dir: ProcessDirectory, ctx: PlanContext): PlanResult {
  const problems: ImportProblem[] = [];
  const fail = (column: string | null, message: string): void => {
    problems.push({ file: record.file, line: record.line, column, message, severity: 'error' });
  };
  const unreadable = (...fields: string[]): boolean => fields.some((f) => record.unreadable.has(f));
  const stageName = (raw: string): string => ctx.stageNames[raw] ?? raw;
  // Each check below needs only its own columns: one that failed to read skips the checks built
  // on it (no "needs its close date" after a bad close date), and every other check still runs.

  // Status: the status column, else a stage that means won or lost.
  const mappedStage = record.stage === null ? null : stageName(record.stage);
  const stageStatus = closedStatus(mappedStage);
  const status: ImportStatus = record.status ?? stageStatus ?? 'open';

  let pipeline: Pipeline | null = null;
  let pipelineUnknown = false;
  if (record.pipeline !== null) {
    pipeline = dir.pipeline(record.pipeline);
    if (!pipeline) {
      fail('pipeline', `unknown pipeline "${record.pipeline}"`);
      pipelineUnknown = true;
    }
  } else if (mappedStage !== null && stageStatus === null) {
    pipeline = dir.pipelineWithStage(mappedStage);
  } else {
    // A closed deal's stage says only won or lost: the stages it has dates for name its pipeline.
    for (const d of record.stageDates) {
      const name = stageName(d.stage);
      pipeline ??= closedStatus(name) ? null : dir.pipelineWithStage(name);
    }
  }
  if (!pipelineUnknown) pipeline ??= dir.defaultPipeline();

  const found: (DayStamp & { index: number; stage: string })[] = [];
  let stageIndex: number | null = null;
  let stageUnknown = false;
  if (pipeline) {
    if (mappedStage !== null && stageStatus === null) {
      stageIndex = dir.stage(pipeline, mappedStage);
      if (stageIndex === null) {
        fail('stage', `unknown stage "${record.stage}" in pipeline ${pipeline.id} (known: ${stageList(pipeline)})`);
        stageUnknown = true;
      }
    }
    for (const d of record.stageDates) {
      const name = stageName(d.stage);
      if (closedStatus(name)) continue; // "Date entered Closed Won" is the close (closeOf), not a stay
      const i = dir.stage(pipeline, name);
      if (i === null) {
        fail(d.stage, `unknown stage "${d.stage}" in pipeline ${pipeline.id} (known: ${stageList(pipeline)})`);
        stageUnknown = true;
      } else found.push({ index: i, stage: d.stage, at: d.date.at, text: d.date.text, dateOnly: d.date.dateOnly });
    }
  }
  // Days alone placed after the timed evidence of their own day (a close "on the creation day").
  const zone = ctx.process.organisation.timezone;
  // The export's close date, else (or for its time of day) when the deal entered its closed stage.
  const enteredClosed =
    status === 'open' ? null : record.stageDates.find((d) => closedStatus(stageName(d.stage)) === status);
  const closedCell =
    status === 'open' ? null : closeOf(record.closedAt, enteredClosed ? enteredClosed.date : null, zone);
  const settled = settleSameDay(
    { createdAt: record.createdAt, lastStageChange: record.lastStageChange, dated: found, closedAt: closedCell },
    zone,
  );
  const dated = settled.dated;
  // A closed deal's stage column often says only "won" or "lost": it closed in the last stage it
  // entered. With no dated stage at all, a won deal went through the last stage; a lost one is
  // known only to have entered the first (placing it further would count it as having reached
  // stages it may never have seen, in the funnel and calibration).
  if (stageIndex === null && pipeline && !stageUnknown) {
    const latest = [...dated].sort((a, b) => a.at - b.at).at(-1);
    stageIndex = latest ? latest.index : status === 'won' ? pipeline.stages.length - 1 : 0;
  }

  let owner: string | null = null;
  if (record.owner !== null) {
    const named = dir.usersNamed(record.owner);
    if (named.length === 1) owner = named[0] ?? null;
    else if (named.length === 0)
      fail('owner', `unknown owner "${record.owner}" (not a user id, name or email of the process)`);
    // Which of them is meant only the user can say; the last one in the process would be a guess.
    else
      fail(
        'owner',
        `"${record.owner}" names ${named.length} users (${named.join(', ')}): give the owner's email or id`,
      );
  }

  // Automation mails this address, and erase and export find the person by it: the API refuses a
  // value that is not one, and so does the import.
  if (record.email !== null && !isEmailAddress(record.email))
    fail('email', `"${record.email}" is not an email address`);

  const money = convertValue(record, ctx, fail);

  const closeUnreadable = unreadable('closed_at', 'won_at', 'lost_at', 'status');
  const implausible = implausibleDates(record, closedCell, ctx.now, zone);
  for (const i of implausible) fail(i.column, i.message);
  // An implausible date is not built into a history: its errors would only repeat it.
  const datesReadable = !unreadable(...HISTORY_FIELDS) && implausible.length === 0;
  const closed = settled.closedAt;
  if (status !== 'open' && closed === null && !closeUnreadable)
    fail('closed_at', `a ${status} deal needs its close date`);
  const created = settled.created;
  if (datesReadable && created !== null)
    for (const early of entriesBefore(created, settled.dated, settled.lastStageChange))
      fail(early.column, `entered on "${early.text}", before it was created on "${created.text}"`);
  const before = problems.length;
  if (datesReadable && created !== null && closed !== null && closed.at < created.at)
    fail('closed_at', `closes on "${closed.text}", before it was created on "${created.text}"`);

  // The stays can only be rebuilt (and their order checked) from a known stage and readable dates,
  // and a close already found wrong is not reported a second time against the stage entry.
  const closeFailed = problems.length > before;
  const history =
    pipeline && stageIndex !== null && datesReadable && !closeFailed
      ? rebuildStays({
          leadId: importedLeadId(ctx.source, record.sourceId),
          pipeline,
          current: stageIndex,
          createdAt: created ?? undatedCreation(ctx),
          currentEnteredAt: settled.lastStageChange,
          dated,
          closedAt: closed,
          status,
          processVersion: ctx.processVersion,
          stallDays: (i) => pipeline.stages[i]?.stall_after_days ?? ctx.process.organisation.default_stall_days,
        })
      : null;
  // The only history that cannot be rebuilt is one closing before its current stage was entered:
  // named by the close date's column, as a close before creation is.
  if (history && !history.ok) for (const message of history.problems) fail('closed_at', message);
  if (problems.length > 0 || !pipeline || !history?.ok) return { ok: false, problems };

  const id = importedLeadId(ctx.source, record.sourceId);
  const closedAt = closed?.at ?? null;
  const last = history.stays.at(-1) as RebuiltStay;
  const stallAt = last.enteredAt + Math.round(last.stallDays * DAY_MS);
  const stay: StayState = {
    id: last.id,
    seq: last.seq,
    pipeline: pipeline.id,
    stage: last.stage,
    stageIndex: last.stageIndex,
    enteredAt: last.enteredAt,
    stallAt,
    // A deal that stalled before the import is marked so: the scheduler must not alert on old data.
    stalledAt: last.exitedAt === null && stallAt <= ctx.now ? stallAt : null,
    activities: {},
    via: 'import',
    processVersion: ctx.processVersion,
  };
  const fields: Fields = { ...record.fields, ...money.fields };
  const put = (k: string, v: string | number | null): void => {
    if (v !== null) fields[k] = v;
  };
  put('name', record.name);
  put('email', record.email);
  put('phone', record.phone);
  put('company', record.company);
  put('value', money.value);
  put('product', record.product);
  put('territory', record.territory);
  put('source', record.source);
  // In the organisation's zone with its offset: the day reads as the file wrote it, and the instant
  // the lead's expected_close column is parsed from is that day's midnight there.
  put('expected_close', record.expectedClose === null ? null : localIso(record.expectedClose.at, zone));
  return {
    ok: true,
    warnings: [
      ...(!money.converted && record.value !== null && money.value !== record.value
        ? [
            {
              file: record.file,
              line: record.line,
              column: 'value',
              message: `${record.value} has more than 2 decimals: imported as ${money.value?.toFixed(2) ?? ''} (whole cents)`,
              severity: 'warning' as const,
            },
          ]
        : []),
      ...history.warnings.map((message, i) => ({
        file: record.file,
        line: record.line,
        // The stage as written: the report names the date column it came from.
        column: dated.find((d) => d === history.ignored[i])?.stage ?? null,
        message,
        severity: 'warning' as const,
      })),
    ],
    lead: {
      id,
      sourceId: record.sourceId,
      line: record.line,
      company: record.company,
      phone: record.phone,
      createdEstimated: created === null,
      converted: money.converted,
      stays: history.stays,
      state: {
        id,
        processVersion: ctx.processVersion,
        pipeline: pipeline.id,
        status,
        owner,
        fields,
        createdAt: created?.at ?? undatedCreation(ctx).at,
        closedAt,
        closeReason: status === 'open' ? null : record.closeReason,
        stay,
        tasks: [],
        signals: {},
        lists: [],
        seq: 0,
        error: null,
      },
    },
  };
}

/**
 * The value in the organisation's currency. A value in another currency is converted at the
 * user's rate, and the amount and currency the file gave are kept on the lead beside it, so
 * nothing is lost; without a rate the record is an error that names the fix.
 */
function convertValue(
  record: ImportRecord,
  ctx: PlanContext,
  fail: (column: string | null, message: string) => void,
): { value: number | null; fields: Fields; converted: boolean } {
  const home = ctx.process.organisation.currency.toUpperCase();
  const code = record.currency;
  // Whole cents, as the API keeps them: the lead's field and its reported figure are one number.
  const unchanged = { value: record.value === null ? null : roundCents(record.value), fields: {}, converted: false };
  if (code === null || code === home) return unchanged;
  // No amount, nothing to convert; a bad amount is reported on its own, but a missing rate still is.
  if (record.value === null && !record.unreadable.has('value')) return unchanged;
  const rate = ctx.rates.get(code);
  if (rate === undefined) {
    // A currency the mapping gives the whole file (Maven's dollars) is the amount column's.
    fail(record.currencyFrom ?? 'value', missingRateMessage(code, home, ctx.rateHint));
    return unchanged;
  }
  if (record.value === null) return unchanged;
  return {
    value: roundCents(record.value * rate),
    fields: { original_value: record.value, original_currency: code, exchange_rate: rate },
    converted: true,
  };
}

function roundCents(n: number): number {
  return Math.round(n * 100) / 100;
}

/** When a record without any date was created: at its first import. */
function undatedCreation(ctx: PlanContext): Stamp {
  return ctx.undatedCreatedAt === undefined
    ? { at: ctx.now, text: 'the import time' }
    : { at: ctx.undatedCreatedAt, text: 'its first import' };
}

/** Before this year a deal's date is a placeholder or a typo (`0001-01-01`), not a date to store. */
const EARLIEST_YEAR = 1970;
/** An expected close further ahead than this many years is a typo (`2062` for `2026`). */
const EXPECTED_CLOSE_YEARS_AHEAD = 5;

/**
 * Dates no deal can have, each an error naming its field: any year before 1970, a close after the
 * import's `now` (the deal would count as won or lost in a period that has not happened), an expected
 * close more than a few years ahead. The value is refused as written, never moved to a plausible one.
 */
function implausibleDates(
  record: ImportRecord,
  closedCell: DateCell | null,
  now: number,
  zone: string,
): { column: string; message: string }[] {
  const out: { column: string; message: string }[] = [];
  const yearOf = (at: number): number => new Date(at + offsetMinutes(zone, at) * 60_000).getUTCFullYear();
  const cells: [string, DateCell | null][] = [
    ['created_at', record.createdAt],
    ['closed_at', closedCell],
    ['expected_close', record.expectedClose],
    ['last_stage_change', record.lastStageChange],
    ...record.stageDates.map((d): [string, DateCell] => [d.stage, d.date]),
  ];
  for (const [column, cell] of cells)
    if (cell !== null && yearOf(cell.at) < EARLIEST_YEAR)
      out.push({
        column,
        message: `"${cell.text}" is before ${EARLIEST_YEAR}: not a plausible date (fix or empty the cell)`,
      });
  // What already happened cannot be dated after now: a future stage entry would also put every
  // later event on the lead at that future time (the engine never dates a change before the last).
  const nowText = localIso(now, zone).slice(0, 16).replace('T', ' ');
  const happened: [string, DateCell | null, string, string][] = [
    ['created_at', record.createdAt, 'created on', 'a creation date'],
    ['closed_at', closedCell, 'closes on', 'a close date'],
    ['last_stage_change', record.lastStageChange, 'changed stage on', 'a stage change'],
    ...record.stageDates.map((d): [string, DateCell, string, string] => [
      d.stage,
      d.date,
      'entered the stage on',
      'a stage entry',
    ]),
  ];
  for (const [column, cell, what, kind] of happened)
    if (cell !== null && cell.at > now && yearOf(cell.at) >= EARLIEST_YEAR)
      out.push({
        column,
        message: `${what} "${cell.text}", after the import's current time (${nowText}): ${kind} cannot be in the future`,
      });
  const latest = yearOf(now) + EXPECTED_CLOSE_YEARS_AHEAD;
  if (record.expectedClose !== null && yearOf(record.expectedClose.at) > latest)
    out.push({
      column: 'expected_close',
      message: `"${record.expectedClose.text}" is after ${latest}, more than ${EXPECTED_CLOSE_YEARS_AHEAD} years ahead: not a plausible expected close (a typo in the year?)`,
    });
  return out;
}

/**
 * Stage entries the file dates before the deal's creation (same-day days alone are already moved up
 * to it): a stay would start before created_at, and the cohorts, cycle and time in stage disagree.
 * A per-stage date is named by its stage as written (the report names its column), the entry into
 * the current stage by its field.
 */
function entriesBefore(
  created: Stamp,
  dated: readonly (Stamp & { stage: string })[],
  lastStageChange: Stamp | null,
): { column: string; text: string }[] {
  const early = dated.filter((d) => d.at < created.at).map((d) => ({ column: d.stage, text: d.text }));
  if (lastStageChange !== null && lastStageChange.at < created.at)
    early.push({ column: 'last_stage_change', text: lastStageChange.text });
  return early;
}

/** `2026-03-15T00:00:00+09:00`: an instant as the wall clock and offset of `zone` (memoised offsets). */
export function localIso(ms: number, zone: string): string {
  const offset = offsetMinutes(zone, ms);
  const wall = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
  const abs = Math.abs(offset);
  const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${wall}${offset < 0 ? '-' : '+'}${hhmm}`;
}

/**
 * A mapping's `stages` targets that name no stage: a typo there would otherwise be reported on
 * every row as the export's stage being unknown. Each with why, by its export name.
 */
export function unknownStageTargets(
  stages: Readonly<Record<string, string>>,
  dir: ProcessDirectory,
  pipelineName: string | undefined,
): { from: string; message: string }[] {
  const pipeline = pipelineName === undefined ? null : dir.pipeline(pipelineName);
  // An unknown pipeline is its own error, on every row.
  if (pipelineName !== undefined && !pipeline) return [];
  return Object.entries(stages)
    .filter(([, to]) => closedStatus(to) === null)
    .filter(([, to]) => (pipeline ? dir.stage(pipeline, to) === null : dir.pipelineWithStage(to) === null))
    .map(([from, to]) => ({
      from,
      message: pipeline
        ? `unknown stage "${to}" (not a stage id or name of pipeline ${pipeline.id}; known: ${pipeline.stages.map((s) => s.id).join(', ')}, won, lost)`
        : `unknown stage "${to}" (not a stage id or name of any pipeline of the process, nor won or lost)`,
    }));
}

function closedStatus(stage: string | null): 'won' | 'lost' | null {
  const s = stage?.toLowerCase();
  return s === 'won' || s === 'lost' ? s : null;
}

function stageList(p: Pipeline): string {
  return p.stages.map((s) => s.name).join(', ');
}
