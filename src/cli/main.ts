import { CommanderError, type Command } from 'commander';
import { ConfigError } from '../config.js';
import { CliError } from './errors.js';
import { buildProgram } from './program.js';

/**
 * The `stageflow` entry point. Every failure becomes one line, `stageflow: <what and where>`,
 * on stderr with exit code 1 (refused or invalid input) or 2 (bad command line); --debug adds
 * the stack.
 */

/** The subcommand path named on the command line, e.g. "lead show", to say where a usage error is. */
function commandPath(program: Command, args: readonly string[]): string {
  const names: string[] = [];
  let cmd = program;
  for (const arg of args) {
    const sub = cmd.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!sub) continue;
    names.push(sub.name());
    cmd = sub;
  }
  return names.join(' ');
}

function firstLine(text: string): string {
  return text.split('\n').find((l) => l.trim() !== '') ?? text;
}

export async function run(args: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...args], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    const debug = args.includes('--debug');
    const fail = (message: string, code: number, details: readonly string[] = []): number => {
      process.stderr.write(`stageflow: ${message}\n`);
      for (const d of details) process.stderr.write(`  ${d}\n`);
      if (debug && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
      return code;
    };
    if (e instanceof CommanderError) {
      // --help and a bare group name (`stageflow lead`) print help themselves.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return 2;
      const where = commandPath(program, args);
      const message = e.message.replace(/^error: /, '').replace(/\n/g, ' ');
      return fail(`${where ? `${where}: ` : ''}${message} (see stageflow ${where ? `${where} ` : ''}--help)`, 2);
    }
    if (e instanceof CliError) return fail(e.message, e.exitCode, e.details);
    if (e instanceof ConfigError) return fail(`environment variable ${e.message}`, 1);
    const message = e instanceof Error ? firstLine(e.message) : String(e);
    return fail(debug ? message : `${message} (run with --debug for details)`, 1);
  }
}

// A reader that stops early (`stageflow lead list | head`) is not an error of ours.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

process.exitCode = await run(process.argv.slice(2));
