import { Option, type Command } from 'commander';
import { readKeptMessage } from '../integrations/mail/deliver.js';
import { appendAudit } from '../store/audit.js';
import { withTransaction } from '../store/db.js';
import {
  cancelOutboxRow,
  findOutboxRow,
  replayDeadRows,
  retryKeptRows,
  retryOutboxRow,
  type AdminOutcome,
} from '../store/outbox-admin.js';
import { listOutbox } from '../store/queries.js';
import { contextOf, displayZone, withStore } from './context.js';
import { CliError } from './errors.js';
import { formatPairs, formatTime, iso, print, printJson, table, truncate } from './output.js';
import { parsePositiveInt } from './parse.js';

/**
 * `stageflow outbox list`: the side effects the rules queued, and how their delivery is going;
 * `outbox message ID`: a mail kept as an .eml file (SMTP_URL unset), as it would have been sent;
 * `outbox retry|cancel ID`, `outbox retry --kept` and `outbox replay-dead`: an admin's hand on
 * delivery, audited as in the API.
 */

function orRefuse(outcome: AdminOutcome): void {
  if (!outcome.ok) throw new CliError(outcome.refusal.message);
}

interface ListOptions {
  status?: string;
  kind?: string;
  lead?: string;
  allSeries?: boolean;
  limit: string;
}

