/**
 * Report benchmark (not a test; `npx tsx bench/reports.ts`, see bench/README.md).
 *
 * A seeded generator (bench/reports-data.ts) makes --leads leads (default 1,000,000) with their
 * stage stays, tasks, activities, owner and expected_close history, quotas and forecast snapshots,
 * for 200 reps in 20 teams over three years, and writes them straight into a SQLite file (prepared
 * statements on the raw connection, one transaction per chunk), into PostgreSQL (COPY, one
 * transaction per chunk) and into DuckDB (its Appender). Then every report runs through the same
 * `runReport` on each engine; DuckDB (through bench/duckdb-dialect.ts) is the reference for the
 * time and for the figures. Each engine runs in a child process of its own, so peak RSS is per
 * engine, and the children regenerate the same rows from the seed.
 */
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadProcessText } from '../src/engine/process-service.js';
import { runReport, type ReportOutput, type ReportRequest } from '../src/reports/run-report.js';
import { openStore, withTransaction, type Store } from '../src/store/db.js';
import { insertProcessVersion } from '../src/store/processes.js';
import { openDuckStore, type DuckStore } from './duckdb-dialect.js';
import {
  COLUMNS,
  generate,
  NOW,
  processDefinition,
  REPS,
  START,
  TABLES,
  TEAMS,
  ZONE,
  type Chunk,
  type Row,
  type Table,
} from './reports-data.js';
import { machineLine, peakRssMiB, removeDir, startPostgres, tempDir } from './support.js';

type Engine = 'duckdb' | 'sqlite' | 'postgres';

interface Options {
  leads: number;
  db: 'sqlite' | 'postgres' | 'both';
  seed: number;
  duckdb: boolean;
  /** Write SQLite's database to this file and keep it, for experiments on the same rows. */
  keep: string | null;
  /** Internal: the engine a child process runs. */
  engine: Engine | null;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    leads: Number(process.env['BENCH_LEADS'] ?? 1_000_000),
    db: (process.env['BENCH_DB'] as Options['db'] | undefined) ?? 'both',
    seed: Number(process.env['BENCH_SEED'] ?? 1),
    duckdb: true,
    keep: process.env['BENCH_KEEP'] ?? null,
    engine: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--leads') o.leads = Number(next());
    else if (a === '--db') o.db = next() as Options['db'];
    else if (a === '--seed') o.seed = Number(next());
    else if (a === '--no-duckdb') o.duckdb = false;
    else if (a === '--keep') o.keep = next();
    else if (a === '--engine') o.engine = next() as Engine;
    else throw new Error(`unknown option ${a} (see bench/README.md)`);
  }
  if (!Number.isInteger(o.leads) || o.leads <= 0) throw new Error('--leads must be a positive integer');
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be an integer');
  if (!['sqlite', 'postgres', 'both'].includes(o.db)) throw new Error('--db must be sqlite, postgres or both');
  return o;
}

// ---------------------------------------------------------------------------------------------
// The reports: every one, with a representative request. "Last quarter" is 2026-Q1, since the
// data's now is 1 April 2026.

interface ReportSpec {
  request: Omit<ReportRequest, 'now'>;
  /** What the request asks, for the table. */
  label: string;
}

const LAST_QUARTER = { from: '2026-01-01', to: '2026-04-01' };
const byOwner = (name: string): ReportSpec => ({
  request: { name, ...LAST_QUARTER, by: 'owner' },
  label: '2026-Q1 by owner',
});

