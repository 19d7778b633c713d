import { Option, type Command } from 'commander';
import type { LeadStatus } from '../domain/lead.js';
import {
  deleteLead,
  LEAD_TABLES,
  previewLeadDeletion,
  UnknownLeadError,
  type LeadRowCounts,
} from '../store/lead-delete.js';
import { LEAD_SORTS, searchLeads, type LeadSearch, type LeadSort } from '../store/lead-search.js';
import { findMember } from '../store/members.js';
import { leadRecord, leadRunLog } from '../store/queries.js';
import { contextOf, displayZone, withStore } from './context.js';
import { processFilterOptions } from './list-filters.js';
import { CliError, UsageError } from './errors.js';
import { renderRunLog, runLogJson } from './lead-why.js';
import { leadJson, loadLeadPage, renderLead } from './lead-view.js';
import { formatTime, iso, plural, print, printJson, table } from './output.js';
import { newLeadId } from '../engine/lead-id.js';
import { collect, parseFields, parsePositiveInt, parseTimeFilter } from './parse.js';
import { submitAndShow } from './submit.js';

/** `stageflow lead ...`: every change is one event through the engine; reads go through store/queries. */

interface CreateOptions {
  id?: string;
  field: string[];
  owner?: string;
  pipeline?: string;
}

interface ListOptions {
  status?: LeadStatus;
  owner?: string;
  pipeline?: string;
  stage?: string;
  source?: string;
  product?: string;
  territory?: string;
  search?: string;
  updatedSince?: string;
  team?: string;
  stalled?: 'true' | 'false';
  sort: LeadSort;
  order: 'asc' | 'desc';
  limit: string;
}

/** The API's lead search (store/lead-search.ts) with the options given; the CLI sees every lead. */
const CLOSED_AT_HELP =
  'when the deal closed, if earlier (ISO time with offset, e.g. 2026-11-30T17:00:00+01:00): not in the future, not before the lead entered its stage';

function searchOf(opts: ListOptions, limit: number, zone: string, owners: string[] | undefined): LeadSearch {
  return {
    status: opts.status,
    owner: opts.owner,
    owners,
    pipeline: opts.pipeline,
    stage: opts.stage,
    source: opts.source,
    product: opts.product,
    territory: opts.territory,
    q: opts.search,
    updatedFrom:
      opts.updatedSince === undefined ? undefined : parseTimeFilter(opts.updatedSince, '--updated-since', zone),
    stalled: opts.stalled === undefined ? undefined : opts.stalled === 'true',
    reach: null,
    sort: opts.sort,
    order: opts.order,
    limit,
  };
}

/** How each kind of a lead's rows is counted out loud: singular and plural. */
const ROW_WORDS: Record<keyof LeadRowCounts, [string, string]> = {
  stage_stays: ['stage stay', 'stage stays'],
  tasks: ['task', 'tasks'],
  events: ['event', 'events'],
  run_log: ['run-log entry', 'run-log entries'],
  activities: ['activity', 'activities'],
  owner_history: ['owner change', 'owner changes'],
  field_history: ['field change', 'field changes'],
};

function rowsInWords(rows: LeadRowCounts): string {
  return LEAD_TABLES.map((t) => plural(rows[t], ...ROW_WORDS[t])).join(', ');
}

const unknownLead = (id: string): CliError => new CliError(`lead "${id}" does not exist [unknown_lead]`);

