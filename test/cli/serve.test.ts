import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README's path for a newcomer, with real processes: `stageflow serve --seed-process` on an
 * empty SQLite file prints a setup link; the link's form creates the first admin once; then
 * `stageflow user create` makes a rep, who signs in and sees the lead the rules gave them.
 */

const root = join(import.meta.dirname, '..', '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The CLI with a password on standard input, as `--password-stdin` expects it. */
function withStdin(
  args: readonly string[],
  input: string,
): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env['DATABASE_URL'];
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
      cwd: root,
      env,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function startServe(db: string, port: number) {
  const env = { ...process.env, DATABASE_URL: db, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'serve', '--seed-process', 'examples/b2b-saas.process.yaml'],
    {
      cwd: root,
      env,
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 200 && !/listening on/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
  // The setup link is printed just after the listening line.
  for (
    let i = 0;
    i < 50 && !/No one can sign in/.test(out) && !/API reference/.test(out.split('listening on')[1] ?? '');
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300));
  return {
    output: () => out,
    stop: () =>
      new Promise<number | null>((resolve) => {
        child.on('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

describe('stageflow serve', () => {
  it('starts on an empty SQLite file, prints a one-time setup link, and the newcomer path works', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'stageflow-serve-')), 'data', 'stageflow.db');
    const port = await freePort();
    const server = await startServe(db, port);
    try {
      const out = server.output();
      expect(out).toMatch(/applied examples\/b2b-saas\.process\.yaml as process version 1/);
      const link = /(http:\/\/localhost:\d+\/setup\?token=(sf_setup_[\w-]+))/.exec(out);
      expect(link?.[2]).toBeDefined();
      const base = `http://127.0.0.1:${port}`;
      const form = await fetch(`${base}/setup?token=${link?.[2] ?? ''}`);
      expect(await form.text()).toMatch(/<form method="post" action="\/setup">/);

      const post = (password: string) =>
        fetch(`${base}/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            token: link?.[2] ?? '',
            name: 'Ada Admin',
            email: 'ada@example.com',
            password,
          }).toString(),
        });
      const weak = await post('password1');
      expect(weak.status).toBe(400);
      expect(await weak.text()).toMatch(/commonly used/);
      const created = await post('a long enough passphrase');
      expect(created.status).toBe(200);
      expect(await created.text()).toMatch(/Admin ada@example\.com created/);
      expect((await post('a long enough passphrase')).status).toBe(403);

      const userCreate = (password: string) =>
        withStdin(
          [
            '--db',
            db,
            'user',
            'create',
            '--role',
            'rep',
            '--id',
            'katrin',
            '--email',
            'katrin@example.com',
            '--name',
            'Katrin',
            '--password-stdin',
          ],
          `${password}\n`,
        );
      const short = await userCreate('short');
      expect(short.code).toBe(1);
      expect(short.stderr).toMatch(/password: must be at least 8 characters/);
      const rep = await userCreate('katrins long passphrase');
      expect(rep.stdout).toMatch(/created rep katrin <katrin@example\.com>/);

      const login = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'ada@example.com', password: 'a long enough passphrase' }),
      });
      expect(login.status).toBe(200);
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const { csrfToken } = (await login.json()) as { csrfToken: string };
      const lead = await fetch(`${base}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: JSON.stringify({
          contact: { name: 'Jonas', email: 'jonas@example.com' },
          fields: { territory: 'EMEA', product: 'Core', value: 12000 },
        }),
      });
      expect(lead.status).toBe(201);
      const body = (await lead.json()) as { owner: string; openTasks: { assignee: string }[] };
      // The EMEA rule's team. Which member depends on the wall clock: at work first, and out of
      // everyone's hours the one back at work soonest (Jonas, at 08:00 in Stockholm).
      expect(body.owner).toMatch(/^(katrin|tom|lea|jonas)$/);
      expect(body.openTasks.length).toBeGreaterThan(0);
      expect(body.openTasks.every((t) => t.assignee === body.owner)).toBe(true);

      // The rep signs in and sees exactly the leads the rules gave them.
      const repLogin = await fetch(`${base}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'katrin@example.com', password: 'katrins long passphrase' }),
      });
      const repCookie = (repLogin.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const mine = (await (await fetch(`${base}/api/v1/leads`, { headers: { cookie: repCookie } })).json()) as {
        items: { owner: string }[];
      };
      expect(mine.items.every((l) => l.owner === 'katrin')).toBe(true);
      expect(mine.items.length).toBe(body.owner === 'katrin' ? 1 : 0);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
