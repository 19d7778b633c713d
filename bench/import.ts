/**
 * Import throughput benchmark (not a test; `npx tsx bench/import.ts`, see bench/README.md).
 *
 * A generated Pipedrive deals export of --rows records (default 1,000,000) is imported with
 * `runImport` (both passes: the check of every record, then the checkpointed batched writes) into
 * a SQLite file and into PostgreSQL. In the same run a baseline writes the same rows (copied out of
 * the imported database: leads, rebuilt stays, import events, owner rows) into a fresh database of
 * the same kind with plain INSERTs, in as many transactions as the import committed.
 * ratio = baseline seconds / import seconds. Resident memory is sampled every 10% of the write
 * pass: flat samples mean memory does not grow with the file.
 *
 * With --db both each database runs in a child process of its own, so peak RSS is per database.
 */
import { sql } from 'kysely';
import { fork } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { applyProcess } from '../src/engine/process-service.js';
import { runImport } from '../src/import/import-service.js';
import { openStore, withTransaction, type DialectName, type Store } from '../src/store/db.js';
import type { Database } from '../src/store/schema.js';
import { currentRssMiB, machineLine, peakRssMiB, removeDir, startPostgres, tempDir } from './support.js';

interface Options {
  rows: number;
  db: DialectName | 'both';
  batch: number;
  baseline: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = {
    rows: Number(process.env['BENCH_ROWS'] ?? 1_000_000),
    db: (process.env['BENCH_DB'] as Options['db'] | undefined) ?? 'both',
    batch: Number(process.env['BENCH_BATCH'] ?? 5000),
    baseline: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rows') o.rows = Number(next());
    else if (a === '--db') o.db = next() as Options['db'];
    else if (a === '--batch') o.batch = Number(next());
    else if (a === '--no-baseline') o.baseline = false;
    else throw new Error(`unknown option ${a} (see bench/README.md)`);
  }
  for (const [k, v] of [
    ['--rows', o.rows],
    ['--batch', o.batch],
  ] as const)
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${k} must be a positive integer`);
  if (!['sqlite', 'postgres', 'both'].includes(o.db)) throw new Error('--db must be sqlite, postgres or both');
  return o;
}

// ---------------------------------------------------------------------------------------------
// The generated export: deals of bench/engine.process.yaml's pipeline, in Pipedrive's columns.

const STAGES = ['Qualify', 'Discovery', 'Demo', 'Proposal', 'Negotiation', 'Contract'];
const OWNERS = ['Anna Berg', 'Ben Okafor', 'Carla Diaz'];
const HEADER = [
  'Deal - ID',
  'Deal - Title',
  'Deal - Value',
  'Deal - Stage',
  'Deal - Owner',
  'Deal - Status',
  'Deal - Deal created',
  'Deal - Won time',
  'Deal - Lost time',
  'Deal - Lost reason',
  'Deal - Last stage change',
  'Organization - Name',
  'Person - Email',
];

function stamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A deterministic mix: 40% open across the stages, 35% won, 25% lost, over two years. */
async function generateCsv(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = (line: string): Promise<void> =>
    out.write(line) ? Promise.resolve() : new Promise((resolve) => out.once('drain', () => resolve()));
  await write(`${HEADER.join(',')}\n`);
  const start = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= rows; i++) {
    const h = (i * 2654435761) >>> 0;
    const created = start + (h % 700) * 86_400_000 + (h % 86_400) * 1000;
    const kind = h % 20;
    const status = kind < 8 ? 'open' : kind < 15 ? 'won' : 'lost';
    const stage = STAGES[status === 'won' ? 5 : h % 6] as string;
    const moved = created + ((h >>> 8) % 40) * 86_400_000;
    const closed = moved + ((h >>> 4) % 30) * 86_400_000 + 3_600_000;
    const value = ((h >>> 3) % 50_000) + 500;
    await write(
      [
        i,
        `"Deal ${i}, Northwind"`,
        `${value}.${h % 100}`,
        stage,
        OWNERS[h % 3],
        status,
        stamp(created),
        status === 'won' ? stamp(closed) : '',
        status === 'lost' ? stamp(closed) : '',
        status === 'lost' ? 'No budget' : '',
        stage === 'Qualify' ? '' : stamp(moved),
        `Company ${h % 5000}`,
        `buyer${i}@example.com`,
      ].join(',') + '\n',
    );
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

// ---------------------------------------------------------------------------------------------
// The baseline: the imported rows, copied out and written again with plain INSERTs.

const TABLES = ['leads', 'stage_stays', 'events', 'owner_history'] as const;
type Table = (typeof TABLES)[number];

async function readChunk(store: Store, after: string, limit: number): Promise<Record<Table, object[]>> {
  const leads = await store.db
    .selectFrom('leads')
    .selectAll()
    .where('id', '>', after)
    .orderBy('id')
    .limit(limit)
    .execute();
  const ids = leads.map((l) => l.id);
  const out: Record<Table, object[]> = { leads, stage_stays: [], events: [], owner_history: [] };
  if (ids.length === 0) return out;
  const last = ids.at(-1) as string;
  const first = ids[0] as string;
  for (const t of ['stage_stays', 'events', 'owner_history'] as const)
    out[t] = await store.db
      .selectFrom(t)
      .selectAll()
      .where('lead_id', '>=', first)
      .where('lead_id', '<=', last)
      .execute();
  return out;
}

/** SQLite: one prepared INSERT per row (its plain fastest way); PostgreSQL: multi-row INSERTs. */
async function insertPlain(target: Store, chunk: Record<Table, object[]>): Promise<void> {
  await withTransaction(target, async (tx) => {
    for (const t of TABLES) {
      const rows = chunk[t];
      if (rows.length === 0) continue;
      const raw = target.sqlite;
      if (raw) {
        const cols = Object.keys(rows[0] as object);
        const stmt = raw.prepare(
          `insert into ${t} (${cols.join(', ')}) values (${cols.map((c) => `@${c}`).join(', ')})`,
        );
        for (const r of rows) stmt.run(r);
        continue;
      }
      const per = Math.floor(30_000 / Object.keys(rows[0] as object).length);
      for (let i = 0; i < rows.length; i += per)
        await tx
          .insertInto(t)
          .values(rows.slice(i, i + per) as never) // rows read from the same table's select
          .execute();
    }
  });
}

async function runBaseline(source: Store, target: Store, batch: number): Promise<number> {
  // The process version the leads reference.
  const versions = await source.db.selectFrom('process_versions').selectAll().execute();
  await target.db.insertInto('process_versions').values(versions).execute();
  let after = '';
  let seconds = 0;
  for (;;) {
    const chunk = await readChunk(source, after, batch);
    if (chunk.leads.length === 0) break;
    after = (chunk.leads.at(-1) as Database['leads']).id as string;
    const t0 = performance.now();
    await insertPlain(target, chunk);
    seconds += (performance.now() - t0) / 1000;
  }
  return seconds;
}

// ---------------------------------------------------------------------------------------------

interface Result {
  dialect: DialectName;
  rows: number;
  fileMiB: number;
  seconds: number;
  checkSeconds: number;
  written: number;
  dbRows: number;
  baselineSeconds: number | null;
  rssSamples: number[];
  peakRss: number;
}

async function countRows(store: Store): Promise<number> {
  let n = 0;
  for (const t of TABLES) {
    const r = await store.db
      .selectFrom(t)
      .select(sql<number>`count(*)`.as('n'))
      .executeTakeFirstOrThrow();
    n += Number(r.n);
  }
  return n;
}

async function runOn(dialect: DialectName, o: Options): Promise<Result> {
  const dir = tempDir('stageflow-bench-import-');
  const csv = join(dir, 'deals.csv');
  log(`${dialect}: generating ${o.rows.toLocaleString('en')} rows`);
  await generateCsv(csv, o.rows);
  const pg = dialect === 'postgres' ? await startPostgres(['bench_import', 'bench_baseline']) : null;
  const urls = pg
    ? { main: pg.url('bench_import'), baseline: pg.url('bench_baseline') }
    : { main: join(dir, 'import.db'), baseline: join(dir, 'baseline.db') };
  try {
    const store = await openStore(urls.main);
    // After the last generated date (a close about 70 days past the last creation, early Feb 2026):
    // an import refuses a date that already happened but lies after its current time.
    const now = Date.UTC(2026, 3, 1);
    await applyProcess(store, readFileSync(new URL('./engine.process.yaml', import.meta.url), 'utf8'), now, 'bench');
    const rssSamples: number[] = [];
    let nextSample = 0.1;
    let checkEnd = 0;
    log(`${dialect}: importing`);
    const t0 = performance.now();
    const report = await runImport(store, {
      format: 'pipedrive',
      path: csv,
      dryRun: false,
      skipInvalid: false,
      batchSize: o.batch,
      now,
      actor: { kind: 'import', id: 'bench' },
      onProgress: (p) => {
        if (p.phase === 'writing' && checkEnd === 0) checkEnd = performance.now();
        if (p.phase !== 'writing') return;
        if (p.bytesRead / p.totalBytes >= nextSample) {
          rssSamples.push(currentRssMiB());
          nextSample += 0.1;
        }
      },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (report.outcome !== 'imported' || report.written !== o.rows)
      throw new Error(
        `import did not write every row: ${JSON.stringify({ ...report, problems: report.problems.slice(0, 5) })}`,
      );
    const dbRows = await countRows(store);
    let baselineSeconds: number | null = null;
    if (o.baseline) {
      log(`${dialect}: baseline`);
      const target = await openStore(urls.baseline);
      baselineSeconds = await runBaseline(store, target, o.batch);
      await target.close();
    }
    await store.close();
    return {
      dialect,
      rows: o.rows,
      fileMiB: statSync(csv).size / (1024 * 1024),
      seconds,
      checkSeconds: (checkEnd - t0) / 1000,
      written: report.written,
      dbRows,
      baselineSeconds,
      rssSamples,
      peakRss: peakRssMiB(),
    };
  } finally {
    await pg?.stop();
    removeDir(dir);
  }
}

function log(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function report(r: Result): string {
  const rate = r.rows / r.seconds;
  const lines = [
    `${r.dialect}: ${r.rows.toLocaleString('en')} CSV rows (${r.fileMiB.toFixed(0)} MiB), batch ${r.rows >= 1 ? '' : ''}of leads per transaction as --batch`,
    `  import       ${r.seconds.toFixed(1)} s = ${Math.round(rate).toLocaleString('en')} rows/s (check pass ${r.checkSeconds.toFixed(1)} s, write pass ${(r.seconds - r.checkSeconds).toFixed(1)} s); ${r.dbRows.toLocaleString('en')} database rows`,
  ];
  if (r.baselineSeconds !== null)
    lines.push(
      `  baseline     ${r.baselineSeconds.toFixed(1)} s for the same ${r.dbRows.toLocaleString('en')} rows = ${Math.round(r.dbRows / r.baselineSeconds).toLocaleString('en')} rows/s`,
      `  ratio        ${(r.baselineSeconds / r.seconds).toFixed(3)} (baseline seconds / import seconds; target >= 0.3)`,
    );
  lines.push(
    `  memory       RSS every 10% of the write pass: ${r.rssSamples.map((s) => s.toFixed(0)).join(' ')} MiB; peak ${r.peakRss.toFixed(0)} MiB`,
  );
  if (r.dialect === 'sqlite')
    lines.push(`  target       >= 50,000 rows/s into SQLite: ${rate >= 50_000 ? 'met' : 'NOT met'}`);
  return lines.join('\n');
}

function runChild(db: DialectName, o: Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(
      fileURLToPath(import.meta.url),
      ['--db', db, '--rows', String(o.rows), '--batch', String(o.batch), ...(o.baseline ? [] : ['--no-baseline'])],
      {
        env: { ...process.env, BENCH_CHILD: '1' },
        execArgv: process.execArgv,
      },
    );
    child.on('message', (m) => resolve(m as Result));
    child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`${db} run exited with ${code}`))));
  });
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (process.env['BENCH_CHILD'] === '1') {
    const r = await runOn(o.db as DialectName, o);
    process.send?.(r);
    return;
  }
  console.log(`bench/import: ${cpus().length} cores, Node ${process.version}, ${machineLine()}`);
  console.log(`rows ${o.rows.toLocaleString('en')}, batch ${o.batch} records per transaction`);
  const dialects: DialectName[] = o.db === 'both' ? ['sqlite', 'postgres'] : [o.db];
  for (const d of dialects) {
    const r = o.db === 'both' ? await runChild(d, o) : await runOn(d, o);
    console.log(report(r));
  }
  console.log(`end: ${machineLine()}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
