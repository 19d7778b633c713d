import type { Command } from 'commander';
import { knownActivityKind, unknownActivityKind } from '../domain/activity-kinds.js';
import { latestProcess } from '../store/processes.js';
import { contextOf, withStore } from './context.js';
import { CliError } from './errors.js';
import { submitAndShow } from './submit.js';

/** Facts from outside the process that goals can wait for: logged activities and named signals. */

export function activityCommands(program: Command): void {
  const activity = program.command('activity').description('record work done on a lead');
  activity
    .command('log')
    .description('log an activity (call, meeting, ...) in the lead’s current stage')
    .argument('<lead>', 'lead id')
    .argument('<kind>', 'activity kind: one the goals count or a common one (call, email, meeting, demo, note, ...)')
    .option('--note <text>', 'a note kept with the activity')
    .action(async (lead: string, kind: string, opts: { note?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        // As the API does: a kind no goal counts and no one uses would count for nothing, silently.
        const process = (await latestProcess(store.db))?.process;
        const known = process ? knownActivityKind(process, kind) : kind;
        if (process && known === undefined) throw new CliError(`<kind> ${unknownActivityKind(process, kind)}`);
        await submitAndShow(store, ctx, {
          type: 'activity.logged',
          lead,
          kind: known ?? kind,
          ...(opts.note !== undefined ? { note: opts.note } : {}),
        });
      });
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
