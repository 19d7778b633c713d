import type { Command } from 'commander';
import type { HandoverTarget } from '../domain/handover.js';
import { Engine } from '../engine/engine.js';
import { handOver, HandoverRefused, type HandoverResult, type SubmitMany } from '../engine/handover.js';
import { contextOf, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print, printJson } from './output.js';

/** `stageflow user handover`: everything a leaving rep has open, handed to a colleague or to the rules. */

interface HandoverOptions {
  to?: string;
  rules?: boolean;
  yes?: boolean;
}

function targetOf(opts: HandoverOptions): HandoverTarget {
  if (opts.to !== undefined && opts.rules === true)
    throw new UsageError('user handover: give --to USER or --rules, not both');
  if (opts.to !== undefined) return { kind: 'user', user: opts.to };
  if (opts.rules === true) return { kind: 'rules' };
  throw new UsageError(
    'user handover: say who takes over: --to USER (one person) or --rules (the assignment rules place each lead)',
  );
}

function describe(r: HandoverResult): string {
  if (r.leads.length + r.tasks.length + r.kept.length === 0) return `${r.from} has no open leads or tasks to hand over`;
  const whom = r.to === null ? 'the owners the assignment rules choose' : r.to;
  const what = `${plural(r.leads.length, 'open lead')} and ${plural(r.tasks.length, 'open task')} of ${r.from}`;
  return r.dryRun
    ? `would hand ${what} to ${whom}${r.to === null ? ' (who gets each one is decided when it is handed over)' : ''}; nothing was changed: add --yes to do it`
    : `handed ${what} to ${whom}`;
}

export function handoverCommand(user: Command): void {
  user
    .command('handover')
    .description(
      "hand all of a person's open leads and tasks to a colleague (--to) or to the assignment rules (--rules), e.g. when they leave",
    )
    .argument('<user>', 'the user whose open work moves')
    .option('--to <user>', 'the one person who takes everything over')
    .option('--rules', 'run the assignment rules again for each lead (the person must be inactive or out of office)')
    .option('--yes', 'really hand over (without it, say what would move)')
    .action(async (from: string, opts: HandoverOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const target = targetOf(opts);
      await withStore(ctx, async (store) => {
        const engine = new Engine(store);
        const submitMany: SubmitMany = (events) => engine.handleMany(events.map((e) => ({ ...e, at: ctx.now })));
        const result = await handOver(store, submitMany, {
          from,
          target,
          actor: ctx.actor,
          by: ctx.actor.id ?? 'cli',
          now: ctx.now,
          dryRun: opts.yes !== true,
        }).catch((e: unknown) => {
          throw e instanceof HandoverRefused ? new CliError(`user handover: ${e.message}. Nothing was changed.`) : e;
        });
        if (ctx.json) return printJson(result);
        print(describe(result));
        if (result.kept.length > 0) {
          print(`kept by ${from}: ${plural(result.kept.length, 'item')}`);
          for (const k of result.kept) print(`  ${k.task ?? k.lead}  ${k.code}: ${k.message}`);
        }
      });
    });
}
