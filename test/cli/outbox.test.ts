import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { buildDeliverers, deliveryWarnings } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { openStore } from '../../src/store/db.js';
import { startSmtp, smtpRefusal } from '../support/smtp.js';
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
    expect(row?.status).toBe('kept');
    expect(row?.detail).toMatch(/^not sent \(SMTP_URL is unset\): kept as .*\.eml$/);
    const shown = ok(await cli(['outbox', 'message', id])).stdout;
    expect(shown).toMatch(/^Subject: Welcome$/m);
    expect(shown).toMatch(/^To: .*a1@example\.com/m);
    expect(shown).toContain('Hello from the team');

    const unknown = await cli(['outbox', 'message', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no outbox row "nope"/);
  });

  it('is sent once SMTP_URL is set: `outbox retry ID` and `outbox retry --kept` queue kept rows again', async () => {
    const { db, cli, id } = await withQueuedMail();
    ok(await cli(['lead', 'create', '--id', 'A2', '--field', 'email=a2@example.com']));
    ok(await cli(['task', 'complete', 'call', '--lead', 'A2']));
    await deliver(db, { MAIL_DIR: mkdtempSync(join(tmpdir(), 'stageflow-kept-')) });
    const kept = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--status', 'kept'])).stdout) as {
      id: string;
    }[];
    expect(kept.map((r) => r.id)).toHaveLength(2);
    const other = kept.find((r) => r.id !== id)?.id ?? '';

    const smtp = await startSmtp();
    try {
      expect(ok(await cli(['outbox', 'retry', id])).stdout).toBe(`queued ${id} for delivery now\n`);
      await deliver(db, { SMTP_URL: smtp.url });
      expect(smtp.received).toHaveLength(1);
      expect(smtp.received[0]?.raw).toContain('a1@example.com');
      expect(ok(await cli(['outbox', 'retry', '--kept'])).stdout).toMatch(/^queued 1 kept row\(s\) for delivery now/);
      await deliver(db, { SMTP_URL: smtp.url });
      expect(smtp.received).toHaveLength(2);
      expect(smtp.received[1]?.raw).toContain('a2@example.com');
    } finally {
      await smtp.close();
    }
    const sent = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--status', 'sent'])).stdout) as {
      id: string;
      detail: string;
    }[];
    expect(sent.map((r) => r.id).sort()).toEqual([id, other].sort());
    expect(sent.every((r) => !r.detail.startsWith('not sent'))).toBe(true);
    const both = await cli(['outbox', 'retry', id, '--kept']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/either an outbox row id or --kept, not both/);
    // A dozen CLI runs, each a process of its own.
  }, 240_000);

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

describe('outbox list', () => {
  it('shows when a failed row is tried next', async () => {
    const { db, cli, id } = await withQueuedMail();
    // A mail server that is down: the try fails and the row waits for its backoff (30 s ± 20 %).
    await deliver(db, { SMTP_URL: 'smtp://127.0.0.1:9/' }, Date.parse('2026-03-02T09:05:00Z'));
    const lines = ok(await cli(['outbox', 'list', '--status', 'failed'])).stdout.split('\n');
    expect(lines[0]).toMatch(/last try +next try/);
    const line = lines.find((l) => l.startsWith(id)) ?? '';
    expect(line).toMatch(/ failed +1 +.*2026-03-02 09:05 \+00:00 +2026-03-02 09:05 \+00:00 /);
  });
});

describe('an admin’s hand on the outbox from the command line', () => {
  it('cancels a queued row, refuses to retry it with the reason, and lists it under --status cancelled', async () => {
    const { cli, id } = await withQueuedMail();
    expect(ok(await cli(['outbox', 'cancel', id])).stdout).toMatch(/^cancelled A1:.*: it will not be delivered/);
    const listed = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--status', 'cancelled'])).stdout) as {
      id: string;
      lastError: string;
    }[];
    expect(listed).toEqual([
      expect.objectContaining({ id, lastError: expect.stringMatching(/^cancelled by cli at /) }),
    ]);
    const again = await cli(['outbox', 'retry', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is cancelled \(cancelled by cli .*\) and cannot be retried/);
    ok(await cli(['outbox', 'list', '--status', 'sending']));
    const audit = ok(await cli(['--json', 'audit', 'list'])).stdout;
    expect(audit).toContain('outbox.cancelled');
  });

  it('retries a failed row now and replays dead rows, leaving a bounce dead unless --all', async () => {
    const { db, cli, id } = await withQueuedMail();
    // A mail server that refuses the recipient for good: the row is parked dead on a final answer.
    const smtp = await startSmtp({
      onRcptTo(_a, _s, callback) {
        callback(smtpRefusal(550, 'Mailbox unavailable'));
      },
    });
    try {
      await deliver(db, { SMTP_URL: smtp.url });
    } finally {
      await smtp.close();
    }
    const dead = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--status', 'dead'])).stdout) as { id: string }[];
    expect(dead.map((r) => r.id)).toEqual([id]);
    expect(ok(await cli(['outbox', 'replay-dead'])).stdout).toMatch(
      /^replayed 0 dead row\(s\); left 1 final refusal\(s\) dead \(--all replays them too\)/,
    );
    expect(ok(await cli(['outbox', 'replay-dead', '--all'])).stdout).toMatch(/^replayed 1 dead row\(s\)$/m);
    expect(ok(await cli(['outbox', 'retry', id])).stdout).toMatch(/^queued A1:.* for delivery now/);
    const unknown = await cli(['outbox', 'cancel', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no outbox row "nope"/);
  });
});

describe('outbox list --lead of an id taken again', () => {
  it('lists the rows of the lead now under the id, and the deleted lead’s too only with --all-series', async () => {
    const { cli, id: deletedMail } = await withQueuedMail();
    ok(await cli(['lead', 'delete', 'A1', '--yes']));
    ok(await cli(['lead', 'create', '--id', 'A1', '--field', 'email=other@example.com']));
    ok(await cli(['task', 'complete', 'call', '--lead', 'A1']));
    type Listed = { id: string; series: number | null; payload: { to?: string } };
    const current = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--lead', 'A1'])).stdout) as Listed[];
    expect(current.length).toBeGreaterThan(0);
    expect(current.every((r) => r.series === 2)).toBe(true);
    expect(current.map((r) => r.id)).not.toContain(deletedMail);
    const all = JSON.parse(
      ok(await cli(['--json', 'outbox', 'list', '--lead', 'A1', '--all-series'])).stdout,
    ) as Listed[];
    expect(all.find((r) => r.id === deletedMail)?.series).toBe(1);
    expect(all.length).toBe(current.length + all.filter((r) => r.series !== 2).length);
    const table = ok(await cli(['outbox', 'list', '--lead', 'A1', '--all-series'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^id +series +kind /);
    expect(ok(await cli(['outbox', 'list', '--lead', 'B9'])).stdout).toMatch(/^no outbox rows of lead "B9"$/m);
    // Once no lead has the id, its rows are all a deleted lead's, and listed as such.
    ok(await cli(['lead', 'delete', 'A1', '--yes']));
    const orphaned = JSON.parse(ok(await cli(['--json', 'outbox', 'list', '--lead', 'A1'])).stdout) as Listed[];
    expect(orphaned.map((r) => r.id)).toContain(deletedMail);
  }, 480_000);
});
