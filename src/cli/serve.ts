import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { Engine } from '../engine/engine.js';
import { buildDeliverers, deliveryWarnings } from '../integrations/index.js';
import { serve } from '../server/serve.js';
import { describeFailure } from '../server/deliver-outbox.js';
import { startWorker, type WorkerOptions } from '../server/worker.js';
import { openStore } from '../store/db.js';
import { requireExistingDatabase } from './context.js';
import { print } from './output.js';

/** `stageflow serve` (the API, with the worker inside by default) and `stageflow worker` (the worker alone). */

function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      void stop().then(resolve);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export function serveCommands(program: Command): void {
  program
    .command('serve')
    .description('run the HTTP API (and, unless EMBEDDED_WORKER=false, the scheduler) until stopped')
    .option('--seed-process <file>', 'apply this process file if the database has none yet')
    .action(async (opts: { seedProcess?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ db?: string }>();
      const config = loadConfig(g.db ? { ...process.env, DATABASE_URL: g.db } : process.env);
      const running = await serve({ config, seedProcess: opts.seedProcess, print });
      await untilSignal(running.stop);
    });

  program
    .command('worker')
    .description(
      'run the scheduler and outbox delivery alone (timers, mail, webhooks, forecast snapshots, expiry), for deployments with separate API processes',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<{ db?: string }>();
      const config = loadConfig(g.db ? { ...process.env, DATABASE_URL: g.db } : process.env);
      // The worker only works on data `serve` or `migrate` set up: a mistyped path must not start it on an empty file.
      requireExistingDatabase(config.DATABASE_URL);
      const store = await openStore(config.DATABASE_URL);
      const delivery = buildDeliverers(config);
      const worker = startWorker(store, new Engine(store), {
        intervalMs: 5_000,
        deliverers: delivery.deliverers,
        sessionIdleMs: config.SESSION_IDLE_MINUTES * 60_000,
        now: () => Date.now(),
        ...workerReports(print),
        onFired: (n) => print(`${n} timer(s) fired`),
        onDeliveryFailure: (f) => print(describeFailure(f)),
      });
      print(`worker running on ${store.location}`);
      for (const w of deliveryWarnings(config)) print(`warning: ${w}`);
      await untilSignal(async () => {
        await worker.stop();
        await delivery.close();
        await store.close();
      });
    });
}

/**
 * How `stageflow worker` reports a round that went wrong: a round put off because another process
 * held SQLite's write lock (an import's batch) lost nothing and is retried, so it is not a failure.
 */
export function workerReports(out: (line: string) => void): Pick<WorkerOptions, 'onError' | 'onBusy'> {
  return {
    onError: (e) => out(`worker round failed: ${(e as Error).message}`),
    onBusy: (e) => out(`worker round put off: ${e.message}; the next round tries again`),
  };
}