export function outboxCommands(program: Command): void {
  const outbox = program.command('outbox').description('side effects queued for delivery');
  outbox
    .command('list')
    .description('outbox rows, oldest first')
    .addOption(
      new Option('--status <status>', 'only rows in this state').choices([
        'pending',
        'sending',
        'sent',
        'kept',
        'failed',
        'dead',
        'cancelled',
      ]),
    )
    .option('--kind <kind>', 'email, list.subscribe, webhook, task.reminder, ...')
    .option('--lead <id>', 'rows of the lead now under this id')
    .option('--all-series', 'with --lead: also the rows of deleted leads that had the id before (series column)')
    .option('--limit <n>', 'at most this many', '200')
    .action(async (opts: ListOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = parsePositiveInt(opts.limit, '--limit');
      await withStore(ctx, async (store) => {
        const rows = await listOutbox(store.db, {
          ...(opts.status !== undefined ? { status: opts.status } : {}),
          ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
          ...(opts.lead !== undefined ? { lead: opts.lead } : {}),
          series: opts.allSeries ? 'all' : 'current',
          limit,
        });
        if (ctx.json)
          return printJson(
            rows.map((r) => ({
              ...r,
              createdAt: iso(r.createdAt),
              nextAttemptAt: iso(r.nextAttemptAt),
              lastAttemptAt: r.lastAttemptAt === null ? null : iso(r.lastAttemptAt),
            })),
          );
        if (rows.length === 0)
          return print(
            opts.lead !== undefined && !opts.allSeries ? `no outbox rows of lead "${opts.lead}"` : 'outbox is empty',
          );
        const zone = await displayZone(store);
        const lines = rows.map((r) => {
          // Payload times are epoch ms (dueAt, since); shown as ISO so a person can read them.
          const payload = Object.fromEntries(
            Object.entries(r.payload)
              .filter(([k]) => k !== 'lead')
              .map(([k, v]) => [k, typeof v === 'number' && /(At|since)$/.test(k) ? iso(v) : v]),
          );
          return [
            r.id,
            ...(opts.allSeries ? [r.series === null ? '-' : String(r.series)] : []),
            r.kind,
            r.status,
            String(r.attempts),
            formatTime(r.createdAt, zone),
            r.lastAttemptAt === null ? '-' : formatTime(r.lastAttemptAt, zone),
            // When the worker tries a waiting row next (a failed one after its backoff).
            r.status === 'pending' || r.status === 'failed' ? formatTime(r.nextAttemptAt, zone) : '-',
            truncate(formatPairs(payload), 80),
            truncate(r.lastError ?? r.detail ?? '', 80),
          ];
        });
        const header = [
          'id',
          ...(opts.allSeries ? ['series'] : []),
          'kind',
          'status',
          'tries',
          'queued',
          'last try',
          'next try',
          'payload',
          'outcome',
        ];
        for (const line of table([header, ...lines])) print(line);
      });
    });

  outbox
    .command('message')
    .description('print a mail kept as an .eml file (SMTP_URL unset) as it would have been sent')
    .argument('<id>', 'outbox row id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withStore(contextOf(cmd), async (store) => {
        const row = await findOutboxRow(store.db, id);
        if (!row) throw new CliError(`no outbox row "${id}"`);
        let kept: Awaited<ReturnType<typeof readKeptMessage>>;
        try {
          kept = await readKeptMessage(row.detail);
        } catch (e) {
          throw new CliError(`cannot read the file outbox row "${id}" was kept as: ${(e as Error).message}`);
        }
        if (!kept)
          throw new CliError(
            `outbox row "${id}" (${row.kind}, ${row.status}) was not kept as a file: only mail the worker wrote while SMTP_URL was unset is`,
          );
        process.stdout.write(kept.text);
      });
    });

  outbox
    .command('retry')
    .description(
      'deliver a pending, failed, dead or kept row again now; --kept: every mail kept as a file while SMTP_URL was unset',
    )
    .argument('[id]', 'outbox row id')
    .option('--kept', 'every kept row (for a worker that has SMTP_URL now)')
    .option('--kind <kind>', 'with --kept: only rows of this kind')
    .option('--lead <id>', 'with --kept: only rows of this lead')
    .action(async (id: string | undefined, opts: { kept?: boolean; kind?: string; lead?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const actor = ctx.actor.id ?? 'cli';
      if (opts.kept === true) {
        if (id !== undefined) throw new CliError('give either an outbox row id or --kept, not both');
        const retried = await withStore(ctx, (store) =>
          withTransaction(store, async (tx) => {
            const n = await retryKeptRows(tx, ctx.now, { kind: opts.kind, lead: opts.lead });
            const details = {
              rows: n,
              ...(opts.kind ? { kind: opts.kind } : {}),
              ...(opts.lead ? { lead: opts.lead } : {}),
            };
            await appendAudit(tx, { actor, action: 'outbox.kept_retried', target: null, details }, ctx.now);
            return n;
          }),
        );
        if (ctx.json) return printJson({ retried });
        return print(
          `queued ${retried} kept row(s) for delivery now (a worker without SMTP_URL keeps them as files again)`,
        );
      }
      if (id === undefined) throw new CliError('give an outbox row id, or --kept for every kept row');
      if (opts.kind !== undefined || opts.lead !== undefined) throw new CliError('--kind and --lead go with --kept');
      await withStore(ctx, (store) =>
        withTransaction(store, async (tx) => {
          orRefuse(await retryOutboxRow(tx, id, ctx.now));
          await appendAudit(tx, { actor, action: 'outbox.retried', target: id, details: {} }, ctx.now);
        }),
      );
      print(`queued ${id} for delivery now`);
    });

  outbox
    .command('cancel')
    .description('stop a pending, failed or dead row for good: it is never delivered')
    .argument('<id>', 'outbox row id')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const by = ctx.actor.id ?? 'cli';
        orRefuse(await cancelOutboxRow(store.db, id, by, ctx.now));
        await appendAudit(store.db, { actor: by, action: 'outbox.cancelled', target: id, details: {} }, ctx.now);
        print(`cancelled ${id}: it will not be delivered`);
      });
    });

  outbox
    .command('replay-dead')
    .description(
      'give dead rows another round: those that ran out of tries or died of the configuration (final refusals, such as a bounced address, only with --all)',
    )
    .option('--kind <kind>', 'only rows of this kind')
    .option('--lead <id>', 'only rows of this lead')
    .option('--all', 'also rows parked on a final answer, which will most likely meet it again')
    .action(async (opts: { kind?: string; lead?: string; all?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const r = await replayDeadRows(store.db, ctx.now, { kind: opts.kind, lead: opts.lead, all: opts.all === true });
        await appendAudit(
          store.db,
          {
            actor: ctx.actor.id ?? 'cli',
            action: 'outbox.replayed',
            target: null,
            details: {
              rows: r.replayed,
              ...(opts.kind ? { kind: opts.kind } : {}),
              ...(opts.lead ? { lead: opts.lead } : {}),
              all: opts.all === true,
            },
          },
          ctx.now,
        );
        if (ctx.json) return printJson(r);
        print(
          `replayed ${r.replayed} dead row(s)` +
            (r.skipped > 0 ? `; left ${r.skipped} final refusal(s) dead (--all replays them too)` : ''),
        );
      });
    });
}
