import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parse as parseYaml, stringify } from 'yaml';
import { z } from 'zod';
import type { Fields } from '../domain/conditions.js';
import { OPT_OUT_FIELD, optOutValue, rememberedOptOutReason, type RememberedOptOut } from '../domain/consent.js';
import type { Actor } from '../domain/events.js';
import { Engine } from '../engine/engine.js';
import { applyProcess, loadProcessText } from '../engine/process-service.js';
import { appendAudit } from '../store/audit.js';
import { ErasureScrubber, personNames } from '../store/contact-scrub.js';
import { isCompanyKey, isPersonalKey } from '../store/personal-data.js';
import { allRememberedOptOuts, writeOptOutTurns, type OptOutTurn } from '../store/opt-outs.js';
import { suppressedContacts, type SuppressedContacts } from '../store/suppressions.js';
import { upsertAccounts, upsertProducts } from '../store/catalog.js';
import { withTransaction, type Store, type Tx } from '../store/db.js';
import { recountOpenLeads, storedCreatedAt, writeImportBatch, type ImportedLeadRows } from '../store/import-writer.js';
import {
  advanceRun,
  claimRun,
  finishRun,
  LEASE_RENEW_MS,
  releaseLease,
  renewLease,
  withSeenIds,
  type ImportRun,
  type RunLease,
} from '../store/import-runs.js';
import { latestProcess } from '../store/processes.js';
import { decide, guessesFor, MixedDateOrder, NO_GUESSES, ColumnEvidence, type Guesses } from './column-sense.js';
import { CsvEncodingError, CsvSyntaxError, type CsvEncoding, type CsvProgress } from './csv.js';
import { builtinMappings, type ImportFormat } from './formats/index.js';
import { catalogInCurrency, MAVEN_FILES, readMavenSideFiles, type MavenSideFiles } from './formats/maven.js';
import { compileMapping, type CompiledMapping, type StageDateColumn } from './map-row.js';
import { keyLine, readMappingFile } from './mapping-file.js';
import { mappingSchema, refineMapping, refinementSchema, type Mapping, type MappingRefinement } from './mapping.js';
import { mergeOrganisation } from './organisation.js';
import { fieldCatalogue, unknownFieldMessage } from '../domain/field-catalogue.js';
import type { Process } from '../domain/process-schema.js';
import {
  planLead,
  ProcessDirectory,
  unknownStageTargets,
  type PlanContext,
  type PlannedLead,
  type RateHint,
} from './plan.js';
import { parseRates, type Rates } from './rates.js';
import type { ImportProblem, ImportRecord } from './record.js';
import { importedRows } from './rows.js';
import { readTable, TableFileError, tableKind, type TableKind } from './table.js';
import { XlsxReadError } from './xlsx.js';

/**
 * `stageflow import`: two passes over the file. The first checks every record (mapping, dates,
 * numbers, owners, stages, duplicate ids) and writes nothing that lasts; if anything is wrong the
 * import stops there unless invalid records may be skipped. The second writes in batches, each
 * batch in one transaction with the run's checkpoint, so an interrupted run resumes after its
 * last commit and a re-run updates the same leads (keyed by the source's record id).
 */

export class ImportRejected extends Error {}

/** The same file is being imported right now by a live run: a second one would write it twice. */
export class ImportAlreadyRunning extends ImportRejected {
  constructor(
    readonly run: ImportRun,
    file: string,
  ) {
    super(
      `${file} is being imported right now by run ${run.id} (started ${new Date(run.started_at).toISOString()}, ` +
        `${run.rows_written} leads written so far): wait for it to finish; nothing was written`,
    );
  }
}

/**
 * The write pass failed after some batches were committed. The run stays open at its checkpoint,
 * so the same command resumes after it; the message says what was written and how to go on.
 */
export class ImportInterrupted extends Error {
  constructor(
    readonly runId: string,
    readonly checkpointLine: number,
    readonly written: number,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `the import stopped: ${why}. ` +
        (checkpointLine > 0
          ? `${written} leads up to line ${checkpointLine} are saved (run ${runId}); `
          : `nothing was saved (run ${runId}); `) +
        'run the same command again to resume after the last saved line',
      { cause },
    );
  }
}

export interface ImportOptions {
  format: ImportFormat;
  /** The export file (CSV, or an XLSX workbook by its `.xlsx` name); for `maven`, the folder holding its four files. */
  path: string;
  /** An XLSX workbook's worksheet to read (default its first). */
  sheet?: string;
  /** A mapping file (required for `generic`, refines a built-in format otherwise). */
  mapping?: { text: string; label: string };
  /** An exchange-rate table (`--rates`): values in other currencies are converted with it. */
  rates?: { text: string; label: string };
  /** How a missing rate is given, in the caller's terms (the HTTP route's query parameter); default `--rates`. */
  rateHint?: RateHint;
  dryRun: boolean;
  skipInvalid: boolean;
  /**
   * Take open imported leads live (`lead.activated`): their current stage's tasks and automations
   * run now, emails included. Off by default: no mail reaches an old lead unless asked.
   */
  automations?: boolean;
  batchSize?: number;
  /** How many problems the report lists (all are counted). */
  maxProblems?: number;
  now: number;
  actor: Actor;
  onProgress?: (p: ImportProgress) => void;
  /**
   * Stops the import between records (Ctrl-C): while checking, nothing is written; while writing,
   * the batch in progress is dropped and the run stays open at its last commit, to be resumed.
   */
  signal?: AbortSignal;
}

