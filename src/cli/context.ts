import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configValue } from '../config.js';
import type { Actor } from '../domain/events.js';
import { DatabaseUnavailable, isPostgresUrl, openStore, type Store } from '../store/db.js';
import { findMember, memberCount } from '../store/members.js';
import { latestProcess } from '../store/processes.js';
import { CliError } from './errors.js';
import { parseTime } from './parse.js';

/** What every command gets from the global options: the database, the clock and who is acting. */

export interface GlobalOptions {
  db?: string;
  debug?: boolean;
  now?: string;
  as?: string;
  admin?: boolean;
  json?: boolean;
}

export interface Context {
  /** --db, else DATABASE_URL; read only when a command needs the database. */
  dbUrl: () => string;
  now: number;
  actor: Actor;
  json: boolean;
  /** The subcommand path, e.g. "lead show": whether it may create a missing database. */
  command: string;
}

/**
 * The commands whose job is to set a database up: they may create a SQLite file that does not
 * exist yet. Every other command reads or changes data that must already be there, so a mistyped
 * path is refused rather than answered from a new, empty file (`simulate` never opens --db).
 */
const MAY_CREATE_DATABASE = ['migrate', 'serve', 'demo', 'import', 'process apply'];

function mayCreateDatabase(command: string): boolean {
  return MAY_CREATE_DATABASE.some((c) => command === c || command.startsWith(`${c} `));
}

/** Refuses a SQLite file that does not exist, before anything (a folder, an empty file) is made. */
export function requireExistingDatabase(url: string): void {
  if (isPostgresUrl(url) || url === ':memory:' || existsSync(url)) return;
  throw new CliError(`no database at ${url}; run "stageflow migrate" to create one`);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function contextOf(cmd: Command): Context {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const now = g.now === undefined ? Date.now() : parseTime(g.now, '--now');
  const actor: Actor = g.admin
    ? { kind: 'admin', ...(g.as ? { id: g.as } : {}) }
    : { kind: 'user', ...(g.as ? { id: g.as } : {}) };
  return {
    dbUrl: () => g.db ?? configValue('DATABASE_URL'),
    now,
    actor,
    json: g.json === true,
    command: commandPath(cmd),
  };
}

/** Opens the store (which migrates it), runs `fn`, and always closes it, so no command leaves a pool open. */
export async function withStore<T>(ctx: Context, fn: (store: Store) => Promise<T>, migrate = true): Promise<T> {
  const url = ctx.dbUrl();
  if (!mayCreateDatabase(ctx.command)) requireExistingDatabase(url);
  let store: Store;
  try {
    store = await openStore(url, { migrate });
  } catch (e) {
    if (e instanceof DatabaseUnavailable) throw new CliError(e.message, 1);
    const shown = url.replace(/\/\/[^@/]*@/, '//***@');
    throw new CliError(`cannot open database ${shown}: ${(e as Error).message}`, 1);
  }
  try {
    await checkActor(store, ctx.actor.id);
    return await fn(store);
  } finally {
    await store.close();
  }
}

/**
 * `--as` names who did it, and an admin override is recorded under that name: it must be someone
 * the process or the accounts know (once either exists), or a typo would make the record useless.
 */
async function checkActor(store: Store, id: string | undefined): Promise<void> {
  if (id === undefined) return;
  const process = (await latestProcess(store.db))?.process;
  if (process?.users.some((u) => u.id === id) || (await findMember(store.db, id))) return;
  if (process || (await memberCount(store.db)) > 0)
    throw new CliError(`--as "${id}": no user of the process and no account has this id`);
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`${path}: no such file`);
    if (code === 'EISDIR') throw new CliError(`${path}: is a directory, expected a file`);
    throw new CliError(`${path}: ${(e as Error).message}`);
  }
}

/** Times are shown in the organisation's zone; before any process exists, UTC. */
export async function displayZone(store: Store): Promise<string> {
  return (await latestProcess(store.db))?.process.organisation.timezone ?? 'UTC';
}
