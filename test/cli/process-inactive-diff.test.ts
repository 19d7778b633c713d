import { beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: a version that sets someone to `active: false` while they own open leads
 * or hold open tasks is not refused (that is the documented way to let a person go with their work
 * in place), but `process diff` says what stays with them and how to hand it over. It used to
 * print only `~ user bob changed`.
 */

const BOB_INACTIVE = PROCESS_YAML.replace(
  '{ id: bob, name: Bob, email: bob@example.com }',
  '{ id: bob, name: Bob, email: bob@example.com, active: false }',
);
const BOTH_INACTIVE = BOB_INACTIVE.replace(
  '  - { id: anna, name: Anna, email: anna@example.com }\n',
  '  - { id: anna, name: Anna, email: anna@example.com }\n  - { id: carl, name: Carl, active: false }\n',
);
const WITH_CARL = PROCESS_YAML.replace(
  '  - { id: anna, name: Anna, email: anna@example.com }\n',
  '  - { id: anna, name: Anna, email: anna@example.com }\n  - { id: carl, name: Carl }\n',
);

describe.each(dialects)('stageflow process diff deactivating a user with open work (%s)', (dialect) => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl(dialect));
    ok(await cli(['process', 'apply', tempFile('process.yaml', WITH_CARL)]));
    // us leads go to Bob with their discovery calls; Anna's lead's call is handed to Bob too.
    for (const id of ['B1', 'B2', 'B3']) ok(await cli(['lead', 'create', '--id', id, '--field', 'territory=us']));
    ok(await cli(['lead', 'lose', 'B3', '--reason', 'no budget']));
    ok(await cli(['lead', 'create', '--id', 'A1']));
    ok(await cli(['task', 'reassign', 'A1#1:call', '--to', 'bob']));
  });

  it('says what Bob keeps and how to hand it over; Carl, with nothing open, is only a change', async () => {
    const diff = ok(await cli(['process', 'diff', tempFile('v2.yaml', BOTH_INACTIVE)]));
    expect(diff.stdout).toBe(
      [
        '~ user carl changed',
        '~ user bob changed',
        'user bob becomes inactive but owns 2 open leads and has 3 open tasks: they keep them and get no new work; to hand them over: user handover bob --to USER (or --rules once this version is applied)',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(ok(await cli(['--json', 'process', 'diff', tempFile('v2.yaml', BOB_INACTIVE)])).stdout) as {
      inFlight: string[];
    };
    expect(json.inFlight).toEqual([
      expect.stringMatching(/^user bob becomes inactive but owns 2 open leads and has 3 open tasks:/),
    ]);
  });

  it('applies, and new us leads pass Bob over', async () => {
    expect(ok(await cli(['process', 'apply', tempFile('v2.yaml', BOB_INACTIVE)])).stdout).toContain(
      'applied version 2',
    );
    ok(await cli(['lead', 'create', '--id', 'B4', '--field', 'territory=us']));
    expect(JSON.parse(ok(await cli(['--json', 'lead', 'show', 'B4'])).stdout)).toMatchObject({ owner: 'anna' });
    // Already inactive: no longer news.
    expect(ok(await cli(['process', 'diff', tempFile('v2.yaml', BOB_INACTIVE)])).stdout).toBe('no changes\n');
  });
});