export interface ImportProgress extends CsvProgress {
  phase: 'checking' | 'writing';
  records: number;
}

export interface ImportReport {
  format: ImportFormat;
  source: string;
  file: string;
  dryRun: boolean;
  /** `checked` (dry run), `refused` (errors, nothing written), `imported`. */
  outcome: 'checked' | 'refused' | 'imported';
  records: number;
  valid: number;
  invalid: number;
  written: number;
  /** Leads worked in Stageflow since an earlier import of the same record: left as they are. */
  kept: number;
  /** Of the leads this run wrote (a resumed run: since it resumed), those new and those an earlier import had written. */
  created: number;
  updated: number;
  /** Records skipped (with --skip-invalid): line and reasons. */
  skipped: { line: number; sourceId: string | null; reasons: string[] }[];
  errors: number;
  /** Of the errors, those in a side file (people, products, accounts): no record can be skipped for them. */
  sideErrors: number;
  warnings: number;
  problems: ImportProblem[];
  /** Records without any date: created at the import time. */
  createdAtImport: number;
  /** Valid records whose value was converted from another currency (`--rates`). */
  converted: number;
  processVersion: number | null;
  /** The process version this import added (Maven's people, teams and pipeline), if any. */
  processApplied: number | null;
  resumedFromLine: number | null;
  runId: string | null;
  /** Open leads taken live with --automations. */
  activated: number;
}

interface Prepared {
  mapping: Mapping;
  dataFile: string;
  label: string;
  /** How the data file is read: CSV, or the rows of a workbook's worksheet. */
  kind: TableKind;
  maven: MavenSideFiles | null;
  sideProblems: ImportProblem[];
  /** What the file's content may still decide (its mapping left it open), and how its bytes are read. */
  guesses: Guesses;
  encoding: CsvEncoding;
  /** Erased contacts: their personal data is not brought back. */
  suppressed: SuppressedContacts;
  /** Addresses that opted out before: their leads are imported opted out, as the engine creates them. */
  optedOut: (email: string) => RememberedOptOut | null;
}

export async function runImport(store: Store, opts: ImportOptions): Promise<ImportReport> {
  const read: Prepared = {
    ...(await prepare(opts)),
    suppressed: await suppressedContacts(store.db),
    optedOut: await allRememberedOptOuts(store.db),
  };
  const maxProblems = opts.maxProblems ?? 1000;
  const report: ImportReport = {
    format: opts.format,
    source: read.mapping.source,
    file: read.dataFile,
    dryRun: opts.dryRun,
    outcome: 'checked',
    records: 0,
    valid: 0,
    invalid: 0,
    written: 0,
    kept: 0,
    created: 0,
    updated: 0,
    skipped: [],
    errors: 0,
    sideErrors: 0,
    warnings: 0,
    problems: [],
    createdAtImport: 0,
    converted: 0,
    processVersion: null,
    processApplied: null,
    resumedFromLine: null,
    runId: null,
    activated: 0,
  };
  const note = (p: ImportProblem): void => {
    if (p.severity === 'error') report.errors++;
    else report.warnings++;
    if (report.problems.length < maxProblems) report.problems.push(p);
  };

  const { process, version, pendingOrg } = await resolveProcess(store, read, opts);
  report.processVersion = version;
  const dir = new ProcessDirectory(process);
  if (opts.mapping) checkStageTargets(read.mapping, dir, opts.mapping);
  checkFieldTargets(read.mapping, process, opts.mapping);
  const planCtx: PlanContext = {
    process,
    processVersion: version ?? 0,
    source: read.mapping.source,
    stageNames: read.mapping.stages,
    now: opts.now,
    rates: readRates(opts, process.organisation.currency),
    ...(opts.rateHint ? { rateHint: opts.rateHint } : {}),
  };
  const converted = withMavenCatalogConverted(read, process.organisation.currency, planCtx);

  // Pass 1: check everything, writing nothing (duplicate ids go to scratch space, see withSeenIds).
  const { prep, duplicates } = await checkAsDecided(store, converted, opts, dir, planCtx, report, note);
  if (opts.dryRun) return report;
  // Errors outside the records (in a side file) cannot be skipped record by record.
  if (report.errors > 0 && (!opts.skipInvalid || report.sideErrors > 0)) {
    report.outcome = 'refused';
    return report;
  }
  report.outcome = 'imported';

  // Before anything is written (Maven's process version too): refused here if the file is being imported.
  const claimed = await claimImport(store, prep, opts, planCtx.rates);
  try {
    if (pendingOrg) {
      const applied = await applyProcess(store, pendingOrg, opts.now, `import:${opts.format}`);
      report.processApplied = applied.version;
      report.processVersion = applied.version;
      planCtx.processVersion = applied.version;
    }
    await writePass(store, prep, opts, dir, planCtx, duplicates, report, claimed);
  } catch (e) {
    // Stopped in this process: the run is no longer live, and the same command may resume it at once.
    await releaseLease(store, claimed.lease).catch(() => undefined);
    throw e;
  }
  return report;
}

