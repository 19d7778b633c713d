import type { Command } from 'commander';
import { listAudit } from '../store/audit.js';
import { contextOf, displayZone, withStore } from './context.js';
import { formatPairs, formatTime, iso, print, printJson, table, truncate } from './output.js';
import { parsePositiveInt } from './parse.js';

/** `stageflow audit list`: who exported, erased or imported what, newest first. */

interface ListOptions {
  action?: string;
  limit: string;
}

export function auditCommands(program: Command): void {
  const audit = program.command('audit').description('the audit log: exports, erasures, imports');
  audit
    .command('list')
    .description('audit entries, newest first')
    .option('--action <action>', 'only this action, e.g. export, contact.export, contact.erase')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (opts: ListOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const limit = parsePositiveInt(opts.limit, '--limit');
      await withStore(ctx, async (store) => {
        const rows = await listAudit(store.db, {
          ...(opts.action !== undefined ? { action: opts.action } : {}),
          limit,
        });
        if (ctx.json) return printJson(rows.map((r) => ({ ...r, at: iso(r.at) })));
        if (rows.length === 0) return print('audit log is empty');
        const zone = await displayZone(store);
        const lines = rows.map((r) => [
          formatTime(r.at, zone),
          r.actor,
          r.action,
          r.target ?? '-',
          truncate(formatPairs(r.details), 100),
        ]);
        for (const line of table([['at', 'actor', 'action', 'target', 'details'], ...lines])) print(line);
      });
    });
}
