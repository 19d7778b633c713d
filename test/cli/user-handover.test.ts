import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `user handover` says what would move without --yes and changes nothing;
 * with it, one line says what moved and the leads are the taker's; a refusal is one line that says
 * what to do instead.
 */

describe('stageflow user handover (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const owners = async (): Promise<string[]> =>
    (JSON.parse(ok(await cli(['--json', 'lead', 'list'])).stdout) as { id: string; owner: string }[])
      .map((l) => `${l.id}:${l.owner}`)
      .sort();

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    ok(await cli(['lead', 'create', '--id', 'A1']));
    ok(await cli(['lead', 'create', '--id', 'A2']));
    ok(await cli(['lead', 'create', '--id', 'B1', '--field', 'territory=us']));
  });

  it('without --yes says what would move, and moves nothing', async () => {
    const r = ok(await cli(['user', 'handover', 'anna', '--to', 'bob']));
    expect(r.stdout).toBe(
      'would hand 2 open leads and 2 open tasks of anna to bob; nothing was changed: add --yes to do it\n',
    );
    expect(await owners()).toEqual(['A1:anna', 'A2:anna', 'B1:bob']);
  });

  it('refuses in one line, changing nothing: no taker named, the rules for anna, the default owner they fall back to', async () => {
    const none = await cli(['user', 'handover', 'anna']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(ONE_LINE_ERROR);
    expect(none.stderr).toContain('say who takes over: --to USER (one person) or --rules');
    const rules = await cli(['user', 'handover', 'anna', '--rules', '--yes']);
    expect(rules.code).toBe(1);
    expect(rules.stderr).toMatch(ONE_LINE_ERROR);
    expect(rules.stderr).toContain('"anna" is the process\'s default_owner');
    expect(rules.stderr).toContain('Nothing was changed.');
    expect(await owners()).toEqual(['A1:anna', 'A2:anna', 'B1:bob']);
  });

  it('with --yes hands the leads and their tasks over, says so, and audits it', async () => {
    const r = ok(await cli(['user', 'handover', 'anna', '--to', 'bob', '--yes', '--as', 'anna']));
    expect(r.stdout).toBe('handed 2 open leads and 2 open tasks of anna to bob\n');
    expect(await owners()).toEqual(['A1:bob', 'A2:bob', 'B1:bob']);
    const tasks = JSON.parse(ok(await cli(['--json', 'task', 'list', '--assignee', 'anna'])).stdout) as unknown[];
    expect(tasks).toEqual([]);
    const audit = JSON.parse(ok(await cli(['--json', 'audit', 'list', '--action', 'user.handover'])).stdout) as unknown;
    expect(audit).toMatchObject([{ actor: 'anna', target: 'anna', details: { to: 'bob', leads: 2, tasks: 2 } }]);
    expect(ok(await cli(['user', 'handover', 'anna', '--to', 'bob', '--yes'])).stdout).toBe(
      'anna has no open leads or tasks to hand over\n',
    );
  });
});
