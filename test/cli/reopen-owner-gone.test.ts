import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: a closed lead whose owner has left since (kept with `active: false`, or
 * removed from the process) is not reopened for them, with new tasks and alerts nobody works: the
 * rules route it, the run log saying why, unless `--owner` names an active user.
 */

const BOB_INACTIVE = PROCESS_YAML.replace(
  '{ id: bob, name: Bob, email: bob@example.com }',
  '{ id: bob, name: Bob, email: bob@example.com, active: false }',
);
const WITHOUT_BOB = PROCESS_YAML.replace('  - { id: bob, name: Bob, email: bob@example.com }\n', '')
  .replace('members: [anna, bob]', 'members: [anna]')
  .replace('to: { user: bob }', 'to: { user: anna }');

interface LeadJson {
  status: string;
  owner: string | null;
  openTasks: { template: string; assignee: string | null }[];
}

describe('stageflow lead reopen when the owner has left (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const show = async (id: string): Promise<LeadJson> =>
    JSON.parse(ok(await cli(['lead', 'show', id, '--json'])).stdout) as LeadJson;
  const why = async (id: string): Promise<string> => ok(await cli(['lead', 'why', id])).stdout;

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    // us leads go to Bob; he closes them all before he leaves.
    for (const id of ['B1', 'B2', 'B3']) {
      ok(await cli(['lead', 'create', '--id', id, '--field', 'territory=us']));
      ok(await cli(['lead', 'lose', id, '--reason', 'no budget']));
    }
    ok(await cli(['process', 'apply', tempFile('v2.yaml', BOB_INACTIVE)]));
  }, 300_000); // eight CLI runs, each a child process

  it('an inactive owner: the rules route the reopened lead and its new task, saying why', async () => {
    ok(await cli(['lead', 'reopen', 'B1']));
    expect(await show('B1')).toMatchObject({
      status: 'open',
      owner: 'anna',
      openTasks: [{ template: 'call', assignee: 'anna' }],
    });
    expect(await why('B1')).toContain('reopened: its owner bob is inactive; routed by the rules');
  }, 120_000);

  it('--owner names who works it, validated as reassign --owner is', async () => {
    const inactive = await cli(['lead', 'reopen', 'B2', '--owner', 'bob']);
    expect(inactive.code).toBe(1);
    expect(inactive.stderr).toContain('user "bob" is inactive (active: false in the process)');
    const unknown = await cli(['lead', 'reopen', 'B2', '--owner', 'zoe']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('zoe');
    expect((await show('B2')).status).toBe('lost');
    ok(await cli(['lead', 'reopen', 'B2', '--owner', 'anna']));
    expect(await show('B2')).toMatchObject({ owner: 'anna', openTasks: [{ template: 'call', assignee: 'anna' }] });
  }, 180_000);

  it('an owner the current version no longer has: routed by the rules', async () => {
    ok(await cli(['process', 'apply', tempFile('v3.yaml', WITHOUT_BOB)]));
    ok(await cli(['lead', 'reopen', 'B3']));
    expect(await show('B3')).toMatchObject({ owner: 'anna', openTasks: [{ template: 'call', assignee: 'anna' }] });
    expect(await why('B3')).toContain('reopened: its owner bob is not a user of process v3; routed by the rules');
  }, 120_000);
});
