import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `task add` puts a task of one's own on a lead (a time without offset is the
 * organisation's, Berlin here), `task edit` changes it, `task cancel` skips it with the reason; a
 * mistake is one line naming the option, and changes nothing.
 */

interface TaskJson {
  id: string;
  title: string;
  kind: string;
  status: string;
  assignee: string;
  dueAt: string;
}

describe('stageflow task add, edit, cancel (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const tasksOfBob = async (): Promise<TaskJson[]> =>
    JSON.parse(ok(await cli(['--json', 'task', 'list', '--assignee', 'bob', '--status', 'all'])).stdout) as TaskJson[];

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    const berlin = PROCESS_YAML.replace('timezone: UTC', 'timezone: Europe/Berlin');
    ok(await cli(['process', 'apply', tempFile('process.yaml', berlin)]));
    ok(await cli(['lead', 'create', '--id', 'A1']));
  });

  it('adds a follow-up for Bob due at 10:00 Berlin time, edits it, and cancels it', async () => {
    const out = ok(
      await cli([
        'task',
        'add',
        'A1',
        '--title',
        'Call Henrik back',
        '--due',
        '2026-12-01T10:00',
        '--kind',
        'call',
        '--to',
        'bob',
      ]),
    ).stdout;
    expect(out).toContain('"Call Henrik back" (call) added');
    const [added] = await tasksOfBob();
    expect(added).toMatchObject({
      title: 'Call Henrik back',
      kind: 'call',
      status: 'open',
      dueAt: '2026-12-01T09:00:00.000Z',
    });
    const id = added?.id ?? '';
    ok(await cli(['task', 'edit', id, '--due', '2026-12-02T08:00:00Z', '--title', 'Call Henrik']));
    expect((await tasksOfBob())[0]).toMatchObject({ title: 'Call Henrik', dueAt: '2026-12-02T08:00:00.000Z' });
    ok(await cli(['task', 'cancel', id, '--reason', 'he called first']));
    expect((await tasksOfBob())[0]).toMatchObject({ status: 'skipped' });
  });

  it('refuses a bad due time, an unknown kind and a stage task edit, in one line', async () => {
    const bad = await cli(['task', 'add', 'A1', '--title', 'x', '--due', 'tuesday']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(ONE_LINE_ERROR);
    expect(bad.stderr).toContain('--due "tuesday": give a date and time');
    const kind = await cli(['task', 'add', 'A1', '--title', 'x', '--due', '2026-12-01T10:00', '--kind', 'lunch']);
    expect(kind.code).not.toBe(0);
    expect(kind.stderr).toContain("option '--kind <kind>' argument 'lunch' is invalid");
    const stage = await cli(['task', 'edit', 'A1#1:call', '--title', 'y']);
    expect(stage.code).toBe(1);
    expect(stage.stderr).toMatch(ONE_LINE_ERROR);
    expect(stage.stderr).toContain('only a task a person added can be edited');
    expect(await tasksOfBob()).toHaveLength(1);
  });
});
