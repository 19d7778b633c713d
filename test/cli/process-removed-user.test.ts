import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: a version that drops a person who still owns open leads (or holds open
 * tasks) is refused as a removed stage holding leads is, since their leads would keep running for
 * an owner the process no longer knows; `diff` warns first. Kept with `active: false`, it applies.
 */

const WITHOUT_BOB = PROCESS_YAML.replace('  - { id: bob, name: Bob, email: bob@example.com }\n', '')
  .replace('members: [anna, bob]', 'members: [anna]')
  .replace('to: { user: bob }', 'to: { user: anna }');
const BOB_INACTIVE = PROCESS_YAML.replace(
  '{ id: bob, name: Bob, email: bob@example.com }',
  '{ id: bob, name: Bob, email: bob@example.com, active: false }',
);

describe('stageflow process diff and apply dropping a user with open work (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    // us leads go to Bob, with their discovery calls.
    for (const id of ['B1', 'B2']) ok(await cli(['lead', 'create', '--id', id, '--field', 'territory=us']));
    ok(await cli(['lead', 'lose', 'B2', '--reason', 'no budget']));
  });

  it('diff warns and apply refuses, naming users[1] and the open work', async () => {
    const file = tempFile('v2.yaml', WITHOUT_BOB);
    expect(ok(await cli(['process', 'diff', file])).stdout).toContain(
      'user bob (users[1] in the current version) is removed but owns 1 open lead and has 1 open task: apply will be refused; hand their work over first (user handover bob --to USER), or keep the user with active: false\n',
    );
    const apply = await cli(['process', 'apply', file]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(
      '  users[1] in the current version: user bob is removed but owns 1 open lead and has 1 open task; hand their work over first (user handover bob --to USER), or keep the user with active: false\n',
    );
    expect(ok(await cli(['process', 'history'])).stdout).not.toMatch(/^v2 /m);
  });

  it('applies with the user kept inactive, and once their work is reassigned', async () => {
    expect(ok(await cli(['process', 'apply', tempFile('v2.yaml', BOB_INACTIVE)])).stdout).toContain(
      'applied version 2',
    );
    ok(await cli(['lead', 'reassign', 'B1', '--owner', 'anna']));
    const file = tempFile('v3.yaml', WITHOUT_BOB);
    expect(ok(await cli(['process', 'diff', file])).stdout).not.toContain('apply will be refused');
    expect(ok(await cli(['process', 'apply', file])).stdout).toContain('applied version 3');
  });
});
