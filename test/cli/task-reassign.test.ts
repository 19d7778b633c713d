import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `task reassign` hands an open task to another user, by its id or by its
 * template with --lead; a mistake is one line naming what is wrong, and changes nothing.
 */

describe('stageflow task reassign (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    ok(await cli(['lead', 'create', '--id', 'A1']));
  });

  it('hands the call to Bob, who then finds it in his list', async () => {
    const out = ok(await cli(['task', 'reassign', 'call', '--lead', 'A1', '--to', 'bob'])).stdout;
    expect(out).toContain('task call reassigned from anna to bob');
    const mine = ok(await cli(['--json', 'task', 'list', '--assignee', 'bob'])).stdout;
    expect(JSON.parse(mine)).toMatchObject([{ id: 'A1#1:call', assignee: 'bob', status: 'open' }]);
    expect(JSON.parse(ok(await cli(['--json', 'task', 'list', '--assignee', 'anna'])).stdout)).toEqual([]);
  });

  it('refuses an unknown user and a task that is not open, in one line', async () => {
    const unknown = await cli(['task', 'reassign', 'A1#1:call', '--to', 'zed']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(ONE_LINE_ERROR);
    expect(unknown.stderr).toContain('no user "zed" in the process');
    ok(await cli(['task', 'complete', 'A1#1:call']));
    const done = await cli(['task', 'reassign', 'A1#1:call', '--to', 'anna']);
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(ONE_LINE_ERROR);
    expect(done.stderr).toContain('task "A1#1:call" is done: only an open task can be reassigned');
    const missing = await cli(['task', 'reassign', 'A1#1:call']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("required option '--to <user>' not specified");
  });
});
