import { Option, type Command } from 'commander';
import { once } from 'node:events';
import { createWriteStream, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  auditExport,
  EXPORT_KINDS,
  exportRows,
  type ExportFilter,
  type ExportKind,
  type ExportRow,
} from '../store/export.js';
import { csvWriter, jsonLinesWriter } from '../store/export-writers.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print } from './output.js';
import { parseTimeFilter } from './parse.js';

/**
 * `stageflow export <leads|stays|tasks|activities>`: a table as JSON lines (exact, for tools) or
 * CSV (for spreadsheets), streamed page by page so a million leads cost no more memory than ten.
 * Every export is recorded in the audit log: what, in which format, how many rows.
 */

const FORMATS = ['jsonl', 'csv'] as const;
/** As the API's `status` filter: anything else would export nothing and look complete. */
const LEAD_STATUSES = ['open', 'won', 'lost'];
type Format = (typeof FORMATS)[number];

interface ExportOptions {
  format: string;
  out?: string;
  pipeline?: string;
  status?: string;
  updatedSince?: string;
}

function parseFormat(raw: string): Format {
  if (!(FORMATS as readonly string[]).includes(raw))
    throw new UsageError(`--format ${JSON.stringify(raw)}: expected ${FORMATS.join(' or ')}`);
  return raw as Format;
}

function parseKind(raw: string): ExportKind {
  if (!(EXPORT_KINDS as readonly string[]).includes(raw))
    throw new UsageError(`export ${JSON.stringify(raw)}: expected one of ${EXPORT_KINDS.join(', ')}`);
  return raw as ExportKind;
}

/** A date alone in --updated-since is the start of that day in the organisation's zone, as in the API. */
function filterOf(opts: ExportOptions, zone: string): ExportFilter {
  return {
    ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
    ...(opts.status !== undefined ? { status: opts.status } : {}),
    ...(opts.updatedSince !== undefined
      ? { updatedSince: parseTimeFilter(opts.updatedSince, '--updated-since', zone) }
      : {}),
  };
}

/**
 * Streams the rows to the file (written beside it, then renamed, so a failed export never leaves a
 * half file under the name asked for) or to stdout, which stays open for whatever prints next. The
 * file is opened before the first row is read: one that cannot be created reads no row, so the
 * audit entry says none left.
 */
async function writeAll(rows: () => Readable, format: Transform, out: string | undefined): Promise<void> {
  if (out === undefined) return pipeline(rows(), format, process.stdout as Writable, { end: false });
  if (statSync(out, { throwIfNoEntry: false })?.isDirectory())
    throw new CliError(`cannot write --out ${out}: it is a folder; give a file name in it`);
  const partial = `${out}.partial`;
  const file = createWriteStream(partial);
  try {
    await once(file, 'open').catch((e: unknown) => {
      throw new CliError(`cannot write --out ${out}: ${whyNotCreated(dirname(out), e as NodeJS.ErrnoException)}`);
    });
    await pipeline(rows(), format, file);
    renameSync(partial, out);
  } catch (e) {
    file.destroy();
    rmSync(partial, { force: true });
    throw e;
  }
}

/** Why the file could not be created, in the user's words: the errno names the `.partial` file they never asked for. */
function whyNotCreated(folder: string, e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ENOENT':
      return `the folder ${folder} does not exist`;
    case 'ENOTDIR':
      return `${folder} is not a folder (a part of the path is a file)`;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `the folder ${folder} cannot be written to (${e.code === 'EROFS' ? 'read-only' : 'permission denied'})`;
    default:
      return e.message;
  }
}

export function exportCommand(program: Command): void {
  program
    .command('export')
    .description('export leads, stage stays, tasks or activities as JSON lines or CSV')
    .argument('<what>', EXPORT_KINDS.join(', '))
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--pipeline <id>', 'only leads in this pipeline (and their stays, tasks, activities)')
    .addOption(new Option('--status <status>', 'only leads with this status').choices(LEAD_STATUSES))
    .option(
      '--updated-since <time>',
      'only leads changed at or after this ISO 8601 time, or the start of this date in the organisation’s zone',
    )
    .action(async (what: string, opts: ExportOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const kind = parseKind(what);
      const format = parseFormat(opts.format);
      await withStore(ctx, async (store) => {
        const filter = filterOf(opts, await displayZone(store));
        let count = 0;
        async function* counted(): AsyncGenerator<ExportRow> {
          for await (const row of exportRows(store.db, kind, filter)) {
            count++;
            yield row;
          }
        }
        const writer = format === 'csv' ? csvWriter(kind) : jsonLinesWriter();
        let complete = false;
        try {
          await writeAll(() => Readable.from(counted()), writer, opts.out);
          complete = true;
        } finally {
          // Recorded even when the export broke off: some rows may have left already.
          const actor = ctx.actor.id ?? 'cli';
          await auditExport(store.db, { actor, kind, format, rows: count, filter, complete }, ctx.now);
        }
        // With --out, stdout is free for a one-line summary; without it, stdout is the data.
        if (opts.out !== undefined) print(`exported ${plural(count, 'row')} of ${kind} to ${opts.out}`);
      });
    });
}