async function prepare(opts: ImportOptions): Promise<Omit<Prepared, 'suppressed' | 'optedOut'>> {
  const prep = await prepareFormat(opts);
  if (prep.kind === 'csv' && opts.sheet !== undefined)
    throw new ImportRejected(`${prep.label} is CSV: --sheet names a worksheet of an XLSX workbook`);
  if (prep.kind === 'csv') return prep;
  // A workbook's date cells become ISO dates, whatever the format the mapping expects of text.
  const { dates } = prep.mapping;
  return dates.formats.includes('iso')
    ? prep
    : { ...prep, mapping: { ...prep.mapping, dates: { ...dates, formats: [...dates.formats, 'iso'] } } };
}

async function prepareFormat(opts: ImportOptions): Promise<Omit<Prepared, 'suppressed' | 'optedOut'>> {
  if (opts.format === 'maven') {
    assertMavenFolder(opts.path);
    const maven = await readMavenSideFiles(opts.path);
    return {
      mapping: opts.mapping ? refine(maven.mapping, opts.mapping) : maven.mapping,
      dataFile: join(opts.path, MAVEN_FILES.pipeline),
      label: MAVEN_FILES.pipeline,
      kind: 'csv',
      maven,
      sideProblems: maven.problems,
      guesses: NO_GUESSES,
      encoding: 'utf-8',
    };
  }
  if (opts.format === 'generic') {
    if (!opts.mapping) throw new ImportRejected('the generic format needs a mapping file: --mapping FILE');
    const mapping = parseMapping(opts.mapping, false);
    return {
      mapping,
      dataFile: opts.path,
      label: basename(opts.path),
      kind: kindOf(opts.path),
      maven: null,
      sideProblems: [],
      guesses: guessesFor(mapping, asWritten(opts.mapping.text)),
      encoding: 'utf-8',
    };
  }
  const base = builtinMappings[opts.format];
  const mapping = opts.mapping ? refine(base, opts.mapping) : base;
  return {
    mapping,
    dataFile: opts.path,
    label: basename(opts.path),
    kind: kindOf(opts.path),
    maven: null,
    sideProblems: [],
    guesses: guessesFor(mapping, opts.mapping ? asWritten(opts.mapping.text) : null),
    encoding: 'utf-8',
  };
}

/** A mapping file's keys as the user wrote them (already checked by then), to tell what it gives from a default. */
function asWritten(text: string): Record<string, unknown> | null {
  const raw: unknown = parseYaml(text);
  return typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : null;
}

/** Maven's account revenue and list prices in the organisation's currency, or refused for want of a USD rate. */
function withMavenCatalogConverted(prep: Prepared, home: string, ctx: PlanContext): Prepared {
  if (!prep.maven) return prep;
  const { accounts, products, problems } = catalogInCurrency(prep.maven, home, ctx.rates, ctx.rateHint);
  return { ...prep, maven: { ...prep.maven, accounts, products }, sideProblems: [...prep.sideProblems, ...problems] };
}

/** A mapping whose `stages` name a stage the process lacks is refused before any record, naming the mapping's line. */
function checkStageTargets(mapping: Mapping, dir: ProcessDirectory, file: { text: string; label: string }): void {
  const wrong = unknownStageTargets(mapping.stages, dir, mapping.pipeline);
  if (wrong.length === 0) return;
  throw new ImportRejected(
    wrong
      .map(({ from, message }) => {
        const line = keyLine(file.text, ['stages', from]);
        return `${file.label}: stages.${from}: ${message}${line === null ? '' : ` (line ${line})`}`;
      })
      .join('\n'),
  );
}

/**
 * Under a field catalogue, a mapping's `fields` that name a field the process does not declare are
 * refused before any record, as a lead write to one is (docs/process.md, Fields).
 */
function checkFieldTargets(
  mapping: Mapping,
  process: Process,
  file: { text: string; label: string } | undefined,
): void {
  const catalogue = fieldCatalogue(process);
  if (catalogue === null) return;
  const keys = catalogue.map((f) => f.key);
  const wrong = Object.keys(mapping.fields).filter((k) => !keys.includes(k));
  if (wrong.length === 0) return;
  throw new ImportRejected(
    wrong
      .map((k) => {
        const line = file ? keyLine(file.text, ['fields', k]) : null;
        return `${file?.label ?? 'mapping'}: fields.${k}: ${unknownFieldMessage(k, keys)}${line === null ? '' : ` (line ${line})`}`;
      })
      .join('\n'),
  );
}

function readRates(opts: ImportOptions, home: string): Rates {
  if (!opts.rates) return new Map();
  const parsed = parseRates(opts.rates.text, opts.rates.label, home);
  if (!parsed.ok) throw new ImportRejected(parsed.problems.join('\n'));
  return parsed.rates;
}

/** The path the user gave, named as given, rather than the system's ENOENT of a file they never named. */
function assertMavenFolder(path: string): void {
  const files = Object.values(MAVEN_FILES);
  if (!existsSync(path)) throw new ImportRejected(`folder not found: ${path}`);
  const missing = statSync(path).isDirectory() ? files.filter((f) => !existsSync(join(path, f))) : files;
  if (missing.length > 0)
    throw new ImportRejected(
      `${path} is not the Maven CRM folder: ${files.join(', ')} expected` +
        (missing.length < files.length ? ` (missing: ${missing.join(', ')})` : ''),
    );
}

function kindOf(path: string): TableKind {
  if (!existsSync(path)) throw new ImportRejected(`file not found: ${path}`);
  if (statSync(path).isDirectory()) throw new ImportRejected(`${path} is a folder: give the export file`);
  try {
    return tableKind(path, basename(path));
  } catch (e) {
    if (e instanceof TableFileError) throw new ImportRejected(e.message);
    throw e;
  }
}

