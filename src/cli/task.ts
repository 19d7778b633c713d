import { Option, type Command } from 'commander';
import { DUE_TIME_HINT, isDueTime } from '../domain/due-time.js';
import type { TaskStatus } from '../domain/lead.js';
import { TASK_KINDS } from '../domain/process-schema.js';
import type { Store } from '../store/db.js';
import { IANAZone } from 'luxon';
import { findLead, findTask } from '../store/queries.js';
import { searchTasks, TASK_SORTS, type TaskLead, type TaskSort } from '../store/task-search.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { processFilterOptions } from './list-filters.js';
import { stageNameIn } from '../domain/process-filter.js';
import { taskJson } from './lead-view.js';
import { formatTime, print, printJson, table } from './output.js';
import { parsePositiveInt, parseTimeFilter } from './parse.js';
import { submitAndShow } from './submit.js';

/**
 * `stageflow task ...`: a rep's to-do list, completing, reopening or handing over tasks, and the
 * tasks people add themselves (add, edit, cancel).
 */

/** A due time as the domain reads it (no offset: the organisation's zone), or a usage error naming the option. */
function dueTime(raw: string, option: string): string {
  if (!isDueTime(raw)) throw new UsageError(`${option} ${JSON.stringify(raw)}: ${DUE_TIME_HINT}`);
  return raw;
}

interface ListOptions {
  lead?: string;
  assignee?: string;
  status: TaskStatus | 'all';
  overdue?: boolean;
  dueAfter?: string;
  dueBefore?: string;
  team?: string;
  pipeline?: string;
  stage?: string;
  tz?: string;
  sort: TaskSort;
  order: 'asc' | 'desc';
  limit: string;
}

/** A task id names its lead (`L1#1:call`); with --lead, TASK may also be the template id in the current stage. */
async function resolveTask(
  store: Store,
  ref: string,
  lead: string | undefined,
): Promise<{ lead: string; task: string }> {
  if (lead !== undefined) return { lead, task: ref };
  const task = await findTask(store.db, ref);
  if (!task) throw new CliError(`no task "${ref}": give a task id like L1#1:call, or --lead ID TEMPLATE`);
  return { lead: task.lead, task: task.id };
}