const SPECS: readonly ReportSpec[] = [
  byOwner('adoption'),
  { request: { name: 'funnel', ...LAST_QUARTER, by: 'owner' }, label: '2026-Q1 by owner, new-business' },
  byOwner('flow'),
  byOwner('win-rate'),
  byOwner('deal-size'),
  { request: { name: 'forecast', by: 'owner', options: { period: '2026-Q2' } }, label: '--period 2026-Q2 by owner' },
  { request: { name: 'forecast-accuracy', by: 'month' }, label: '12 months to 2026-03 by month' },
  { request: { name: 'quota', by: 'owner', options: { period: '2026-Q1' } }, label: '--period 2026-Q1 by owner' },
  byOwner('cycle'),
  byOwner('time-in-stage'),
  byOwner('ask-to-decision'),
  byOwner('calibration'),
  byOwner('slippage'),
  { request: { name: 'coaching' }, label: 'manager view, 180 days' },
];

/** A report whose first run took less than this runs a second time; the faster run counts. */
const REPEAT_BELOW_MS = 5000;

// ---------------------------------------------------------------------------------------------
// Writing the rows.

const CHUNK_LEADS = 10_000;

interface Writer {
  write(chunk: Chunk): Promise<void>;
  finish(): Promise<void>;
}

/** SQLite: one prepared INSERT per table on the raw connection, one transaction per chunk. */
function sqliteWriter(store: Store): Writer {
  const raw = store.sqlite;
  if (!raw) throw new Error('not a SQLite store');
  const stmts = new Map(
    TABLES.map((t) => {
      const cols = COLUMNS[t];
      return [t, raw.prepare(`insert into ${t} (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`)];
    }),
  );
  return {
    async write(chunk) {
      await withTransaction(store, async () => {
        for (const t of TABLES) {
          const stmt = stmts.get(t) as Database.Statement;
          for (const row of chunk[t]) stmt.run(row);
        }
      });
    },
    async finish() {},
  };
}

/** COPY's text format: tab-separated, \N for null, backslash escapes. */
function copyText(rows: readonly Row[]): string {
  const out: string[] = [];
  for (const row of rows) {
    const cells = row.map((v) =>
      v === null
        ? '\\N'
        : typeof v === 'number'
          ? String(v)
          : v.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')),
    );
    out.push(cells.join('\t'));
  }
  return out.join('\n') + '\n';
}

/** PostgreSQL: COPY FROM STDIN per table, the chunk in one transaction. */
async function postgresWriter(url: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    async write(chunk) {
      await client.query('begin');
      for (const t of TABLES) {
        if (chunk[t].length === 0) continue;
        const stream = client.query(copyFrom(`copy ${t} (${COLUMNS[t].join(', ')}) from stdin`));
        await pipeline(Readable.from([copyText(chunk[t])]), stream);
      }
      await client.query('commit');
    },
    async finish() {
      await client.end();
    },
  };
}

interface TableInfo {
  name: string;
  columns: { name: string; type: 'text' | 'integer' | 'bigint'; notNull: boolean }[];
}

/** The tables the migrations make, read from a migrated in-memory SQLite database. */
async function migratedSchema(): Promise<TableInfo[]> {
  const store = await openStore(':memory:');
  const raw = store.sqlite as Database.Database;
  const names = raw
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name",
    )
    .pluck()
    .all() as string[];
  const tables = names.map((name) => ({
    name,
    columns: (raw.pragma(`table_info(${name})`) as { name: string; type: string; notnull: number }[]).map((c) => {
      const type = c.type.toLowerCase();
      if (type !== 'text' && type !== 'integer' && type !== 'bigint') throw new Error(`unexpected type ${c.type}`);
      return { name: c.name, type: type as 'text' | 'integer' | 'bigint', notNull: c.notnull === 1 };
    }),
  }));
  await store.close();
  return tables;
}

const DUCK_TYPES = { text: 'varchar', integer: 'integer', bigint: 'bigint' } as const;

/**
 * DuckDB: the migrations' tables and columns with their types and NOT NULLs, without indexes and
 * keys (DuckDB answers these queries by scanning columns, and its ART indexes only slow loading).
 */