function refine(base: Mapping, file: { text: string; label: string }): Mapping {
  try {
    return refineMapping(base, parseMapping(file, true));
  } catch (e) {
    if (!(e instanceof z.ZodError)) throw e;
    throw new ImportRejected(`${file.label}: ${e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
}

function parseMapping(file: { text: string; label: string }, partial: true): MappingRefinement;
function parseMapping(file: { text: string; label: string }, partial: false): Mapping;
function parseMapping(file: { text: string; label: string }, partial: boolean): MappingRefinement | Mapping {
  const schema: z.ZodType<MappingRefinement | Mapping> = partial ? refinementSchema : mappingSchema;
  const parsed = readMappingFile(schema, file.text, file.label);
  if (!parsed.ok) throw new ImportRejected(parsed.problems.join('\n'));
  for (const pattern of [...(parsed.value.footer ?? []), parsed.value.stage_date_pattern ?? '']) {
    try {
      new RegExp(pattern);
    } catch {
      throw new ImportRejected(`${file.label}: "${pattern}" is not a valid pattern`);
    }
  }
  // A refinement is merged as written: the schema's defaults would replace the format's settings.
  if (partial) return (parseYaml(file.text) as MappingRefinement | null) ?? {};
  return parsed.value;
}

/** The process records are checked against; for Maven, with its people, teams and pipeline merged in. */
async function resolveProcess(
  store: Store,
  prep: Prepared,
  opts: ImportOptions,
): Promise<{ process: ReturnType<typeof loadProcessText>; version: number | null; pendingOrg: string | null }> {
  const current = await latestProcess(store.db);
  if (prep.maven) {
    const merged = mergeOrganisation(current?.process ?? null, prep.maven.organisation);
    if (merged) {
      const text = `# Merged by stageflow import ${opts.format} from ${opts.path}\n${stringify(merged)}`;
      return { process: loadProcessText(text), version: current?.version ?? null, pendingOrg: text };
    }
  }
  if (!current) throw new ImportRejected('no process has been applied yet: run `stageflow process apply FILE` first');
  return { process: current.process, version: current.version, pendingOrg: null };
}

/** Reads the data file's records through the mapping: header problems stop everything. */
async function* records(
  prep: Prepared,
  zone: string,
  phase: ImportProgress['phase'],
  opts: ImportOptions,
  evidence = new ColumnEvidence(),
): AsyncGenerator<RecordRow> {
  let count = 0;
  const onProgress = opts.onProgress;
  const progress = onProgress ? (p: CsvProgress): void => onProgress({ ...p, phase, records: count }) : undefined;
  const table = {
    decimal: prep.mapping.numbers.decimal,
    encoding: prep.encoding,
    ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
    ...(progress ? { onProgress: progress } : {}),
  };
  const sense = { guesses: prep.guesses, evidence };
  // A spreadsheet saved in a decimal-comma locale writes ";" between fields: unless the mapping
  // names the separator, the others are tried when no header reads with the first.
  const first = prep.mapping.delimiter;
  const delimiters =
    prep.kind === 'csv' && prep.guesses.delimiter ? [first, ...DELIMITERS.filter((d) => d !== first)] : [first];
  let closest: { attempt: CompiledMapping; delimiter: string } | null = null;
  let unreadableAs: CsvSyntaxError | null = null;
  for (const delimiter of delimiters) {
    const rows = unreadable(readTable(prep.dataFile, prep.label, prep.kind, { ...table, delimiter }));
    let header: { compiled: CompiledMapping; names: readonly string[] } | null = null;
    try {
      // A report export may open with a title block (the report's name, the organisation, the
      // date): the header is the first row holding the mapped columns, within the first few.
      for (let tried = 0; tried < MAX_TITLE_LINES && !header; tried++) {
        const next = await rows.next();
        if (next.done) break;
        const r = next.value;
        const attempt = compileMapping(
          { ...prep.mapping, delimiter },
          r.values,
          prep.label,
          zone,
          prep.kind === 'csv',
          r.line,
          sense,
        );
        if (attempt.headerProblems.length === 0) header = { compiled: attempt, names: r.values };
        // Failing that, the row that lacks the fewest columns is the header, and says which it lacks.
        else if (!closest || attempt.headerProblems.length < closest.attempt.headerProblems.length)
          closest = { attempt, delimiter };
      }
    } catch (e) {
      // Read with another separator, a file's quotes may not parse: that separator is not the file's.
      if (!(e instanceof CsvSyntaxError) || e instanceof CsvEncodingError || delimiters.length === 1) throw e;
      if (delimiter === first) unreadableAs = e;
    }
    if (!header) {
      await rows.return(undefined);
      continue;
    }
    try {
      for await (const r of rows) {
        if (header.compiled.isFooter(r.values)) return; // the rest of a report export is totals and notices
        count++;
        yield { line: r.line, values: r.values, compiled: header.compiled };
      }
    } catch (e) {
      throw inColumn(e, header.names);
    }
    return;
  }
  if (closest) throw rejectHeader(closest.attempt, closest.delimiter === first ? null : closest.delimiter, prep.label);
  if (unreadableAs) throw unreadableAs;
  // Not even a header: a failed or truncated export, which must not pass for an import of nothing.
  throw new ImportRejected(`${prep.label}: the file is empty (not even a header row): nothing to import`);
}

