import type { Command } from 'commander';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { isPostgresUrl } from '../store/db.js';
import { contextOf, withStore, type Context } from './context.js';
import { CliError } from './errors.js';
import { print, printJson } from './output.js';

/**
 * `stageflow backup FILE`: a consistent copy of a live SQLite database. A plain file copy misses
 * every commit still in the write-ahead log (`-wal`), which the server keeps open; SQLite's online
 * backup copies the database as one transaction sees it, while others go on writing.
 */

export function backupCommand(program: Command): void {
  program
    .command('backup')
    .description('copy a live SQLite database to FILE, consistently (PostgreSQL: use pg_dump)')
    .argument('<file>', 'the new backup file (must not exist)')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const target = resolve(file);
      refuseUnsuitable(ctx, target);
      // Not migrated: a backup taken before an upgrade must hold the database as it was.
      await withStore(
        ctx,
        async (store) => {
          if (!store.sqlite) throw new CliError('backup copies a SQLite database');
          const source = resolve(store.location);
          if (source === target) throw new CliError(`${file} is the database itself: give another file`);
          const bytes = await backupTo(store.sqlite, target);
          if (ctx.json) return printJson({ database: store.location, backup: target, bytes });
          print(`backed up ${store.location} to ${target} (${megabytes(bytes)})`);
        },
        false,
      );
    });
}

function refuseUnsuitable(ctx: Context, target: string): void {
  if (isPostgresUrl(ctx.dbUrl()))
    throw new CliError(
      'backup copies a SQLite database; for PostgreSQL use pg_dump (pg_dump --format=custom --file=FILE "$DATABASE_URL", restored with pg_restore)',
    );
  if (existsSync(target)) throw new CliError(`${target} already exists: give a new file name (nothing was written)`);
  if (!existsSync(dirname(target))) throw new CliError(`no folder ${dirname(target)} for the backup ${target}`);
}

/**
 * Copies through a temporary file renamed at the end, so a backup that fails (a full disk, Ctrl-C)
 * never leaves a half-written file under the name given; the copy is checked before it is named.
 */
async function backupTo(source: SqliteDatabase.Database, target: string): Promise<number> {
  const partial = join(dirname(target), `.${process.pid}-${Date.now()}.stageflow-backup`);
  try {
    // All pages in one step, one read transaction: copied in small steps, as by default, the backup
    // starts over whenever another connection writes in between, and a busy server never lets it end.
    await source.backup(partial, { progress: () => 0x7fffffff });
    const copy = new SqliteDatabase(partial);
    try {
      // One self-contained file (no -wal beside it to lose when it is moved); serve sets WAL again.
      copy.pragma('journal_mode = DELETE');
      const check = copy.pragma('quick_check', { simple: true });
      if (check !== 'ok') throw new CliError(`the copy of the database failed its check (${String(check)}): not kept`);
    } finally {
      copy.close();
    }
    renameSync(partial, target);
    return statSync(target).size;
  } finally {
    rmSync(partial, { force: true });
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / 1_048_576).toFixed(1)} MB`;
}
