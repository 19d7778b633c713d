import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { PROBLEM_BASE } from '../../src/http/problem.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * An import of a file another run is writing right now (its lease live, here another machine's)
 * answers 409 conflict `import_running` naming that run: a state to wait for, not a fault of the
 * request (422), and nothing is written.
 */

const CSV = [
  'Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,Deal - Deal created',
  '501,Acme deal,12500,Qualified,Sales,Anna A1,open,2026-01-05 09:15:00',
  '502,Initech pilot,3000,New,Sales,Arno A2,open,2026-02-01 13:45:10',
].join('\n');

let server: TestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('an import of a file being imported right now, over HTTP', () => {
  it('answers 409 import_running, naming the live run', async () => {
    server = await startServer('sqlite');
    const s = server.store;
    const admin = await tokenFor(server, 'admin');
    // A run of the same file stopped as it began writing, then leased by another machine's process.
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-running-')), 'upload.csv');
    writeFileSync(path, CSV);
    const stop = new AbortController();
    await runImport(s, {
      format: 'pipedrive',
      path,
      dryRun: false,
      skipInvalid: false,
      now: server.clock.now,
      actor: { kind: 'import', id: 'admin' },
      signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'writing') stop.abort();
      },
    }).catch(() => null);
    const [run] = await s.db.selectFrom('import_runs').select('id').execute();
    expect(run).toBeDefined();
    const options = JSON.stringify({
      skipInvalid: false,
      leaseOwner: 'another-host/4242/x',
      leaseUntil: Date.now() + 60_000,
    });
    await s.db.updateTable('import_runs').set({ options }).where('id', '=', run!.id).execute();

    const r = await call(server, 'POST', '/api/v1/imports/pipedrive', {
      token: admin,
      headers: { 'content-type': 'text/csv' },
      body: CSV,
    });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ type: `${PROBLEM_BASE}conflict`, code: 'import_running' });
    expect((r.body as { detail: string }).detail).toContain(`being imported right now by run ${run!.id}`);
    expect(await s.db.selectFrom('leads').select('id').execute()).toEqual([]);
  });
});