/** The field separators tried for a header when the mapping names none. */
const DELIMITERS = [',', ';', '\t', '|'] as const;

const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab', '|': 'pipe' };

function rejectHeader(c: CompiledMapping, delimiter: string | null, label: string): ImportRejected {
  const lines = c.headerProblems.map((p) => `${p.file}:${p.line}: ${p.message}`);
  const line = c.headerProblems[0]?.line ?? 1;
  // The header reads best with another separator than the mapping's: say so before what it lacks.
  const shape = delimiter
    ? [
        `${label}:${line}: the header looks ${DELIMITER_NAMES[delimiter] ?? `"${delimiter}"`}-separated, and read so ` +
          `it still lacks ${c.headerProblems.length === 1 ? 'a column' : 'columns'} (set \`delimiter: '${delimiter}'\` in a mapping, --mapping):`,
      ]
    : [];
  return new ImportRejected([...shape, ...lines].join('\n'));
}

/** A CSV error in a record names the header's column for the parser's field number. */
function inColumn(e: unknown, names: readonly string[]): unknown {
  if (!(e instanceof CsvSyntaxError) || e.field === null) return e;
  const name = names[e.field]?.trim();
  return name ? new CsvSyntaxError(e.file, e.line, `${name}: ${e.detail}`) : e;
}

/** How many rows above the header a report's title block may take. */
const MAX_TITLE_LINES = 10;

/** A data row with what reads it: the mapping compiled against the file's header. */
interface RecordRow {
  line: number;
  values: string[];
  compiled: CompiledMapping;
}

/**
 * The header of the row's non-empty date column for a stage (the plan names a per-stage date by its
 * stage as written), so a problem names the column as the file does, as a bad date in it is named.
 */
function stageDateHeader(stage: string, columns: readonly StageDateColumn[], values: readonly string[]): string | null {
  return columns.find((c) => c.stage === stage && (values[c.index]?.trim() ?? '') !== '')?.header ?? null;
}

/** A workbook that cannot be read is refused like a bad header: one message naming the file. */
async function* unreadable<T>(rows: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* rows;
  } catch (e) {
    if (e instanceof XlsxReadError) throw new ImportRejected(e.message);
    throw e;
  }
}

function planRecord(
  prep: Prepared,
  { compiled, values, line }: RecordRow,
  dir: ProcessDirectory,
  ctx: PlanContext,
): { plan: PlannedLead | null; sourceId: string | null; problems: ImportProblem[] } {
  const mapped = compiled.mapRow(values, line);
  const sourceId = mapped.sourceId;
  if (mapped.misshapen) return { plan: null, sourceId, problems: mapped.problems };
  const completed = prep.maven ? prep.maven.complete(mapped.record) : mapped.record;
  const erased = completed.email !== null && prep.suppressed.has(completed.email);
  // An erased contact stays erased: the deal is imported, the person's data is not.
  const person =
    erased && completed.email !== null ? withoutPerson(completed, completed.email, prep.suppressed) : completed;
  const optOut = rememberedOptOutOf(prep, person);
  const record = optOut ? { ...person, fields: { ...person.fields, [OPT_OUT_FIELD]: true } } : person;
  // Planned even when a cell did not read: the owner, stage and the rest are checked all the same.
  const planned = planLead(record, dir, ctx);
  // The plan names fields (owner, stage); the report names the file's columns.
  const stageHeader = (stage: string): string | null => stageDateHeader(stage, compiled.stageDateColumns, values);
  const problems = (planned.ok ? planned.warnings : planned.problems).map((p) =>
    inFileColumns(p, record, prep.mapping, stageHeader),
  );
  const notice: ImportProblem[] = optOut
    ? [
        {
          file: record.file,
          line,
          column: prep.mapping.columns.email ?? null,
          message: `imported as ${OPT_OUT_FIELD}: ${rememberedOptOutReason(optOut)}`,
          severity: 'warning',
        },
      ]
    : erased
      ? [
          {
            file: record.file,
            line,
            column: prep.mapping.columns.email ?? null,
            message: 'this contact was erased: the deal is imported without their name, email or phone',
            severity: 'warning',
          },
        ]
      : [];
  const valid = planned.ok && !mapped.problems.some((p) => p.severity === 'error');
  return {
    plan: valid ? planned.lead : null,
    sourceId,
    problems: [...mapped.problems, ...problems, ...notice],
  };
}

/**
 * The opt-outs a batch wrote (not those of leads kept as Stageflow has them), remembered for their
 * addresses as the engine remembers a lead's: an imported opt-out outlives the imported lead.
 */
function importedOptOuts(
  rows: readonly ImportedLeadRows[],
  kept: ReadonlySet<string>,
  by: string,
  at: number,
): OptOutTurn[] {
  return rows.flatMap(({ lead }) => {
    const fields = JSON.parse(lead.fields) as Fields;
    const email = fields['email'];
    if (kept.has(lead.id) || typeof email !== 'string' || email.trim() === '') return [];
    return optOutValue(fields[OPT_OUT_FIELD]) === true ? [{ email, optedOut: true, lead: lead.id, at, by }] : [];
  });
}

/** The remembered opt-out of a record's address that the record does not say already. */
function rememberedOptOutOf(prep: Prepared, r: ImportRecord): RememberedOptOut | null {
  if (r.email === null || r.email.trim() === '' || optOutValue(r.fields[OPT_OUT_FIELD]) === true) return null;
  return prep.optedOut(r.email);
}