export function leadCommands(program: Command): void {
  const lead = program.command('lead').description('create, inspect, update and move leads');

  lead
    .command('create')
    .description('create a lead; the entry criteria pick its pipeline and the assignment rules its owner')
    .option('--id <id>', 'lead id (default: L- and a ULID, which sorts by creation time)')
    .option('--field <k=v>', 'a field; numbers, true, false and null are typed (repeatable)', collect, [])
    .option('--owner <user>', 'owner, skipping the assignment rules')
    .option('--pipeline <id>', 'pipeline, skipping the entry criteria')
    .action(async (opts: CreateOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const fields = parseFields(opts.field);
      const id = opts.id ?? newLeadId(ctx.now);
      await withStore(ctx, async (store) => {
        // `--as` a rep: she is entering a lead she found (assignment.self_sourced), as over the API.
        const as = ctx.actor.kind === 'user' ? ctx.actor.id : undefined;
        const rep = as !== undefined && (await findMember(store.db, as))?.role === 'rep';
        await submitAndShow(store, ctx, {
          type: 'lead.created',
          lead: id,
          fields,
          ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
          ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
          ...(rep && opts.owner === undefined ? { sourcedBy: as } : {}),
        });
      });
    });

  lead
    .command('show')
    .description('fields, stage, owner, open tasks, guidance and stage history of a lead')
    .argument('<id>', 'lead id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const page = await loadLeadPage(store, id);
        if (ctx.json) return printJson(leadJson(page));
        for (const line of renderLead(page, { full: true })) print(line);
      });
    });

  lead
    .command('list')
    .description('leads, newest first (or in the order --sort and --order say), filtered as the API filters them')
    .addOption(new Option('--status <status>', 'only leads with this status').choices(['open', 'won', 'lost']))
    .option('--owner <user>', 'only leads of this owner')
    .option('--pipeline <id>', 'only leads in this pipeline')
    .option('--stage <id>', 'only leads in this stage')
    .option('--team <team>', "only leads owned by the team's members (its id or name, any case)")
    .addOption(
      new Option(
        '--stalled <bool>',
        'true: open leads whose stay in their stage stalled; false: open leads not stalled',
      ).choices(['true', 'false']),
    )
    .option('--source <source>', 'only leads from this source')
    .option('--product <product>', 'only leads for this product')
    .option('--territory <territory>', 'only leads in this territory')
    .option(
      '--search <text>',
      'only leads whose name, email, company or person ("first last") contains this (any case)',
    )
    .option(
      '--updated-since <time>',
      'only leads changed at or after this time, or since this date began (organisation’s zone)',
    )
    .addOption(new Option('--sort <field>', 'order by this').choices(Object.keys(LEAD_SORTS)).default('created_at'))
    .addOption(new Option('--order <order>', 'ascending or descending').choices(['asc', 'desc']).default('desc'))
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: ListOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = parsePositiveInt(opts.limit, '--limit');
      await withStore(ctx, async (store) => {
        const zone = await displayZone(store);
        const { members } = await processFilterOptions(store, opts);
        const found = (await searchLeads(store.db, searchOf(opts, limit, zone, members), store.dialect)).rows;
        const leads = found.map(leadRecord);
        if (ctx.json)
          return printJson(
            found.map((r, i) => ({
              ...leads[i],
              stageEnteredAt: iso(r.stage_entered_at),
              createdAt: iso(r.created_at),
              closedAt: iso(r.closed_at),
              updatedAt: iso(r.updated_at),
              lastActivityAt: iso(r.last_activity_at),
              nextTaskDueAt: iso(r.next_task_due_at),
            })),
          );
        if (leads.length === 0) return print('no leads');
        const rows = leads.map((l) => [
          l.id,
          l.name ?? '',
          `${l.pipeline}/${l.stage}`,
          l.status,
          l.owner ?? '(none)',
          formatTime(l.stageEnteredAt, zone),
        ]);
        for (const line of table([['id', 'name', 'stage', 'status', 'owner', 'in stage since'], ...rows])) print(line);
      });
    });

  lead
    .command('update')
    .description('change fields; rerouting and goals react as they would to any update')
    .argument('<id>', 'lead id')
    .option('--field <k=v>', 'a field; numbers, true, false and null are typed (repeatable)', collect, [])
    .action(async (id: string, opts: { field: string[] }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.field.length === 0) throw new UsageError('lead update: give at least one --field k=v');
      const fields = parseFields(opts.field);
      await withStore(ctx, (store) => submitAndShow(store, ctx, { type: 'lead.updated', lead: id, fields }));
    });

  lead
    .command('move')
    .description('move a lead to another stage; strict stages hold it unless an admin overrides')
    .argument('<id>', 'lead id')
    .argument('<stage>', 'target stage id')
    .option('--pipeline <id>', 'move into another pipeline')
    .option('--override', 'pass strict gates (needs --admin; recorded in the run log)')
    .option('--reason <text>', 'why, for the run log')
    .action(
      async (
        id: string,
        stage: string,
        opts: { pipeline?: string; override?: boolean; reason?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        await withStore(ctx, (store) =>
          submitAndShow(store, ctx, {
            type: 'lead.moved',
            lead: id,
            stage,
            override: opts.override === true,
            ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
            ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          }),
        );
      },
    );

  lead
    .command('win')
    .description('mark a lead won; strict stages still open on the way hold it unless an admin overrides')
    .argument('<id>', 'lead id')
    .option('--reason <text>', 'why')
    .option('--override', 'win past strict gates (needs --admin; recorded in the run log)')
    .option('--closed-at <time>', CLOSED_AT_HELP)
    .action(async (id: string, opts: { reason?: string; override?: boolean; closedAt?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) =>
        submitAndShow(store, ctx, {
          type: 'lead.won',
          lead: id,
          ...(opts.override === true ? { override: true } : {}),
          ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          ...(opts.closedAt !== undefined ? { closedAt: opts.closedAt } : {}),
        }),
      );
    });

  lead
    .command('lose')
    .description('mark a lead lost (never gated: a deal can be lost from any stage)')
    .argument('<id>', 'lead id')
    .requiredOption('--reason <text>', 'why it was lost (needed for the loss reports)')
    .option('--closed-at <time>', CLOSED_AT_HELP)
    .action(async (id: string, opts: { reason: string; closedAt?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) =>
        submitAndShow(store, ctx, {
          type: 'lead.lost',
          lead: id,
          reason: opts.reason,
          ...(opts.closedAt !== undefined ? { closedAt: opts.closedAt } : {}),
        }),
      );
    });

  lead
    .command('reopen')
    .description(
      'reopen a won or lost lead under the current process version, in the stage it closed in (or --stage); strict stages it would skip hold it unless an admin overrides',
    )
    .argument('<id>', 'lead id')
    .option('--stage <id>', 'reopen into this stage (needed when the current version no longer has the old one)')
    .option('--pipeline <id>', 'the pipeline of --stage, if not the one the lead closed in')
    .option('--override', 'reopen past strict stages (needs --admin; recorded in the run log)')
    .option(
      '--owner <user>',
      'give it to this active user; without it the lead keeps its owner, or is routed by the rules if they are inactive or gone',
    )
    .action(
      async (
        id: string,
        opts: { stage?: string; pipeline?: string; override?: boolean; owner?: string },
        cmd: Command,
      ) => {
        const ctx = contextOf(cmd);
        await withStore(ctx, (store) =>
          submitAndShow(store, ctx, {
            type: 'lead.reopened',
            lead: id,
            ...(opts.stage !== undefined ? { stage: opts.stage } : {}),
            ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
            ...(opts.override === true ? { override: true } : {}),
            ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
          }),
        );
      },
    );

  lead
    .command('activate')
    .description("take an imported lead live: its stage's tasks and automations run now")
    .argument('<id>', 'lead id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) => submitAndShow(store, ctx, { type: 'lead.activated', lead: id }));
    });

  lead
    .command('reassign')
    .description('give a lead to another owner; without --owner the assignment rules run again')
    .argument('<id>', 'lead id')
    .option('--owner <user>', 'new owner')
    .action(async (id: string, opts: { owner?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, (store) =>
        submitAndShow(store, ctx, {
          type: 'lead.reassigned',
          lead: id,
          ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
        }),
      );
    });

  lead
    .command('delete')
    .description(
      'delete a lead made by mistake (test, spam, duplicate) and all its rows; delivered messages and the audit log stay',
    )
    .argument('<id>', 'lead id')
    .option('--yes', 'really delete: this cannot be undone')
    .action(async (id: string, opts: { yes?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        if (opts.yes !== true) {
          // Say what would go, so the second run with --yes is an informed one.
          const p = await previewLeadDeletion(store, id);
          if (!p) throw unknownLead(id);
          throw new UsageError(
            `lead delete: not deleting ${id} without --yes (it would delete the ${p.status} lead of ${p.owner ?? 'nobody'} with ${rowsInWords(p.rows)}, and cancel ${plural(p.outboxToCancel, 'undelivered message')}; this cannot be undone). Nothing was changed.`,
          );
        }
        const done = await deleteLead(store, id, ctx.actor.id ?? 'cli', ctx.now).catch((e: unknown) => {
          throw e instanceof UnknownLeadError ? unknownLead(id) : e;
        });
        if (ctx.json) return printJson(done);
        print(
          `deleted ${done.status} lead ${id} of ${done.owner ?? 'nobody'}: ${rowsInWords(done.rows)}; cancelled ${plural(done.outboxCancelled, 'undelivered message')}, kept ${plural(done.outboxKept, 'message')} (sent or settled, or a mailing-list erasure still to be sent)`,
        );
      });
    });

  lead
    .command('why')
    .description('the run log: every event on the lead and which rule, goal or gate fired, with its inputs')
    .argument('<id>', 'lead id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const page = await loadLeadPage(store, id);
        const events = await leadRunLog(store.db, id);
        if (ctx.json) return printJson(runLogJson(events));
        for (const line of renderRunLog(page, events)) print(line);
      });
    });
}
