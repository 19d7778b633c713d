import type { Command } from 'commander';
import { BUILT_IN_FIELDS, fieldCatalogue } from '../domain/field-catalogue.js';
import { formatProblem, parseProcess } from '../domain/process-load.js';
import type { Process } from '../domain/process-schema.js';
import { applyProcess, diffAgainstCurrent, ProcessRejected } from '../engine/process-service.js';
import { storedOverrides } from '../store/availability.js';
import { latestProcess, processVersion } from '../store/processes.js';
import { processHistory } from '../store/queries.js';
import { contextOf, displayZone, readText, withStore } from './context.js';
import { CliError } from './errors.js';
import { formatTime, iso, plural, print, printJson, table } from './output.js';
import { parsePositiveInt } from './parse.js';

/** `stageflow process ...`: check a process file, see what it would change, apply it, look back. */

function summary(p: Process): string {
  const pipelines = p.pipelines
    .map((pl) => `${pl.id}${pl.default ? ' (default)' : ''}: ${pl.stages.map((s) => s.id).join(' > ')}`)
    .join('; ');
  // With no default, a lead no pipeline's entry criteria match is refused: worth saying up front.
  const fallback = p.pipelines.some((pl) => pl.default)
    ? ''
    : ', no default pipeline (a lead no entry criteria match is refused)';
  return [
    `process "${p.name}"`,
    `${plural(p.pipelines.length, 'pipeline')} (${pipelines})${fallback}`,
    plural(p.users.length, 'user'),
    plural(p.teams.length, 'team'),
    plural(p.assignment.rules.length, 'assignment rule'),
    plural(Object.keys(p.templates).length, 'email template'),
  ].join(', ');
}

/** Runs `work`, turning a rejected process into one CLI error that lists every problem. */
async function reportingProblems(file: string, what: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (e instanceof ProcessRejected)
      throw new CliError(`${file}: ${what} (${plural(e.problems.length, 'problem')})`, 1, e.problems);
    throw e;
  }
}

