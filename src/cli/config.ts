import type { Command } from 'commander';
import { configVariables, displayValue } from '../config.js';
import { contextOf } from './context.js';
import { print, printJson, table } from './output.js';

/** `stageflow config`: every environment variable, its current value and what it does. */

export function configCommand(program: Command): void {
  program
    .command('config')
    .description('show the environment variables Stageflow reads, with their values')
    .action((_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const rows = configVariables.map((v) => ({
        name: v.name,
        value: displayValue(v.name),
        source: process.env[v.name] ? 'env' : 'default',
        doc: v.doc,
      }));
      if (ctx.json) return printJson(rows);
      for (const line of table(rows.map((r) => [r.name, r.value, `(${r.source})`, r.doc]))) print(line);
    });
}