export function taskCommands(program: Command): void {
  const task = program
    .command('task')
    .description('list, complete, reopen and reassign tasks; add, edit and cancel your own');

  task
    .command('list')
    .description('tasks, earliest due first (open ones unless --status says otherwise)')
    .option('--lead <id>', 'tasks of this lead')
    .option('--assignee <user>', 'tasks of this user')
    .addOption(
      new Option('--status <status>', 'task status').choices(['open', 'done', 'skipped', 'all']).default('open'),
    )
    .option('--overdue', 'only open tasks past their overdue time (due + organisation.overdue_after_hours)')
    .option(
      '--due-after <time>',
      'only tasks due at or after this time, or from the start of this date (organisation’s zone)',
    )
    .option(
      '--due-before <time>',
      'only tasks due before this time, or before the start of this date (organisation’s zone)',
    )
    .option('--team <team>', "only tasks assigned to the team's members (its id or name, any case)")
    .option('--pipeline <id>', "only tasks of this pipeline's stages")
    .option('--stage <id>', 'only tasks of this stage')
    .option(
      '--tz <zone>',
      'read a date alone in --due-after/--due-before in this IANA zone (default: the organisation’s)',
    )
    .addOption(
      new Option('--sort <key>', "order by this (value: the lead's, leads without one last)")
        .choices(Object.keys(TASK_SORTS))
        .default('due_at'),
    )
    .addOption(new Option('--order <order>', 'ascending or descending').choices(['asc', 'desc']).default('asc'))
    .option('--limit <n>', 'at most this many', '200')
    .action(async (opts: ListOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = parsePositiveInt(opts.limit, '--limit');
      if (opts.overdue && opts.status !== 'open' && opts.status !== 'all')
        throw new UsageError(`--overdue lists open tasks; it cannot go with --status ${opts.status}`);
      if (opts.tz !== undefined && !IANAZone.isValidZone(opts.tz))
        throw new UsageError(
          `--tz ${JSON.stringify(opts.tz)}: not a time zone; give an IANA zone such as Europe/Berlin`,
        );
      await withStore(ctx, async (store) => {
        // "no tasks" for a mistyped lead would read as a lead with nothing to do.
        if (opts.lead !== undefined && !(await findLead(store.db, opts.lead)))
          throw new CliError(`lead "${opts.lead}" does not exist [unknown_lead]`);
        const zone = await displayZone(store);
        const { members, process } = await processFilterOptions(store, opts);
        // As the API's due_after/due_before: half-open, a date alone that day's midnight in the zone.
        const due = (raw: string | undefined, option: string): number | undefined =>
          raw === undefined ? undefined : parseTimeFilter(raw, option, opts.tz ?? zone);
        const { rows: tasks } = await searchTasks(
          store.db,
          {
            lead: opts.lead,
            assignee: opts.assignee,
            assignees: members,
            pipeline: opts.pipeline,
            stage: opts.stage,
            status: opts.status === 'all' ? undefined : opts.status,
            overdueAt: opts.overdue ? ctx.now : undefined,
            dueFrom: due(opts.dueAfter, '--due-after'),
            dueTo: due(opts.dueBefore, '--due-before'),
            reach: null,
            sort: opts.sort,
            order: opts.order,
            limit,
          },
          store.dialect,
        );
        if (ctx.json)
          return printJson(
            tasks.map(({ leadOwner: _owner, pipeline, leadSummary, ...t }) => ({
              ...taskJson(t),
              // The CLI reaches every lead (reach: null): the summary is always there.
              leadSummary: leadSummary && leadSummaryJson(leadSummary, stageNameIn(process, pipeline, t.stage)),
            })),
          );
        if (tasks.length === 0) return print('no tasks');
        const rows = tasks.map((t) => [
          t.id,
          t.title,
          t.stage,
          t.status,
          t.assignee ?? '(unassigned)',
          formatTime(t.dueAt, zone),
          t.status === 'open' && t.overdueAt <= ctx.now ? 'OVERDUE' : '',
          t.leadSummary?.name ?? t.leadSummary?.person ?? '',
        ]);
        for (const line of table([['id', 'title', 'stage', 'status', 'assignee', 'due', '', 'lead'], ...rows]))
          print(line);
      });
    });

  const transitions = [
    ['complete', 'task.completed', 'mark a task done; if that meets the stage goal, the lead advances'],
    ['reopen', 'task.reopened', 'reopen a done or skipped task'],
  ] as const;
  for (const [name, type, description] of transitions) {
    task
      .command(name)
      .description(description)
      .argument('<task>', 'task id (e.g. L1#1:call), or a template id with --lead')
      .option('--lead <id>', 'the lead, when TASK is a template id')
      .action(async (ref: string, opts: { lead?: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        await withStore(ctx, async (store) => {
          const { lead, task: taskId } = await resolveTask(store, ref, opts.lead);
          await submitAndShow(store, ctx, { type, lead, task: taskId });
        });
      });
  }

  task
    .command('add')
    .description(
      "add a task to an open lead (a follow-up call): it stays on the lead's open work when the lead changes stage",
    )
    .argument('<lead>', 'lead id')
    .requiredOption('--title <text>', 'what to do')
    .requiredOption('--due <time>', 'when: 2026-12-01T10:00 (organisation’s zone) or an ISO time with offset')
    .addOption(new Option('--kind <kind>', 'what kind of task').choices(TASK_KINDS).default('todo'))
    .option('--to <user>', "who does it (default: you if you are a user of the process, else the lead's owner)")
    .option('--note <text>', 'a note kept with the task')
    .action(
      async (
        lead: string,
        opts: { title: string; due: string; kind: string; to?: string; note?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        const due = dueTime(opts.due, '--due');
        await withStore(ctx, (store) =>
          submitAndShow(store, ctx, {
            type: 'task.added',
            lead,
            title: opts.title,
            kind: opts.kind as (typeof TASK_KINDS)[number],
            dueAt: due,
            ...(opts.to !== undefined ? { assignee: opts.to } : {}),
            ...(opts.note !== undefined ? { note: opts.note } : {}),
          }),
        );
      },
    );

  task
    .command('edit')
    .description('change the title, kind or due time of an open task you added')
    .argument('<task>', 'task id (e.g. L1#2:adhoc-3), or its template id with --lead')
    .option('--title <text>', 'new title')
    .option('--due <time>', 'new due time: 2026-12-01T10:00 (organisation’s zone) or an ISO time with offset')
    .addOption(new Option('--kind <kind>', 'new kind').choices(TASK_KINDS))
    .option('--lead <id>', 'the lead, when TASK is a template id')
    .action(async (ref: string, opts: { title?: string; due?: string; kind?: string; lead?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.title === undefined && opts.due === undefined && opts.kind === undefined)
        throw new UsageError('give at least one of --title, --due and --kind');
      const due = opts.due === undefined ? undefined : dueTime(opts.due, '--due');
      await withStore(ctx, async (store) => {
        const { lead, task: taskId } = await resolveTask(store, ref, opts.lead);
        await submitAndShow(store, ctx, {
          type: 'task.updated',
          lead,
          task: taskId,
          ...(opts.title !== undefined ? { title: opts.title } : {}),
          ...(due !== undefined ? { dueAt: due } : {}),
          ...(opts.kind !== undefined ? { kind: opts.kind as (typeof TASK_KINDS)[number] } : {}),
        });
      });
    });

  task
    .command('cancel')
    .description('cancel an open task you added: it is skipped, with the reason')
    .argument('<task>', 'task id (e.g. L1#2:adhoc-3), or its template id with --lead')
    .requiredOption('--reason <text>', 'why it is not needed')
    .option('--lead <id>', 'the lead, when TASK is a template id')
    .action(async (ref: string, opts: { reason: string; lead?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const { lead, task: taskId } = await resolveTask(store, ref, opts.lead);
        await submitAndShow(store, ctx, { type: 'task.cancelled', lead, task: taskId, reason: opts.reason });
      });
    });

  task
    .command('reassign')
    .description("hand an open task to another user; it stays theirs when the lead's owner changes")
    .argument('<task>', 'task id (e.g. L1#1:call), or a template id with --lead')
    .requiredOption('--to <user>', 'the user who takes the task over')
    .option('--lead <id>', 'the lead, when TASK is a template id')
    .action(async (ref: string, opts: { to: string; lead?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const { lead, task: taskId } = await resolveTask(store, ref, opts.lead);
        await submitAndShow(store, ctx, { type: 'task.reassigned', lead, task: taskId, assignee: opts.to });
      });
    });
}

/** A task's lead as `task list --json` shows it: the value in major units, as the API's. */
function leadSummaryJson({ valueMinor, ...lead }: TaskLead, stageName: string) {
  return { ...lead, value: valueMinor === null ? null : valueMinor / 100, stageName };
}
