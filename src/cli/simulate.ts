import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { parseProcess } from '../domain/process-load.js';
import { ProcessRejected } from '../engine/process-service.js';
import { EventFileError, simulate, type SimulationResult } from '../simulate.js';
import { boardFromSimulation, renderBoard } from './board-render.js';
import { contextOf, readText } from './context.js';
import { CliError } from './errors.js';
import { plural, print } from './output.js';
import { parseTime } from './parse.js';

/** `stageflow simulate`: replay an event file against a process on an in-memory database. */

interface SimulateOptions {
  process: string;
  events: string;
  until?: string;
  out?: string;
  format?: 'json' | 'board';
}

/** simulate() does not know the file names; people need them to find the line. */
async function simulateFiles(
  files: { process: string; events: string },
  processText: string,
  eventsText: string,
  until: number | undefined,
): Promise<SimulationResult> {
  try {
    return await simulate({ processText, eventsText, ...(until !== undefined ? { until } : {}) });
  } catch (e) {
    if (e instanceof EventFileError)
      throw new CliError(`${files.events} line ${e.line}: ${e.message.replace(/^events line \d+: /, '')}`);
    if (e instanceof ProcessRejected)
      throw new CliError(`${files.process} is invalid (${plural(e.problems.length, 'problem')})`, 1, e.problems);
    throw e;
  }
}

export function simulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('replay timed events (JSON lines) against a process with a virtual clock; nothing is stored')
    .requiredOption('--process <file>', 'process file (YAML or JSON)')
    .requiredOption('--events <file>', 'events, one JSON object per line with an "at" time')
    .option('--until <time>', 'stop at this ISO time, firing the timers due by then')
    .option('--out <file>', 'write the result to a file instead of stdout')
    .addOption(
      new Option(
        '--format <format>',
        'json (the full result) or board (readable); default board on stdout, json with --out',
      ).choices(['json', 'board']),
    )
    .action(async (opts: SimulateOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const until = opts.until === undefined ? undefined : parseTime(opts.until, '--until');
      const format = opts.format ?? (opts.out !== undefined || ctx.json ? 'json' : 'board');
      const processText = readText(opts.process);
      const eventsText = readText(opts.events);
      const result = await simulateFiles(opts, processText, eventsText, until);
      const parsed = parseProcess(processText);
      const text =
        format === 'json'
          ? JSON.stringify(result, null, 2)
          : renderBoard(boardFromSimulation(result, parsed.ok ? parsed.process : null)).join('\n');
      if (opts.out === undefined) return print(text);
      writeFileSync(opts.out, `${text}\n`);
      print(
        `wrote ${opts.out}: ${plural(result.leads.length, 'lead')}, ${plural(result.rejected.length, 'rejected event')}, ${plural(result.timersFired, 'timer')} fired`,
      );
    });
}
