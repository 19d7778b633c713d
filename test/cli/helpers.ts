import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs the real `stageflow` command as a child process, the way people and scripts do. */

const root = join(import.meta.dirname, '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function stageflow(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  // The tests choose the database with --db; a DATABASE_URL from the shell must not leak in.
  const base = { ...process.env };
  delete base['DATABASE_URL'];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args],
      { cwd: root, env: { ...base, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A CLI bound to one database and a clock, so each test reads like a session at a terminal. */
export function session(db: string): (args: readonly string[], now?: string) => Promise<CliResult> {
  return (args, now = '2026-03-02T09:00:00Z') => stageflow(['--db', db, '--now', now, ...args]);
}

export function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'stageflow-cli-')), name);
  writeFileSync(path, text);
  return path;
}

/** A small process: routing by territory, a task goal, a strict signal stage with an email on entry. */
export const PROCESS_YAML = `name: CLI test
organisation:
  timezone: UTC
users:
  - { id: anna, name: Anna, email: anna@example.com }
  - { id: bob, name: Bob, email: bob@example.com }
teams:
  - { id: sales, name: Sales, manager: anna, members: [anna, bob] }
assignment:
  default_owner: anna
  rules:
    - id: us-to-bob
      when: { field: territory, eq: us }
      to: { user: bob }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        guidance: Call within a day and find the budget.
        goal: { task_done: call }
        tasks:
          - { id: call, title: Discovery call, kind: call, due: { days: 1 } }
      - id: demo
        name: Demo
        strict: true
        goal: { signal: trial_started }
        on_enter:
          - email: { template: welcome }
      - id: close
        name: Close
templates:
  welcome: { subject: Welcome, body: Hello from the team }
`;

/** The single-line shape of every error the CLI prints without --debug. */
export const ONE_LINE_ERROR = /^stageflow: [^\n]+\n$/;
