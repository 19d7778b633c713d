import type { Command } from 'commander';
import { migrate } from '../store/db.js';
import { contextOf, withStore } from './context.js';
import { print, printJson } from './output.js';

/** `stageflow migrate`: bring the schema up to date explicitly (every other command also does it on open). */

export function migrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('create or update the database schema')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(
        ctx,
        async (store) => {
          const applied = await migrate(store);
          if (ctx.json) return printJson({ database: store.location, applied });
          print(
            applied.length === 0
              ? `${store.location}: schema is up to date`
              : `${store.location}: applied ${applied.join(', ')}`,
          );
        },
        false,
      );
    });
}
