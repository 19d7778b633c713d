import type { Command } from 'commander';
import { IMPORT_FORMATS, type ImportFormat } from '../import/formats/index.js';
import { ImportInterrupted, ImportRejected, runImport, type ImportReport } from '../import/import-service.js';
import { formatImportProblem } from '../import/record.js';
import { contextOf, readText, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print, printJson } from './output.js';
import { parsePositiveInt } from './parse.js';
import { ProgressLine } from './progress.js';

/** `stageflow import FORMAT PATH`: other CRMs' exports into leads with their stage history. */

interface ImportCliOptions {
  mapping?: string;
  rates?: string;
  sheet?: string;
  dryRun?: boolean;
  skipInvalid?: boolean;
  automations?: boolean;
  batch: string;
  maxProblems: string;
}

export function importCommand(program: Command): void {
  program
    .command('import')
    .description('import an export of another CRM (stage history rebuilt from its dates)')
    .argument('<format>', IMPORT_FORMATS.join(' | '))
    .argument('<path>', 'the CSV file, or an .xlsx workbook (for maven: the folder with its four files)')
    .option('--mapping <file>', 'a mapping file (YAML): required for generic, refines the other formats')
    .option(
      '--rates <file>',
      "exchange rates into the organisation's currency: CSV lines currency,rate (1 unit = rate units), or YAML",
    )
    .option('--sheet <name>', 'the worksheet of an .xlsx workbook to read (default: the first)')
    .option('--dry-run', 'check every record and report the problems; write nothing')
    .option('--skip-invalid', 'import the valid records and list the ones skipped')
    .option('--automations', "take open leads live: their stage's tasks and automations (emails too) run now")
    .option('--batch <n>', 'records per transaction', '5000')
    .option('--max-problems <n>', 'problems listed (all are counted)', '200')
    .addHelpText(
      'after',
      '\nAn .xlsx workbook is read from its first worksheet (or --sheet), its first row the header;\n' +
        'errors name its row numbers.\n' +
        "A value in another currency than the organisation's is converted at its --rates rate (the\n" +
        'original amount and currency are kept on the lead); without a rate, the record is an error.\n' +
        'Nothing is written when a record has an error, unless --skip-invalid. Re-running updates the same\n' +
        "leads (keyed by the export's record id); an interrupted run resumes after its last batch.\n" +
        'Imported leads get no tasks and fire no automations (no email reaches an old lead) unless\n' +
        '--automations, or later `stageflow lead activate ID`.',
    )
    .action(async (format: string, path: string, opts: ImportCliOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (!(IMPORT_FORMATS as readonly string[]).includes(format))
        throw new UsageError(`unknown format "${format}" (expected ${IMPORT_FORMATS.join(', ')})`);
      const batchSize = parsePositiveInt(opts.batch, '--batch');
      const maxProblems = parsePositiveInt(opts.maxProblems, '--max-problems');
      const mapping = opts.mapping ? { text: readText(opts.mapping), label: opts.mapping } : undefined;
      const rates = opts.rates ? { text: readText(opts.rates), label: opts.rates } : undefined;
      const bar = new ProgressLine(!ctx.json && process.stderr.isTTY === true);
      // Ctrl-C stops between records and says what was saved; a second one stops at once.
      const stop = new AbortController();
      const interrupt = (): void => {
        if (stop.signal.aborted) process.exit(130);
        stop.abort();
      };
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      const report = await withStore(ctx, async (store) => {
        try {
          return await runImport(store, {
            format: format as ImportFormat,
            path,
            ...(mapping ? { mapping } : {}),
            ...(rates ? { rates } : {}),
            ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
            dryRun: opts.dryRun === true,
            skipInvalid: opts.skipInvalid === true,
            automations: opts.automations === true,
            batchSize,
            maxProblems,
            now: ctx.now,
            actor: { kind: 'import', ...(ctx.actor.id ? { id: ctx.actor.id } : {}) },
            onProgress: (p) => bar.update(p.phase, p.bytesRead, p.totalBytes, plural(p.records, 'record')),
            signal: stop.signal,
          });
        } catch (e) {
          if (e instanceof ImportRejected)
            throw new CliError(e.message.split('\n')[0] ?? e.message, 1, e.message.split('\n').slice(1));
          if (e instanceof ImportInterrupted) throw new CliError(e.message);
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`${(e as Error).message}`);
          throw e;
        } finally {
          bar.done();
          process.off('SIGINT', interrupt);
          process.off('SIGTERM', interrupt);
        }
      });
      if (ctx.json) printJson(report);
      else printReport(report, opts.skipInvalid === true);
      if (report.outcome === 'refused' || (report.dryRun && report.errors > 0)) process.exitCode = 1;
    });
}

/** Why nothing was written, and the way out: --skip-invalid skips records, never a side file's error. */
function refusal(r: ImportReport, skipInvalid: boolean): string {
  const recordErrors = r.errors - r.sideErrors;
  if (r.sideErrors === 0)
    return 'nothing imported: fix the errors above, or pass --skip-invalid to import the valid records';
  const side = `${plural(r.sideErrors, 'error')} in the people, products or accounts files`;
  if (recordErrors === 0 || skipInvalid) return `nothing imported: fix the ${side}; no record can be skipped for them`;
  return `nothing imported: fix the ${side} (no record can be skipped for them); then fix the records, or pass --skip-invalid`;
}

function printReport(r: ImportReport, skipInvalid: boolean): void {
  for (const p of r.problems) print(formatImportProblem(p));
  const listed = r.problems.length;
  const total = r.errors + r.warnings;
  if (listed < total) print(`… and ${total - listed} more problems (--max-problems)`);
  print(
    `${r.format} ${r.file}: ${plural(r.records, 'record')}, ${r.valid} valid, ${r.invalid} invalid; ` +
      `${plural(r.errors, 'error')}, ${plural(r.warnings, 'warning')}`,
  );
  if (r.converted > 0) print(`${plural(r.converted, 'record')} converted from another currency at the --rates rates`);
  if (r.createdAtImport > 0)
    print(`${plural(r.createdAtImport, 'record')} without any date: created at the import time`);
  if (r.outcome === 'checked') return print('dry run: nothing written');
  if (r.outcome === 'refused') return print(refusal(r, skipInvalid));
  if (r.processApplied !== null)
    print(`process version ${r.processApplied} applied with the export's people, teams and pipeline`);
  if (r.activated > 0) print(`${plural(r.activated, 'open lead')} taken live: stage tasks and automations ran`);
  if (r.resumedFromLine !== null) print(`resumed after line ${r.resumedFromLine} (run ${r.runId})`);
  // A resumed run's count takes in the leads its interrupted attempt saved before the checkpoint.
  const sofar = r.resumedFromLine !== null ? ', with those saved before the interruption' : '';
  const split = `${r.resumedFromLine !== null ? 'since resuming, ' : ''}${r.created} new, ${r.updated} updated`;
  print(
    `imported ${plural(r.written, 'lead')}${sofar} (${split})${r.kept > 0 ? `; ${r.kept} worked in Stageflow since an earlier import were left as they are` : ''}`,
  );
  if (r.skipped.length > 0) {
    print(`skipped ${plural(r.skipped.length, 'record')}:`);
    for (const s of r.skipped.slice(0, 50))
      print(`  line ${s.line}${s.sourceId ? ` (${s.sourceId})` : ''}: ${s.reasons.join('; ')}`);
    if (r.skipped.length > 50) print(`  … and ${r.skipped.length - 50} more (--json lists them all)`);
  }
}
