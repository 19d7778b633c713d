import type { Command } from 'commander';
import { contextOf, withStore } from './context.js';
import { submitAndShow } from './submit.js';

/** Facts from outside the process that goals can wait for: logged activities and named signals. */

export function activityCommands(program: Command): void {
  const activity = program.command('activity').description('record work done on a lead');
  activity
    .command('log')
    .description('log an activity (call, meeting, ...) in the lead’s current stage')
    .argument('<lead>', 'lead id')
    .argument('<kind>', 'activity kind, as goals name it')
    .option('--note <text>', 'a note kept with the activity')
    .action(async (lead: string, kind: string, opts: { note?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) =>
        submitAndShow(store, ctx, {
          type: 'activity.logged',
          lead,
          kind,
          ...(opts.note !== undefined ? { note: opts.note } : {}),
        }),
      );
    });

  program
    .command('signal')
    .description('record an outside signal on a lead, e.g. trial_started')
    .argument('<lead>', 'lead id')
    .argument('<name>', 'signal name, as goals name it')
    .action(async (lead: string, name: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) => submitAndShow(store, ctx, { type: 'signal.received', lead, name }));
    });
}
