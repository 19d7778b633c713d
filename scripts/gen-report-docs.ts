/**
 * Rewrites the examples in docs/reports.md from real runs of the CLI on the demo database, so the
 * documentation shows what `stageflow report` prints today and cannot drift from it:
 *
 *   npx tsx scripts/gen-report-docs.ts            # makes the demo database (about a minute), then the examples
 *   npx tsx scripts/gen-report-docs.ts --db FILE  # reuses a demo database made by the command below
 *
 * The demo is deterministic given its seed and clock, so it is made with a fixed `--now`
 * (DEMO_COMMAND), and every example passes `--now` too: a report that depends on "now" (the
 * default period, coaching's window, the forecast) prints the same on every run.
 *
 * An example is a block between markers, whose opening marker holds the command's arguments:
 *
 *   <!-- example: --now 2026-11-28T12:00:00Z report win-rate --by team -->
 *
 *   ```
 *   (rewritten: `$ stageflow ARGS`, then what the command printed)
 *   ```
 *
 *   <!-- /example -->
 *
 * `<!-- example lines=N: ARGS -->` keeps the first N lines of the output and ends with `…`, for a
 * long listing. Arguments are split on spaces (none of the examples needs quoting).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const DOC = join(ROOT, 'docs', 'reports.md');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const CLI = join(ROOT, 'src', 'cli', 'main.ts');

/** How the demo database behind the examples is made (docs/reports.md names it too). */
export const DEMO_COMMAND = ['--now', '2026-11-28T12:00:00Z', 'demo', '--seed', '1'] as const;

// Prettier (which formats the docs) puts a blank line between a comment and a fence; either way reads.
const EXAMPLE = /^<!-- example(?: lines=(\d+))?: (.+?) -->\n\n?```\n[\s\S]*?^```\n\n?<!-- \/example -->$/gm;

/** Runs the CLI on the database and returns what it printed; a failure names the command. */
function stageflow(db: string, args: readonly string[]): string {
  try {
    return execFileSync(TSX, [CLI, '--db', db, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      // The examples show the CLI's own defaults, not this machine's settings.
      env: { ...process.env, DATABASE_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`stageflow ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`, { cause: e });
  }
}

/** The example block for one command: the prompt line and the output, cut to `lines` if given. */
export function exampleBlock(args: string, output: string, lines: number | null): string {
  // Trailing spaces trimmed, as Prettier (which formats the docs) does inside fences too.
  let out = output
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => l.trimEnd());
  if (lines !== null && out.length > lines) out = [...out.slice(0, lines), '…'];
  const marker = `<!-- example${lines === null ? '' : ` lines=${lines}`}: ${args} -->`;
  return `${marker}\n\n\`\`\`\n$ stageflow ${args}\n${out.join('\n')}\n\`\`\`\n\n<!-- /example -->`;
}

/** The document with every example block rewritten by `run` (args to output). */
export function rewriteExamples(doc: string, run: (args: string[]) => string): { text: string; count: number } {
  let count = 0;
  const text = doc.replace(EXAMPLE, (_block, lines: string | undefined, args: string) => {
    count++;
    return exampleBlock(args, run(args.trim().split(/\s+/)), lines === undefined ? null : Number(lines));
  });
  return { text, count };
}

function main(): void {
  const given = process.argv.indexOf('--db');
  let db: string;
  let scratch: string | null = null;
  if (given >= 0) {
    const path = process.argv[given + 1];
    if (path === undefined || !existsSync(path))
      throw new Error(`--db needs an existing demo database, made with: stageflow --db FILE ${DEMO_COMMAND.join(' ')}`);
    db = path;
  } else {
    scratch = mkdtempSync(join(tmpdir(), 'stageflow-report-docs-'));
    db = join(scratch, 'demo.db');
    process.stdout.write(`making the demo database: stageflow ${DEMO_COMMAND.join(' ')}\n`);
    stageflow(db, DEMO_COMMAND);
  }
  try {
    const { text, count } = rewriteExamples(readFileSync(DOC, 'utf8'), (args) => {
      process.stdout.write(`  stageflow ${args.join(' ')}\n`);
      return stageflow(db, args);
    });
    if (count === 0) throw new Error(`no <!-- example: … --> block found in ${DOC}`);
    writeFileSync(DOC, text);
    process.stdout.write(`rewrote ${count} examples in ${DOC}\n`);
  } finally {
    if (scratch !== null) rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) main();