async function createDuckTables(store: DuckStore, schema: readonly TableInfo[]): Promise<void> {
  for (const t of schema)
    await store.loader.run(
      `create table "${t.name}" (${t.columns.map((c) => `"${c.name}" ${DUCK_TYPES[c.type]}${c.notNull ? ' not null' : ''}`).join(', ')})`,
    );
}

/** DuckDB: one Appender per table, values in the table's column order. */
async function duckWriter(store: DuckStore, schema: readonly TableInfo[]): Promise<Writer> {
  const appenders = await Promise.all(
    TABLES.map(async (t) => {
      const info = schema.find((s) => s.name === t);
      if (!info) throw new Error(`no table ${t}`);
      const mine: readonly string[] = COLUMNS[t];
      const perm = info.columns.map((c) => ({ at: mine.indexOf(c.name), type: c.type }));
      return { t, perm, appender: await store.loader.createAppender(t) };
    }),
  );
  return {
    async write(chunk) {
      for (const { t, perm, appender } of appenders)
        for (const row of chunk[t]) {
          for (const { at, type } of perm) {
            const v = at < 0 ? null : (row[at] ?? null);
            if (v === null) appender.appendNull();
            else if (type === 'text') appender.appendVarchar(String(v));
            else if (type === 'integer') appender.appendInteger(Number(v));
            else appender.appendBigInt(BigInt(v));
          }
          appender.endRow();
        }
    },
    async finish() {
      for (const { appender } of appenders) appender.closeSync();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One engine, in its own process.

interface ReportTiming {
  name: string;
  ms: number | null;
  runs: number;
  error: string | null;
  output: ReportOutput | null;
}

interface EngineResult {
  engine: Engine;
  rows: Record<Table, number>;
  loadSeconds: number;
  prepareSeconds: number;
  settings: string;
  reports: ReportTiming[];
  peakRss: number;
}

async function runEngine(engine: Engine, o: Options): Promise<EngineResult> {
  const dir = tempDir('stageflow-bench-reports-');
  const server = engine === 'postgres' ? await startPostgres(['bench_reports']) : null;
  let store: Store | null = null;
  try {
    const schema = engine === 'duckdb' ? await migratedSchema() : [];
    let writer: Writer;
    if (engine === 'duckdb') {
      const duck = await openDuckStore(':memory:');
      store = duck;
      await createDuckTables(duck, schema);
      writer = await duckWriter(duck, schema);
    } else if (engine === 'sqlite') {
      if (o.keep !== null && existsSync(o.keep)) throw new Error(`--keep ${o.keep}: the file exists already`);
      store = await openStore(o.keep ?? join(dir, 'reports.db'));
      writer = sqliteWriter(store);
    } else {
      const url = (server as NonNullable<typeof server>).url('bench_reports');
      store = await openStore(url);
      writer = await postgresWriter(url);
    }
    const text = JSON.stringify(processDefinition(o.seed), null, 1);
    await insertProcessVersion(store.db, loadProcessText(text), text, START, 'bench');

    log(`${engine}: writing ${o.leads.toLocaleString('en')} leads and their rows`);
    const rows = Object.fromEntries(TABLES.map((t) => [t, 0])) as Record<Table, number>;
    const t0 = performance.now();
    let done = 0;
    for (const chunk of generate(o.leads, o.seed, CHUNK_LEADS)) {
      await writer.write(chunk);
      for (const t of TABLES) rows[t] += chunk[t].length;
      done += chunk.leads.length;
      if (done % 200_000 < CHUNK_LEADS && chunk.leads.length > 0)
        log(`${engine}: ${done.toLocaleString('en')} leads written`);
    }
    await writer.finish();
    const loadSeconds = (performance.now() - t0) / 1000;

    // After a bulk load PostgreSQL's autovacuum would vacuum and analyze these tables on its own,
    // possibly while a report is timed: do it now instead.
    const t1 = performance.now();
    if (engine === 'postgres') await sql`vacuum analyze`.execute(store.db);
    const prepareSeconds = (performance.now() - t1) / 1000;
    const settings = await settingsOf(engine, store);

    const reports: ReportTiming[] = [];
    for (const spec of SPECS) {
      log(`${engine}: ${spec.request.name}`);
      const run = async (): Promise<{ ms: number; output: ReportOutput }> => {
        const s = performance.now();
        const output = await runReport(store as Store, { ...spec.request, now: NOW });
        return { ms: performance.now() - s, output };
      };
      try {
        const first = await run();
        let ms = first.ms;
        let runs = 1;
        if (first.ms < REPEAT_BELOW_MS) {
          ms = Math.min(ms, (await run()).ms);
          runs = 2;
        }
        reports.push({ name: spec.request.name, ms, runs, error: null, output: first.output });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        log(`${engine}: ${spec.request.name} failed: ${message}`);
        reports.push({ name: spec.request.name, ms: null, runs: 1, error: message, output: null });
      }
    }
    return { engine, rows, loadSeconds, prepareSeconds, settings, reports, peakRss: peakRssMiB() };
  } finally {
    await store?.close();
    await server?.stop();
    removeDir(dir);
  }
}

async function settingsOf(engine: Engine, store: Store): Promise<string> {
  if (engine === 'sqlite') {
    const raw = store.sqlite as Database.Database;
    const p = (name: string): string => String(raw.pragma(name, { simple: true }));
    return `journal_mode ${p('journal_mode')}, synchronous ${p('synchronous')}, cache_size ${p('cache_size')}, no ANALYZE (as shipped)`;
  }
  if (engine === 'postgres') {
    const names = ['server_version', 'shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit', 'fsync'];
    const values: string[] = [];
    for (const n of names) {
      const r = await sql<Record<string, string>>`${sql.raw(`show ${n}`)}`.execute(store.db);
      values.push(`${n} ${Object.values(r.rows[0] ?? {})[0] ?? '?'}`);
    }
    return `${values.join(', ')}; VACUUM ANALYZE after the load`;
  }
  const r = await sql<{ name: string; value: string }>`select name, value from duckdb_settings()
    where name in ('threads', 'memory_limit', 'integer_division') order by name`.execute(store.db);
  const v = await sql<{ v: string }>`select version() as v`.execute(store.db);
  return `${v.rows[0]?.v ?? ''} in memory, ${r.rows.map((x) => `${x.name} ${x.value}`).join(', ')}`;
}

// ---------------------------------------------------------------------------------------------
// Comparing outputs.

/** Numbers agree within this relative tolerance (sums of doubles in another order differ in the last bits). */
const RELATIVE_TOLERANCE = 1e-6;

function numbersAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= RELATIVE_TOLERANCE * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The first difference between two JSON values, as a path and the two values; null if they agree. */
function difference(a: unknown, b: unknown, path: string): string | null {
  if (typeof a === 'number' && typeof b === 'number') return numbersAgree(a, b) ? null : `${path}: ${a} vs ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: ${a.length} vs ${b.length} items`;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const k of keys) {
      if (!(k in ra) || !(k in rb)) return `${path}.${k}: only in ${k in ra ? 'one' : 'the other'}`;
      const d = difference(ra[k], rb[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`;
}

/** Rows in a canonical order (by their text fields), so a collation's different ORDER BY is not a disagreement. */
function canonicalRows(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  const sig = (r: Record<string, unknown>): string =>
    JSON.stringify(Object.entries(r).filter(([, v]) => typeof v === 'string'));
  return [...rows].sort((x, y) => (sig(x) < sig(y) ? -1 : sig(x) > sig(y) ? 1 : 0));
}

interface Agreement {
  agree: boolean;
  /** The rows came in the same order. */
  sameOrder: boolean;
  detail: string | null;
}

function compare(out: ReportOutput, ref: ReportOutput): Agreement {
  const { rows: ra, ...rest } = out;
  const { rows: rb, ...restRef } = ref;
  const d = difference(canonicalRows(ra), canonicalRows(rb), 'rows') ?? difference(rest, restRef, '');
  return { agree: d === null, sameOrder: difference(ra, rb, 'rows') === null, detail: d };
}

// ---------------------------------------------------------------------------------------------
// Printing.

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const pad = (s: string, n: number): string => s.padEnd(n);
const padl = (s: string, n: number): string => s.padStart(n);
const fmtMs = (ms: number | null): string =>
  ms === null ? 'failed' : ms < 10 ? ms.toFixed(1) : Math.round(ms).toLocaleString('en');

function printResults(o: Options, results: EngineResult[]): void {
  const ref = results.find((r) => r.engine === 'duckdb') ?? null;
  const dbs = results.filter((r) => r.engine !== 'duckdb');
  const first = results[0] as EngineResult;
  const n = first.rows;
  console.log(
    `data: ${n.leads.toLocaleString('en')} leads, ${n.stage_stays.toLocaleString('en')} stage stays, ${n.tasks.toLocaleString('en')} tasks, ` +
      `${n.activities.toLocaleString('en')} activities, ${n.owner_history.toLocaleString('en')} owner changes, ` +
      `${n.field_history.toLocaleString('en')} expected_close changes, ${n.quotas.toLocaleString('en')} quotas, ` +
      `${n.forecast_snapshots.toLocaleString('en')} snapshot rows (seed ${o.seed})`,
  );
  console.log(
    `      ${REPS} reps in ${TEAMS} teams, 2 pipelines, created ${new Date(START).toISOString().slice(0, 10)} to ${new Date(NOW).toISOString().slice(0, 10)}; now ${new Date(NOW).toISOString()} (${ZONE})`,
  );
  for (const r of results) {
    const total = Object.values(r.rows).reduce((a, b) => a + b, 0);
    console.log(
      `${pad(r.engine, 9)} load ${r.loadSeconds.toFixed(1)} s (${Math.round(total / r.loadSeconds).toLocaleString('en')} rows/s)` +
        `${r.prepareSeconds > 0.05 ? `, vacuum analyze ${r.prepareSeconds.toFixed(1)} s` : ''}; ${r.settings}`,
    );
  }
  const reference = ref ?? (dbs.length === 2 ? (dbs[0] as EngineResult) : null);
  const compared = ref ? dbs : dbs.slice(1);
  const head = [pad('report', 18), pad('request', 31), padl('rows', 6)];
  if (ref) head.push(padl('duckdb ms', 10));
  for (const d of dbs) {
    head.push(padl(`${d.engine} ms`, d.engine.length + 4));
    if (ref) head.push(padl('x duck', 7));
    if (compared.includes(d)) head.push(pad(' agree', 8));
  }
  console.log('');
  console.log(head.join(' '));
  const details: string[] = [];
  SPECS.forEach((spec, i) => {
    const refTiming = reference?.reports[i] ?? null;
    // Rows of the reference's JSON (else the first engine's): how much each comparison covers.
    const shown = refTiming?.output ?? (results[0] as EngineResult).reports[i]?.output ?? null;
    const cells = [pad(spec.request.name, 18), pad(spec.label, 31), padl(String(shown?.rows.length ?? '-'), 6)];
    if (ref) cells.push(padl(fmtMs(ref.reports[i]?.ms ?? null), 10));
    for (const d of dbs) {
      const t = d.reports[i] as ReportTiming;
      cells.push(padl(fmtMs(t.ms), d.engine.length + 4));
      const refMs = ref?.reports[i]?.ms ?? null;
      if (ref) cells.push(padl(t.ms !== null && refMs !== null && refMs > 0 ? (t.ms / refMs).toFixed(1) : '-', 7));
      if (compared.includes(d)) {
        let mark = ' -';
        if (t.output && refTiming?.output) {
          const a = compare(t.output, refTiming.output);
          mark = a.agree ? (a.sameOrder ? ' yes' : ' yes*') : ' NO';
          if (!a.agree) details.push(`  ${spec.request.name} on ${d.engine}: ${a.detail ?? ''}`);
        }
        cells.push(pad(mark, 8));
      }
      if (t.error) details.push(`  ${spec.request.name} failed on ${d.engine}: ${t.error}`);
    }
    const refError = ref?.reports[i]?.error;
    if (refError) details.push(`  ${spec.request.name} failed on duckdb: ${refError}`);
    console.log(cells.join(' '));
  });
  console.log(
    `ms: wall time of runReport (SQL and post-processing), the faster of two runs (one run when the first took ${REPEAT_BELOW_MS / 1000} s or more)`,
  );
  if (reference)
    console.log(
      `agree: the JSON against ${reference.engine}'s: rows (in a canonical order), summary, notes, from/to; numbers within ${RELATIVE_TOLERANCE} relative; yes* = same rows in another order`,
    );
  if (details.length > 0) console.log(`differences and failures:\n${details.join('\n')}`);

  console.log('targets:');
  for (const d of dbs) {
    const slow = d.reports.filter((r) => r.ms === null || r.ms >= 1000);
    console.log(
      `  ${d.engine} under 1 s: ${d.reports.length - slow.length}/${d.reports.length} met` +
        (slow.length > 0 ? `; not met: ${slow.map((r) => `${r.name} (${fmtMs(r.ms)} ms)`).join(', ')}` : ''),
    );
    if (ref) {
      const far = d.reports
        .map((r, i) => ({ r, refMs: ref.reports[i]?.ms ?? null }))
        .filter(({ r, refMs }) => r.ms === null || refMs === null || r.ms > 5 * refMs);
      const ratio = (ms: number | null, refMs: number | null): string =>
        ms !== null && refMs !== null && refMs > 0 ? `${(ms / refMs).toFixed(1)}x` : 'failed';
      console.log(
        `  ${d.engine} within 5x of DuckDB: ${d.reports.length - far.length}/${d.reports.length} met` +
          (far.length > 0
            ? `; not met: ${far.map(({ r, refMs }) => `${r.name} (${ratio(r.ms, refMs)})`).join(', ')}`
            : ''),
      );
    }
  }
  console.log(
    `peak RSS (the Node process of each engine's run; the PostgreSQL server is a process of its own): ${results.map((r) => `${r.engine} ${Math.round(r.peakRss).toLocaleString('en')} MiB`).join(', ')}`,
  );
}

function runChild(engine: Engine, o: Options): Promise<EngineResult> {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--engine', engine, '--leads', String(o.leads), '--seed', String(o.seed), ...(o.keep ? ['--keep', o.keep] : [])],
      { env: { ...process.env, BENCH_CHILD: '1' }, execArgv: process.execArgv },
    );
    let result: EngineResult | null = null;
    child.on('message', (m) => (result = m as EngineResult));
    child.on('exit', (code) =>
      code === 0 && result ? resolve(result) : reject(new Error(`${engine} run exited with ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.env['BENCH_CHILD'] === '1' && o.engine !== null) {
    const r = await runEngine(o.engine, o);
    log(`${o.engine}: done, sending the results`);
    // Exit once the results are out: the IPC channel would otherwise keep this process alive.
    process.send?.(r, () => process.exit(0));
    return;
  }
  console.log(`bench/reports: ${cpus().length} cores, Node ${process.version}, ${machineLine()}`);
  const engines: Engine[] = [
    ...(o.duckdb ? (['duckdb'] as const) : []),
    ...(o.db === 'both' ? (['sqlite', 'postgres'] as const) : [o.db]),
  ];
  const results: EngineResult[] = [];
  for (const e of engines) results.push(await runChild(e, o));
  printResults(o, results);
  console.log(`end: ${machineLine()}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