/**
 * An erased contact's deal, scrubbed as the erase would have (store/contact-scrub.ts): name,
 * email and phone go, personal custom fields (first_name, mobile_phone, ...) are dropped, their
 * values are replaced in the close reason and other text fields, and a company that is the person
 * (their address, or one of their name fields whole) becomes the pseudonym. Otherwise the address
 * would come back in a place no later erase looks at, since the lead has no email.
 */
function withoutPerson(r: ImportRecord, email: string, erased: SuppressedContacts): ImportRecord {
  const personal = Object.entries(r.fields).filter(([k]) => isPersonalKey(k));
  const known = [email, r.name, r.phone, ...personal.map(([, v]) => v)].filter(
    (v): v is string | number => typeof v === 'string' || typeof v === 'number',
  );
  const s = new ErasureScrubber(erased.pseudonym(email), known.map(String), [email, ...personNames(r.fields)]);
  const text = (v: string | null): string | null => (v === null ? null : s.text(v));
  const fields: Fields = {};
  for (const [k, v] of Object.entries(r.fields)) {
    if (isPersonalKey(k)) continue;
    fields[k] = typeof v !== 'string' ? v : isCompanyKey(k) ? String(s.company(v)) : s.text(v);
  }
  return {
    ...r,
    name: s.pseudonym,
    email: null,
    phone: null,
    company: r.company === null ? null : String(s.company(r.company)),
    closeReason: text(r.closeReason),
    fields,
  };
}

function inFileColumns(
  p: ImportProblem,
  record: ImportRecord,
  mapping: Mapping,
  stageHeader: (stage: string) => string | null,
): ImportProblem {
  const c = mapping.columns;
  const closing = record.status === 'lost' ? (c.lost_at ?? c.won_at) : (c.won_at ?? c.lost_at);
  const column =
    p.column === null
      ? null
      : Object.hasOwn(c, p.column)
        ? (c[p.column as keyof Mapping['columns']] ?? p.column)
        : p.column === 'closed_at'
          ? (closing ?? p.column)
          : (stageHeader(p.column) ?? p.column);
  return { ...p, column };
}

/**
 * Pass 1, run again when the file decides how it is read: bytes that are not UTF-8 (then read as
 * Windows-1252), amounts whose separators or dates whose order only the whole column tells (see
 * column-sense.ts). Each run starts the report afresh; the last is the import's, and each decision
 * is a warning that names the line that made it.
 */
async function checkAsDecided(
  store: Store,
  first: Prepared,
  opts: ImportOptions,
  dir: ProcessDirectory,
  ctx: PlanContext,
  report: ImportReport,
  note: (p: ImportProblem) => void,
): Promise<{ prep: Prepared; duplicates: Set<string> }> {
  let prep = first;
  const decisions: ImportProblem[] = [];
  for (;;) {
    Object.assign(report, NO_CHECKS, { skipped: [], problems: [] });
    prep.sideProblems.forEach(note);
    report.sideErrors = prep.sideProblems.filter((p) => p.severity === 'error').length;
    let checked: { duplicates: Set<string>; evidence: ColumnEvidence };
    try {
      checked = await checkPass(store, prep, opts, dir, ctx, report, note);
    } catch (e) {
      if (!(e instanceof CsvEncodingError) || prep.encoding !== 'utf-8') throw e;
      prep = { ...prep, encoding: 'windows-1252' };
      decisions.push({
        file: e.file,
        line: e.line,
        column: null,
        message:
          'the file is not UTF-8: read as Windows-1252 (as Excel saves "CSV (Comma delimited)"); ' +
          'if letters look wrong, save it as "CSV UTF-8" and import that',
        severity: 'warning',
      });
      continue;
    }
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(prep.mapping, prep.guesses, checked.evidence, prep.label);
    } catch (e) {
      if (e instanceof MixedDateOrder) throw new ImportRejected(e.message);
      throw e;
    }
    if (decision === null) {
      report.problems.unshift(...decisions);
      report.warnings += decisions.length;
      return { prep, duplicates: checked.duplicates };
    }
    prep = { ...prep, mapping: decision.mapping, guesses: decision.guesses };
    decisions.push(...decision.warnings);
  }
}

/** The counts of a check before it starts. */
const NO_CHECKS = {
  records: 0,
  valid: 0,
  invalid: 0,
  errors: 0,
  sideErrors: 0,
  warnings: 0,
  createdAtImport: 0,
  converted: 0,
} satisfies Partial<ImportReport>;

