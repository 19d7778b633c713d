import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, stageflow, tempFile } from './helpers.js';

/** Bad command lines: one line on stderr saying what and where, exit 2, and nothing written. */

describe('stageflow usage errors', () => {
  it.each([
    [['lead', 'create', '--field', 'value'], 'stageflow: --field "value": expected k=v\n'],
    [['--now', 'next tuesday', 'lead', 'list'], 'stageflow: --now "next tuesday": not an ISO 8601 time'],
    [['lead', 'list', '--bogus'], "stageflow: lead list: unknown option '--bogus'"],
    [['lead', 'show'], "stageflow: lead show: missing required argument 'id'"],
    [['lead', 'list', '--limit', '-3'], 'stageflow: --limit "-3": expected a positive whole number'],
    [['task', 'list', '--status', 'late'], "stageflow: task list: option '--status <status>' argument 'late'"],
    [['outbox', 'list', '--status', 'bogus'], "stageflow: outbox list: option '--status <status>' argument 'bogus'"],
  ])('%j', async (args, message) => {
    const db = await freshDatabaseUrl('sqlite');
    const r = await stageflow(['--db', db, ...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr.startsWith(message)).toBe(true);
  });

  it('a task list for a lead that does not exist says so, instead of "no tasks"', async () => {
    const db = await freshDatabaseUrl('sqlite');
    expect((await stageflow(['--db', db, 'migrate'])).code).toBe(0);
    const r = await stageflow(['--db', db, 'task', 'list', '--lead', 'NOPE']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stageflow: lead "NOPE" does not exist [unknown_lead]\n');
  });

  it('--as must name someone the process or the accounts know, once either exists', async () => {
    const db = await freshDatabaseUrl('sqlite');
    const file = tempFile('process.yaml', PROCESS_YAML);
    expect((await stageflow(['--db', db, '--as', 'anyone', 'process', 'apply', file])).code).toBe(0);
    const r = await stageflow(['--db', db, '--admin', '--as', 'nobody', 'lead', 'create', '--id', 'L1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stageflow: --as "nobody": no user of the process and no account has this id\n');
    expect((await stageflow(['--db', db, '--admin', '--as', 'anna', 'lead', 'create', '--id', 'L1'])).code).toBe(0);
  });

  it('an invalid environment variable is named', async () => {
    const r = await stageflow(['lead', 'list'], { DATABASE_URL: 'mysql://db/crm' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'stageflow: environment variable DATABASE_URL: "mysql://db/crm" is invalid: expected a postgres:// URL or a SQLite file path\n',
    );
  });

  it('an event before any process is refused with a hint', async () => {
    const db = await freshDatabaseUrl('sqlite');
    expect((await stageflow(['--db', db, 'migrate'])).code).toBe(0);
    const r = await stageflow(['--db', db, 'lead', 'create', '--id', 'X']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain('no process has been applied yet');
    expect(r.stderr).toContain('[no_process]');
  });
});
