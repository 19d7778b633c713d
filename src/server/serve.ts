import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';
import { Engine } from '../engine/engine.js';
import { applyProcess } from '../engine/process-service.js';
import { buildApp, type App } from '../http/app.js';
import { newSecret, secretHash, SETUP_PREFIX } from '../auth/secrets.js';
import { openStore, withTransaction, type Store } from '../store/db.js';
import { memberCount } from '../store/members.js';
import { latestProcess } from '../store/processes.js';
import { insertSetupToken } from '../store/setup-tokens.js';
import { buildDeliverers, deliveryWarnings } from '../integrations/index.js';
import { startWorker } from './worker.js';

/**
 * `stageflow serve`: open (and migrate) the database, apply a starting process if asked and none
 * exists, print a one-time setup link while nobody can sign in, listen, and in the embedded
 * default run the worker in the same process. Stops cleanly on SIGINT/SIGTERM.
 */

export interface ServeOptions {
  config: Config;
  /** A process file applied when the database has no process yet (the README's first command). */
  seedProcess?: string | undefined;
  print: (line: string) => void;
}

export interface Running {
  app: App;
  store: Store;
  url: string;
  stop(): Promise<void>;
}

const SETUP_LINK_MS = 24 * 3_600_000;

export async function serve(o: ServeOptions): Promise<Running> {
  const { config } = o;
  const store = await openStore(config.DATABASE_URL);
  const now = () => Date.now();
  if (o.seedProcess && !(await latestProcess(store.db))) {
    const r = await applyProcess(store, readFileSync(o.seedProcess, 'utf8'), now(), 'serve --seed-process');
    o.print(`applied ${o.seedProcess} as process version ${r.version}`);
  }
  const session = {
    idleMs: config.SESSION_IDLE_MINUTES * 60_000,
    absoluteMs: config.SESSION_ABSOLUTE_HOURS * 3_600_000,
  };
  const app = await buildApp({
    store,
    now,
    session,
    trustProxy: config.TRUST_PROXY,
    logger: {
      level: config.LOG_LEVEL,
      // Never the query string (a setup link's token) nor headers (cookies, tokens) in the log.
      serializers: {
        req: (req: { method: string; url: string }) => ({ method: req.method, url: req.url.split('?')[0] }),
      },
    },
  });
  await app.listen({ host: config.HOST, port: config.PORT });
  const shownHost = config.HOST === '0.0.0.0' || config.HOST === '127.0.0.1' ? 'localhost' : config.HOST;
  const url = `http://${shownHost}:${config.PORT}`;
  o.print(`Stageflow is listening on ${url} (database: ${store.location})`);
  o.print(`  API reference: ${url}/docs    OpenAPI: ${url}/openapi.json`);
  if ((await memberCount(store.db)) === 0) {
    const secret = newSecret(SETUP_PREFIX);
    await withTransaction(store, (tx) => insertSetupToken(tx, secretHash(secret), now(), now() + SETUP_LINK_MS));
    o.print('');
    o.print('No one can sign in yet. Create the first admin, either in a browser (this link works once, for 24 h):');
    o.print(`  ${url}/setup?token=${secret}`);
    o.print('or on the command line:');
    o.print(
      "  echo 'a long passphrase' | npm run -s stageflow -- user create --role admin --email you@example.com --name 'Your Name' --password-stdin",
    );
    o.print('');
  }
  const delivery = config.EMBEDDED_WORKER ? buildDeliverers(config) : null;
  if (delivery) for (const w of deliveryWarnings(config)) o.print(`warning: ${w}`);
  const worker = delivery
    ? startWorker(store, new Engine(store), {
        intervalMs: 5_000,
        deliverers: delivery.deliverers,
        sessionIdleMs: session.idleMs,
        now,
        onError: (e) => app.log.error({ err: e }, 'worker round failed'),
        onBusy: (e) =>
          app.log.warn({ err: e }, 'worker round put off: the database is busy; the next round tries again'),
        onFired: (n) => app.log.info({ fired: n }, 'timers fired'),
        onDeliveryFailure: (f) =>
          f.outcome === 'dead'
            ? app.log.error({ outbox: f }, 'outbox delivery parked as dead')
            : app.log.warn({ outbox: f }, 'outbox delivery failed; will retry'),
      })
    : null;
  return {
    app,
    store,
    url,
    async stop() {
      await worker?.stop();
      await delivery?.close();
      await app.close();
      await store.close();
    },
  };
}
