import type { Command } from 'commander';
import { Engine } from '../engine/engine.js';
import { takePeriodStartSnapshots } from '../engine/forecast-scheduler.js';
import { fireTimers } from '../engine/scheduler.js';
import { contextOf, withStore } from './context.js';
import { plural, print, printJson } from './output.js';

/** `stageflow tick`: the scheduler by hand (or from cron): fire every timer due by --now. */

export function tickCommand(program: Command): void {
  program
    .command('tick')
    .description('fire every timer due by now (task due, task overdue, stage stalled)')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const fired = await fireTimers(new Engine(store), ctx.now, 'until');
        await takePeriodStartSnapshots(store, ctx.now);
        if (ctx.json) return printJson({ fired, at: new Date(ctx.now).toISOString() });
        print(`${plural(fired, 'timer')} fired`);
      });
    });
}