export function processCommands(program: Command): void {
  const proc = program.command('process').description('validate, diff, apply and inspect the process definition');

  proc
    .command('validate')
    .description('check a process file (YAML or JSON) without touching the database')
    .argument('<file>', 'process file')
    .action((file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const parsed = parseProcess(readText(file));
      if (ctx.json) {
        printJson(parsed.ok ? { ok: true, process: parsed.process } : parsed);
        if (!parsed.ok) process.exitCode = 1;
        return;
      }
      if (!parsed.ok)
        throw new CliError(
          `${file} is invalid (${plural(parsed.problems.length, 'problem')})`,
          1,
          parsed.problems.map(formatProblem),
        );
      print(`OK ${file}: ${summary(parsed.process)}`);
    });

  proc
    .command('diff')
    .description(
      'what applying the file would change, against the current version, and what it does to the open leads in the stages it changes',
    )
    .argument('<file>', 'process file')
    .option('--backfill-tasks', 'preview an apply with --backfill-tasks')
    .action(async (file: string, opts: { backfillTasks?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const text = readText(file);
      await withStore(ctx, (store) =>
        reportingProblems(file, 'invalid', async () => {
          const diff = await diffAgainstCurrent(store, text, { backfillTasks: opts.backfillTasks === true });
          if (ctx.json) return printJson(diff);
          if (diff.changes.length === 0) return print('no changes');
          for (const c of [...diff.changes, ...diff.inFlight]) print(c);
        }),
      );
    });

  proc
    .command('apply')
    .description(
      'store the file as the new process version; open leads follow it in place, those in a stage whose goal or gate changed are checked against it, and changed stall and overdue thresholds reach their open stays and tasks',
    )
    .argument('<file>', 'process file')
    .option(
      '--backfill-tasks',
      'create the tasks a stage gains for the open leads already in it, due from now (recorded in their run log)',
    )
    .action(async (file: string, opts: { backfillTasks?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const text = readText(file);
      await withStore(ctx, (store) =>
        reportingProblems(file, 'not applied', async () => {
          const by = ctx.actor.id ?? ctx.actor.kind;
          const res = await applyProcess(store, text, ctx.now, by, { backfillTasks: opts.backfillTasks === true });
          if (ctx.json) return printJson(res);
          if (res.unchanged) return print(`no changes: version ${res.version} stays current`);
          for (const c of [...res.diff.changes, ...res.diff.inFlight]) print(c);
          print(`applied version ${res.version}; ${plural(res.migratedLeads, 'in-flight lead')} moved to it`);
          if (res.checkedLeads > 0)
            print(
              `${plural(res.checkedLeads, 'lead')} checked against changed goals and gates: ${res.advancedLeads} advanced; ${plural(res.backfilledTasks, 'task')} backfilled`,
            );
          if (res.reindexed.stays > 0 || res.reindexed.leads > 0)
            print(
              `stages moved: ${plural(res.reindexed.stays, 'stay')} of ${plural(res.reindexed.leads, 'lead')} renumbered to the new positions, so reports compare stages as they are now`,
            );
          const { stays, tasks } = res.rescheduled;
          if (stays > 0 || tasks > 0)
            print(
              `rescheduled: the stall alert of ${plural(stays, 'open stay')}, the overdue alert of ${plural(tasks, 'open task')}; alerts already sent are not sent again`,
            );
        }),
      );
    });

  proc
    .command('show')
    .description('print a stored process version as it was written (default: the current one)')
    .option('--version <n>', 'version number')
    .action(async (opts: { version?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const version = opts.version === undefined ? null : parsePositiveInt(opts.version, '--version');
      await withStore(ctx, async (store) => {
        const stored = version === null ? await latestProcess(store.db) : await processVersion(store.db, version);
        if (!stored)
          throw new CliError(
            version === null ? 'no process has been applied yet' : `there is no process version ${version}`,
          );
        if (ctx.json)
          return printJson({
            version: stored.version,
            appliedAt: iso(stored.appliedAt),
            process: stored.process,
            // As GET /process: what routing uses over the current file (docs/process.md).
            ...(version === null
              ? {
                  availabilityOverrides: (await storedOverrides(store.db)).map((o) => ({
                    user: o.user,
                    ...o.override,
                    setBy: o.changedBy,
                    setAt: iso(o.changedAt),
                  })),
                }
              : {}),
          });
        process.stdout.write(stored.source.endsWith('\n') ? stored.source : `${stored.source}\n`);
      });
    });

  proc
    .command('history')
    .description('every applied version, oldest first')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const versions = await processHistory(store.db);
        if (ctx.json) return printJson(versions.map((v) => ({ ...v, appliedAt: iso(v.appliedAt) })));
        if (versions.length === 0) return print('no process has been applied yet');
        const zone = await displayZone(store);
        const rows = versions.map((v) => [
          `v${v.version}`,
          formatTime(v.appliedAt, zone),
          v.appliedBy ?? '-',
          v.checksum,
          String(v.leads),
          v.name,
        ]);
        for (const line of table([['version', 'applied', 'by', 'checksum', 'leads', 'name'], ...rows])) print(line);
      });
    });

  proc
    .command('fields')
    .description("the field catalogue of the current process: built-in fields and the process's own")
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const stored = await latestProcess(store.db);
        if (!stored) throw new CliError('no process has been applied yet');
        const catalogue = fieldCatalogue(stored.process);
        const items = catalogue ?? BUILT_IN_FIELDS.map((f) => ({ ...f, builtIn: true }));
        if (ctx.json) return printJson({ version: stored.version, open: catalogue === null, items });
        const rows = items.map((f) => [
          f.key,
          f.type,
          f.label,
          f.builtIn ? 'built-in' : 'declared',
          (f.options ?? []).join(', '),
        ]);
        for (const line of table([['key', 'type', 'label', 'kind', 'options'], ...rows])) print(line);
        if (catalogue === null) print('no fields section: a lead also takes any other field');
      });
    });
}
