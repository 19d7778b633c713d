import type { Command } from 'commander';
import { latestProcess } from '../store/processes.js';
import { boardData } from '../store/queries.js';
import { renderBoard } from './board-render.js';
import { contextOf, withStore } from './context.js';
import { print, printJson } from './output.js';

/** `stageflow board`: the live pipeline board of the database. */

export function boardCommand(program: Command): void {
  program
    .command('board')
    .description('the pipeline board: stages in order with their open leads, owners and open tasks')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      await withStore(ctx, async (store) => {
        const [data, current] = await Promise.all([boardData(store.db), latestProcess(store.db)]);
        if (ctx.json) return printJson({ processVersion: current?.version ?? null, ...data });
        for (const line of renderBoard({ ...data, process: current?.process ?? null })) print(line);
      });
    });
}
