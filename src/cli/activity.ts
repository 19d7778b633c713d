import type { Command } from 'commander';
import { knownActivityKind, unknownActivityKind } from '../domain/activity-kinds.js';
import { activityId } from '../domain/lead.js';
import { activityJson, findActivity } from '../store/activities.js';
import type { Store } from '../store/db.js';
import { latestProcess } from '../store/processes.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError } from './errors.js';
import { formatTime, print, printJson, table } from './output.js';
import { submitAndShow } from './submit.js';

/** Facts from outside the process that goals can wait for: logged activities and named signals. */

export function activityCommands(program: Command): void {
  const activity = program.command('activity').description('record work done on a lead');
  activity
    .command('log')
    .description('log an activity (call, meeting, ...) in the lead’s current stage; prints its id')
    .argument('<lead>', 'lead id')
    .argument('<kind>', 'activity kind: one the goals count or a common one (call, email, meeting, demo, note, ...)')
    .option('--note <text>', 'a note kept with the activity')
    .option(
      '--at <time>',
      'when it happened, if earlier (ISO time with offset, e.g. 2026-11-30T17:00:00+01:00): not in the future, not before the lead entered its stage; a goal it meets is met now',
    )
    .action(async (lead: string, kind: string, opts: { note?: string; at?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        // As the API does: a kind no goal counts and no one uses would count for nothing, silently.
        const process = (await latestProcess(store.db))?.process;
        const known = process ? knownActivityKind(process, kind) : kind;
        if (process && known === undefined) throw new CliError(`<kind> ${unknownActivityKind(process, kind)}`);
        await submitAndShow(
          store,
          ctx,
          {
            type: 'activity.logged',
            lead,
            kind: known ?? kind,
            ...(opts.note !== undefined ? { note: opts.note } : {}),
            ...(opts.at !== undefined ? { occurredAt: opts.at } : {}),
          },
          // The event logged one activity, the first of its sequence number.
          (outcome) => ({ activity: activityId(lead, outcome.lead.outboxSeries ?? 1, outcome.lead.seq, 0) }),
        );
      });
    });

  activity
    .command('show')
    .description('one activity: its lead, kind, time, author, stay and note (--json: as the API gives it)')
    .argument('<activity>', 'activity id, as `activity log` and the lists give it (LEAD:SEQ.IDX)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const row = await findActivity(store.db, id);
        if (!row) throw new CliError(`activity "${id}" does not exist`);
        const shown = activityJson(row);
        if (ctx.json) return printJson(shown);
        const zone = await displayZone(store);
        for (const line of table([
          ['activity', shown.id],
          ['lead', shown.lead],
          ['kind', shown.kind],
          ['at', formatTime(row.at, zone)],
          ['by', shown.actor ?? '-'],
          ['stay', shown.stay],
          ['note', shown.note ?? '-'],
        ]))
          print(line);
      });
    });

  activity
    .command('edit')
    .description('correct an activity’s note (its kind and time stay, so no goal is judged again)')
    .argument('<activity>', 'activity id, as `activity log` and the lists give it (LEAD:SEQ.IDX)')
    .requiredOption('--note <text>', 'the corrected note; "" clears it')
    .action(async (id: string, opts: { note: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const lead = await leadOfActivity(store, id);
        await submitAndShow(store, ctx, { type: 'activity.updated', lead, activity: id, note: opts.note });
      });
    });

  activity
    .command('delete')
    .description(
      'delete an activity logged by mistake; it stops counting toward its stay’s goal if the lead is still there',
    )
    .argument('<activity>', 'activity id (LEAD:SEQ.IDX)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const lead = await leadOfActivity(store, id);
        await submitAndShow(store, ctx, { type: 'activity.deleted', lead, activity: id });
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

async function leadOfActivity(store: Store, id: string): Promise<string> {
  const row = await findActivity(store.db, id);
  if (!row) throw new CliError(`activity "${id}" does not exist`);
  return row.lead_id;
}