async function checkPass(
  store: Store,
  prep: Prepared,
  opts: ImportOptions,
  dir: ProcessDirectory,
  ctx: PlanContext,
  report: ImportReport,
  note: (p: ImportProblem) => void,
): Promise<{ duplicates: Set<string>; evidence: ColumnEvidence }> {
  const zone = dir.process.organisation.timezone;
  const evidence = new ColumnEvidence();
  let duplicates = new Set<string>();
  const invalidLines: { line: number; sourceId: string | null; reasons: string[] }[] = [];
  // No write transaction: the pass reads the file, and the record ids go to scratch space that
  // leaves the database free for other writers (a live server) however long the file takes.
  await withSeenIds(store, async (seen) => {
    for await (const row of records(prep, zone, 'checking', opts, evidence)) {
      if (opts.signal?.aborted) throw new ImportRejected('interrupted while checking the file: nothing was written');
      const line = row.line;
      report.records++;
      const { plan, sourceId, problems } = planRecord(prep, row, dir, ctx);
      problems.forEach(note);
      const errors = problems.filter((p) => p.severity === 'error');
      // Every row's id counts, an invalid row's too: a duplicate is a problem of its own.
      if (sourceId !== null) await seen.add(sourceId, line);
      if (plan?.createdEstimated) report.createdAtImport++;
      if (plan?.converted) report.converted++;
      if (errors.length > 0) invalidLines.push({ line, sourceId, reasons: errors.map((e) => e.message) });
    }
    // Maven's corrected product names, one warning each with its count (after every record is read).
    prep.maven?.corrections().forEach(note);
    const dups = await seen.duplicates(10_000);
    duplicates = new Set(dups.map((d) => d.sourceId));
    for (const d of dups)
      for (const line of d.lines) {
        const others = d.lines.filter((l) => l !== line).join(', ');
        note({
          file: prep.label,
          line,
          column: prep.mapping.columns.id ?? null,
          message: `duplicate record id "${d.sourceId}" (also on line ${others})`,
          severity: 'error',
        });
        invalidLines.push({ line, sourceId: d.sourceId, reasons: ['duplicate record id'] });
      }
  });
  // Duplicates are found at the end: list the data file's problems in line order.
  const data = report.problems.filter((p) => p.file === prep.label).sort((a, b) => a.line - b.line);
  report.problems = [...report.problems.filter((p) => p.file !== prep.label), ...data];
  const byLine = new Map<number, { line: number; sourceId: string | null; reasons: string[] }>();
  for (const l of invalidLines) {
    const seenLine = byLine.get(l.line);
    if (seenLine) seenLine.reasons.push(...l.reasons);
    else byLine.set(l.line, { ...l, reasons: [...l.reasons] });
  }
  report.invalid = byLine.size;
  report.valid = report.records - report.invalid;
  if (opts.skipInvalid) report.skipped = [...byLine.values()].sort((a, b) => a.line - b.line);
  return { duplicates, evidence };
}

/** The run this import writes: the file's interrupted run resumed, or a new one; refused while another is live. */
async function claimImport(
  store: Store,
  prep: Prepared,
  opts: ImportOptions,
  rates: Rates,
): Promise<{ lease: RunLease; resumed: ImportRun | null }> {
  const claim = await claimRun(store, {
    id: randomUUID(),
    format: opts.format,
    source: prep.mapping.source,
    path: prep.dataFile,
    checksum: await importFingerprint(prep, opts, rates),
    status: 'writing',
    options: JSON.stringify({ skipInvalid: opts.skipInvalid }),
    started_at: opts.now,
    finished_at: null,
    rows_read: 0,
    rows_written: 0,
    rows_skipped: 0,
    checkpoint_line: 0,
    summary: null,
  });
  if ('live' in claim) throw new ImportAlreadyRunning(claim.live, prep.label);
  return claim;
}

/** Renews the run's lease between batches too (a slow batch, automations), until stopped. */
function keepLeased(store: Store, lease: RunLease): () => void {
  let renewing = false;
  const timer = setInterval(() => {
    if (renewing) return;
    renewing = true;
    // A failed renewal is left to the next batch, whose own renewal fails the batch if the run was taken over.
    void withTransaction(store, (tx) => renewLease(store, tx, lease))
      .catch(() => false)
      .finally(() => {
        renewing = false;
      });
  }, LEASE_RENEW_MS);
  timer.unref();
  return () => clearInterval(timer);
}

