import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { buildDeliverers, deliveryWarnings } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { openStore } from '../../src/store/db.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/** `stageflow outbox`: reading what was queued and kept, and an admin's hand on the rows. */

const ok = (r: CliResult): CliResult => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

/** A database with lead A1 in Demo, whose welcome mail is queued as row A1's email. */
async function withQueuedMail() {
  const db = await freshDatabaseUrl('sqlite');
  const cli = session(db);
  ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
  ok(await cli(['lead', 'create', '--id', 'A1', '--field', 'email=a1@example.com']));
  ok(await cli(['task', 'complete', 'call', '--lead', 'A1']));
  const rows = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--kind', 'email'])).stdout) as { id: string }[];
  const id = rows[0]?.id ?? '';
  expect(id).toMatch(/^A1:/);
  return { db, cli, id };
}

/** One worker round on the database, in this process, with the given environment. */
async function deliver(db: string, env: Record<string, string>, at = Date.parse('2026-03-02T09:05:00Z')) {
  const store = await openStore(db);
  const d = buildDeliverers(loadConfig({ ...env, DATABASE_URL: db }));
  try {
    await workOnce(store, new Engine(store), { deliverers: d.deliverers, now: () => at, sessionIdleMs: 60_000 });
  } finally {
    await d.close();
    await store.close();
  }
}

describe('mail kept as .eml files (SMTP_URL unset)', () => {
  it('is recorded as kept, not sent, and `outbox message` prints it', async () => {
    const { db, cli, id } = await withQueuedMail();
    const mailDir = mkdtempSync(join(tmpdir(), 'stageflow-kept-'));
    await deliver(db, { MAIL_DIR: mailDir });
    const [row] = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--kind', 'email'])).stdout) as {
      status: string;
      detail: string;
    }[];
    expect(row?.status).toBe('sent');
    expect(row?.detail).toMatch(/^not sent \(SMTP_URL is unset\): kept as .*\.eml$/);
    const shown = ok(await cli(['outbox', 'message', id])).stdout;
    expect(shown).toMatch(/^Subject: Welcome$/m);
    expect(shown).toMatch(/^To: .*a1@example\.com/m);
    expect(shown).toContain('Hello from the team');

    const unknown = await cli(['outbox', 'message', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no outbox row "nope"/);
  });

  it('is announced when a worker starts without SMTP_URL', () => {
    const warnings = deliveryWarnings(loadConfig({ MAIL_DIR: '/srv/mail' }));
    expect(warnings[0]).toMatch(/^SMTP_URL is unset: no mail leaves this machine; .*under \/srv\/mail/);
    expect(
      deliveryWarnings(
        loadConfig({ SMTP_URL: 'smtp://mail.example:25', WEBHOOK_SECRET: 'x', MAILCHIMP_API_KEY: 'k-us1' }),
      ),
    ).toEqual([]);
  });
});
