import type { Command } from 'commander';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { DemoRefused, runDemo, type DemoSummary } from '../demo/demo-service.js';
import { ProcessRejected } from '../engine/process-service.js';
import { contextOf, readText, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print, printJson } from './output.js';
import { parsePositiveInt } from './parse.js';
import { ProgressLine } from './progress.js';

/** `stageflow demo`: a demo company with months of history, so every report has something to show. */

const EXAMPLE = fileURLToPath(new URL('../../examples/b2b-saas.process.yaml', import.meta.url));

interface DemoCliOptions {
  seed: string;
  leads: string;
  months: string;
  process: string;
  force?: boolean;
  batch: string;
}

function parseSeed(raw: string): number {
  if (!/^\d{1,9}$/.test(raw)) throw new UsageError(`--seed ${JSON.stringify(raw)}: expected a whole number`);
  return Number(raw);
}

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('fill an empty database with a demo company and months of its sales, through the engine')
    .option('--seed <n>', 'random seed: the same seed and --now give the same data', '1')
    .option('--leads <n>', 'leads arriving over the range (renewals of deals won in it come on top)', '20000')
    .option('--months <n>', 'months of history, ending at --now', '18')
    .option('--process <file>', "the process whose pipelines the demo company runs (default: the example's)")
    .option('--force', 'add the demo to a database that already has leads')
    .option('--batch <n>', 'events per transaction', '1000')
    .addHelpText(
      'after',
      '\nAbout 30 reps in 5 teams (two of them struggling at one stage each), the pipelines, stages, tasks and\n' +
        'guidance of the process file, and --leads leads arriving over --months months that end at --now, each\n' +
        'worked through the same engine with a virtual clock (timers fire as time passes). Then quotas for every\n' +
        'rep and team, month and quarter. Refuses a database that already has leads unless --force.',
    )
    .action(async (opts: Omit<DemoCliOptions, 'process'> & { process?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const seed = parseSeed(opts.seed);
      const leads = parsePositiveInt(opts.leads, '--leads');
      const months = parsePositiveInt(opts.months, '--months');
      const batchSize = parsePositiveInt(opts.batch, '--batch');
      const processFile = opts.process ?? EXAMPLE;
      const processText = readText(processFile);
      const bar = new ProgressLine(!ctx.json && process.stderr.isTTY === true);
      const summary = await withStore(ctx, async (store) => {
        try {
          return await runDemo(store, {
            seed,
            leads,
            months,
            now: ctx.now,
            processText,
            force: opts.force === true,
            batchSize,
            onProgress: (p) =>
              bar.update(
                `demo ${DateTime.fromMillis(p.at, { zone: 'utc' }).toISODate() ?? ''}`,
                p.at - p.from,
                p.to - p.from,
                `${p.leads.toLocaleString('en')} leads, ${p.events.toLocaleString('en')} events`,
              ),
          });
        } catch (e) {
          if (e instanceof DemoRefused) throw new CliError(e.message);
          if (e instanceof ProcessRejected)
            throw new CliError(`${processFile} is invalid (${plural(e.problems.length, 'problem')})`, 1, e.problems);
          throw e;
        } finally {
          bar.done();
        }
      });
      if (ctx.json) printJson(summary);
      else printSummary(summary);
    });
}

const n = (x: number): string => x.toLocaleString('en');

function printSummary(s: DemoSummary): void {
  const day = (ms: number): string => DateTime.fromMillis(ms, { zone: 'utc' }).toISODate() ?? '';
  const l = s.leads;
  const byPipeline = Object.entries(l.byPipeline)
    .map(([p, c]) => `${p} ${n(c)}`)
    .join(', ');
  print(
    `demo company (seed ${s.seed}): ${s.people.users} people, ${s.people.reps} reps in ${s.people.teams} teams; process version ${s.processVersion}`,
  );
  print(`struggling reps: ${s.people.struggling.join(', ')}; top reps: ${s.people.top.join(', ')}`);
  print(`range: ${day(s.from)} to ${day(s.to)}`);
  print(`leads: ${n(l.created)} (${byPipeline}): ${n(l.won)} won, ${n(l.lost)} lost, ${n(l.open)} open`);
  const refused = Object.entries(s.refusedByCode)
    .map(([code, c]) => `${code} ${n(c)}`)
    .join(', ');
  print(
    `events: ${n(s.events.handled)} handled${s.events.refused > 0 ? ` (${n(s.events.refused)} refused: ${refused})` : ''}, ` +
      `${n(s.events.timers)} timers fired, ${n(s.events.transactions)} transactions`,
  );
  const t = s.tasks;
  print(`tasks: ${n(t.onTime)} done on time, ${n(t.late)} late, ${n(t.skipped)} skipped, ${n(t.open)} open`);
  print(`quotas: ${n(s.quotas)} (every rep and team, every month and quarter)`);
  print(`forecast snapshots: ${n(s.snapshots)} (each month and quarter, taken at its start)`);
  print(`took ${(s.ms / 1000).toFixed(1)} s`);
}
