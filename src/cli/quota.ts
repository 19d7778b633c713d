import type { Command } from 'commander';
import { extname } from 'node:path';
import type { Process } from '../domain/process-schema.js';
import { checkQuota, isPeriodKey, parseQuotaFile } from '../domain/quotas.js';
import { withTransaction, type Store } from '../store/db.js';
import { latestProcess } from '../store/processes.js';
import { importQuotasAudited, listQuotas, setQuotaAudited } from '../store/quotas.js';
import { contextOf, readText, withStore } from './context.js';
import { CliError, UsageError } from './errors.js';
import { plural, print, printJson, table } from './output.js';

/** `stageflow quota set|list|import`: quotas per rep or team and period (see `report quota`). */

async function currentProcess(store: Store): Promise<Process> {
  const current = await latestProcess(store.db);
  if (!current) throw new CliError('no process has been applied yet: run `stageflow process apply FILE` first');
  return current.process;
}

const money = (minor: number): string => (minor / 100).toLocaleString('en', { maximumFractionDigits: 2 });

export function quotaCommands(program: Command): void {
  const quota = program.command('quota').description('quotas per rep or team and period');

  quota
    .command('set')
    .description('set the quota of a rep (USER PERIOD AMOUNT) or a team (--team TEAM PERIOD AMOUNT)')
    .argument(
      '<args...>',
      'USER PERIOD AMOUNT, or with --team: PERIOD AMOUNT; PERIOD 2026-11 or 2026-Q4, AMOUNT in major units',
    )
    .option('--team <team>', 'a team id or name instead of a user')
    .action(async (args: string[], opts: { team?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const expected = opts.team === undefined ? 3 : 2;
      if (args.length !== expected)
        throw new UsageError(
          opts.team === undefined
            ? 'quota set takes USER PERIOD AMOUNT (or --team TEAM PERIOD AMOUNT)'
            : 'with --team, quota set takes PERIOD AMOUNT',
        );
      const [subject, period, amount] = opts.team === undefined ? args : [opts.team, ...args];
      await withStore(ctx, async (store) => {
        const process = await currentProcess(store);
        const checked = checkQuota(process, {
          scope: opts.team === undefined ? 'user' : 'team',
          subject,
          period,
          amount,
        });
        if (!checked.ok) throw new CliError(checked.problems.join('; '));
        const q = checked.quota;
        await withTransaction(store, (tx) => setQuotaAudited(tx, { ...q, setBy: ctx.actor.id ?? 'cli' }, ctx.now));
        if (ctx.json) return printJson({ ...q, amount: q.amountMinor / 100 });
        print(`quota of ${q.scope} ${q.subject} for ${q.period}: ${money(q.amountMinor)}`);
      });
    });

  quota
    .command('list')
    .description('quotas, by period')
    .option('--period <key>', 'only this period (2026-11 or 2026-Q4)')
    .action(async (opts: { period?: string }, cmd: Command) => {
      const ctx = contextOf(cmd);
      if (opts.period !== undefined && !isPeriodKey(opts.period))
        throw new UsageError(`--period must be a month (2026-11) or a quarter (2026-Q4), not "${opts.period}"`);
      await withStore(ctx, async (store) => {
        const rows = await listQuotas(store.db, opts.period === undefined ? {} : { period: opts.period });
        if (ctx.json)
          return printJson(
            rows.map((q) => ({
              scope: q.scope,
              subject: q.subject,
              period: q.period,
              amount: q.amountMinor / 100,
              set_by: q.setBy,
              set_at: new Date(q.setAt).toISOString(),
            })),
          );
        if (rows.length === 0) return print('no quotas set');
        const lines = rows.map((q) => [q.period, q.scope, q.subject, money(q.amountMinor)]);
        for (const line of table([['period', 'scope', 'subject', 'amount'], ...lines])) print(line);
      });
    });

  quota
    .command('import')
    .description('set quotas from a CSV or YAML file (subject, period, amount, optional scope); all or nothing')
    .argument('<file>', 'a .csv file with a header, or a .yaml/.yml/.json list of records')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const ext = extname(file).toLowerCase();
      const format = ext === '.csv' ? 'csv' : ['.yaml', '.yml', '.json'].includes(ext) ? 'yaml' : null;
      if (format === null) throw new UsageError(`${file}: expected a .csv, .yaml, .yml or .json file`);
      const text = readText(file);
      await withStore(ctx, async (store) => {
        const process = await currentProcess(store);
        const parsed = parseQuotaFile(text, format, process);
        if (!parsed.ok)
          throw new CliError(
            `${file}: ${plural(parsed.problems.length, 'problem')}, nothing imported`,
            1,
            parsed.problems.map((p) => `${p.line === null ? file : `line ${p.line}`}: ${p.message}`),
          );
        const setBy = ctx.actor.id ?? 'cli';
        await withTransaction(store, (tx) =>
          importQuotasAudited(
            tx,
            parsed.quotas.map((q) => ({
              scope: q.scope,
              subject: q.subject,
              period: q.period,
              amountMinor: q.amountMinor,
              setBy,
            })),
            setBy,
            ctx.now,
          ),
        );
        if (ctx.json) return printJson({ imported: parsed.quotas.length });
        print(`${plural(parsed.quotas.length, 'quota')} set`);
      });
    });
}