async function writePass(
  store: Store,
  prep: Prepared,
  opts: ImportOptions,
  dir: ProcessDirectory,
  ctx: PlanContext,
  duplicates: Set<string>,
  report: ImportReport,
  { lease, resumed: unfinished }: { lease: RunLease; resumed: ImportRun | null },
): Promise<void> {
  const runId = lease.runId;
  report.runId = runId;
  report.resumedFromLine = unfinished ? unfinished.checkpoint_line : null;
  const progress = {
    checkpointLine: unfinished?.checkpoint_line ?? 0,
    read: 0,
    written: unfinished?.rows_written ?? 0,
    skipped: 0,
  };
  const rowCtx = { source: prep.mapping.source, file: prep.label, now: opts.now, actor: opts.actor };

  const maven = prep.maven;
  if (maven) await withTransaction(store, (tx) => writeMavenCatalog(tx, maven, opts.now));

  let batch: { row: RecordRow; plan: PlannedLead }[] = [];
  let lastLine = progress.checkpointLine;
  const engine = new Engine(store);
  const flush = async (): Promise<void> => {
    const planned = batch;
    batch = [];
    const done = await withTransaction(store, async (tx) => {
      const rows = (await keepingFirstCreation(tx, prep, planned, dir, ctx)).map((p) => importedRows(p, rowCtx));
      const written = await writeImportBatch(store, tx, rows);
      await writeOptOutTurns(
        tx,
        importedOptOuts(rows, new Set(written.kept), `import ${prep.mapping.source}`, opts.now),
      );
      // In the batch's transaction, so the checkpoint covers it: a run stopped before the commit
      // (a kill, a crash, an engine error) redoes the batch with its activation when resumed.
      const activated = opts.automations ? await activate(engine, tx, rows, new Set(written.kept), opts.now) : 0;
      const saved = { ...progress, checkpointLine: lastLine, written: progress.written + written.written };
      await advanceRun(store, tx, lease, saved);
      return { written, activated };
    });
    progress.checkpointLine = lastLine;
    // Counted once committed: a batch rolled back is written again, and counted then, on resume.
    report.kept += done.written.kept.length;
    report.updated += done.written.replaced;
    report.created += done.written.written - done.written.replaced;
    report.activated += done.activated;
    progress.written += done.written.written;
  };
  const zone = dir.process.organisation.timezone;
  const stopRenewing = keepLeased(store, lease);
  try {
    for await (const row of records(prep, zone, 'writing', opts)) {
      if (opts.signal?.aborted) throw new Error('interrupted');
      const line = row.line;
      progress.read++;
      if (line <= progress.checkpointLine) continue; // committed by the interrupted run
      const { plan } = planRecord(prep, row, dir, ctx);
      lastLine = line;
      if (!plan || duplicates.has(plan.sourceId)) {
        progress.skipped++;
        continue;
      }
      batch.push({ row, plan });
      if (batch.length >= (opts.batchSize ?? 5000)) {
        await flush();
        // Records from the parser's buffer and SQLite's synchronous batches never wait for I/O, so
        // without this turn a Ctrl-C would be handled only batches later, when the file is read on.
        await nextTurn();
      }
    }
    await flush();
  } catch (e) {
    throw new ImportInterrupted(runId, progress.checkpointLine, progress.written, e);
  } finally {
    stopRenewing();
  }
  report.written = progress.written;
  await withTransaction(store, async (tx) => {
    await recountOpenLeads(tx);
    const summary = {
      written: report.written,
      kept: report.kept,
      skipped: report.skipped.length,
      records: report.records,
    };
    await finishRun(tx, runId, opts.now, summary);
    await appendAudit(
      tx,
      {
        actor: opts.actor.id ?? opts.actor.kind,
        action: 'import',
        target: `${opts.format}:${basename(prep.dataFile)}`,
        details: { run: runId, format: opts.format, file: prep.dataFile, ...summary },
      },
      opts.now,
    );
  });
}

/**
 * The batch's plans, those of undated records already imported re-planned with their stored
 * created_at: the file has no date for them, so the first import's time is their creation, and a
 * re-run of the same file leaves them as they were.
 */
async function keepingFirstCreation(
  tx: Tx,
  prep: Prepared,
  batch: readonly { row: RecordRow; plan: PlannedLead }[],
  dir: ProcessDirectory,
  ctx: PlanContext,
): Promise<PlannedLead[]> {
  const undated = batch.filter((b) => b.plan.createdEstimated).map((b) => b.plan.id);
  const stored = undated.length > 0 ? await storedCreatedAt(tx, undated) : new Map<string, number>();
  return batch.map(({ row, plan }) => {
    const first = plan.createdEstimated ? stored.get(plan.id) : undefined;
    if (first === undefined || first === plan.state.createdAt) return plan;
    return planRecord(prep, row, dir, { ...ctx, undatedCreatedAt: first }).plan ?? plan;
  });
}

/**
 * The batch's open leads go live through the engine, in the batch's transaction (a few hundred
 * events per engine call); returns how many did. A refused activation writes nothing and leaves
 * the others alone.
 */
async function activate(
  engine: Engine,
  tx: Tx,
  rows: readonly ImportedLeadRows[],
  kept: ReadonlySet<string>,
  at: number,
): Promise<number> {
  let activated = 0;
  const events = rows
    .filter((r) => r.lead.status === 'open' && !kept.has(r.lead.id))
    .map((r) => ({
      event: { type: 'lead.activated' as const, lead: r.lead.id, actor: { kind: 'import' as const } },
      at,
    }));
  for (let i = 0; i < events.length; i += 256) {
    const outcomes = await engine.handleWithin(tx, events.slice(i, i + 256));
    activated += outcomes.filter((o) => o.ok).length;
  }
  return activated;
}

async function writeMavenCatalog(tx: Tx, maven: MavenSideFiles, now: number): Promise<void> {
  await upsertProducts(
    tx,
    maven.products.map((p) => ({
      name: p.name,
      series: p.series,
      list_price_minor: p.listPriceMinor,
      import_source: 'maven',
      updated_at: now,
    })),
  );
  await upsertAccounts(
    tx,
    maven.accounts.map((a) => ({
      id: `maven:${a.name}`,
      name: a.name,
      sector: a.sector,
      year_established: a.yearEstablished,
      revenue_minor: a.revenueMinor,
      employees: a.employees,
      location: a.location,
      parent: a.parent,
      import_source: 'maven',
      updated_at: now,
    })),
  );
}

/**
 * What an interrupted run is recognised by, whatever the file's name or folder (an upload's
 * temporary path, a file moved or renamed): the SHA-256 of its bytes and size, with the format,
 * the mapping, the worksheet and the exchange rates, since each of these changes what the lines
 * become. A changed file is a new import (and re-importing is idempotent by record id anyway).
 */
async function importFingerprint(prep: Prepared, opts: ImportOptions, rates: Rates): Promise<string> {
  const content = createHash('sha256');
  for await (const chunk of createReadStream(prep.dataFile)) content.update(chunk as Buffer);
  const what = {
    content: content.digest('hex'),
    size: statSync(prep.dataFile).size,
    format: opts.format,
    mapping: prep.mapping,
    sheet: opts.sheet ?? null,
    encoding: prep.encoding,
    rates: [...rates].sort(([a], [b]) => a.localeCompare(b)),
  };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}
