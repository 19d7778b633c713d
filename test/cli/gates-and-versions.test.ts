import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI, on one database, in order: winning past a strict stage (refused, then an
 * admin override that the run log records), a task of a stage the lead has left, a new process
 * version that gives a stage a task (diff, apply --backfill-tasks), and reopening a lead whose
 * stage the new version removed.
 */

describe('stageflow gates, finished stays and process versions (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(ok(await cli([...args, '--json'])).stdout) as T;

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    for (const id of ['W1', 'W2', 'W3']) {
      ok(await cli(['lead', 'create', '--id', id, '--field', `name=${id}`]));
      // Qualify's goal is its call: each lead moves on to the strict demo stage.
      ok(await cli(['task', 'complete', `${id}#1:call`], '2026-03-02T10:00:00Z'));
    }
  });

  it('lead win is held by a strict stage; only an admin may --override it, and the run log says so', async () => {
    const before = ok(await cli(['lead', 'why', 'W1', '--json'])).stdout;
    const refused = await cli(['lead', 'win', 'W1']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      'stageflow: stage "demo" is strict: cannot move to "won" because its goal is not met (signal trial_started) [gate_refused]\n',
    );
    const notAdmin = await cli(['lead', 'win', 'W1', '--override']);
    expect(notAdmin.code).toBe(1);
    expect(notAdmin.stderr).toBe(
      'stageflow: only an admin may override a stage gate (actor: user) [override_forbidden]\n',
    );
    expect(ok(await cli(['lead', 'why', 'W1', '--json'])).stdout).toBe(before);

    const won = ok(
      await cli(['--admin', '--as', 'anna', 'lead', 'win', 'W1', '--override', '--reason', 'signed on paper']),
    );
    expect(won.stdout).toMatch(/^ +status +won .*\(signed on paper\)$/m);
    expect(won.stdout).toContain('admin anna overrode gate of demo: its goal is not met (signal trial_started)');
    const why = await json<{ type: string; actor: { kind: string; id: string }; payload: { override?: boolean } }[]>([
      'lead',
      'why',
      'W1',
    ]);
    expect(why.at(-1)).toMatchObject({
      type: 'lead.won',
      actor: { kind: 'admin', id: 'anna' },
      payload: { override: true },
    });
  });

  it('lead lose is never gated and takes no --override', async () => {
    const r = await cli(['lead', 'lose', 'W3', '--reason', 'x', '--override']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain("lead lose: unknown option '--override'");
    ok(await cli(['lead', 'lose', 'W3', '--reason', 'no budget']));
  });

  it('a task of a stage the lead has left is not reopened: one line naming the stage, nothing written', async () => {
    const before = ok(await cli(['lead', 'why', 'W2', '--json'])).stdout;
    const r = await cli(['task', 'reopen', 'W2#1:call']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'stageflow: task "W2#1:call" belongs to stage qualify, which lead W2 has left (now in demo); its tasks are history: move the lead back to qualify to do them again [task_not_open]\n',
    );
    expect(ok(await cli(['lead', 'why', 'W2', '--json'])).stdout).toBe(before);
  });

  it('diff and apply --backfill-tasks say what the open leads in a changed stage get, and do it', async () => {
    const v2 = PROCESS_YAML.replace(
      '        on_enter:\n',
      '        tasks:\n          - { id: pricing, title: Send pricing, kind: email, due: { days: 2 } }\n        on_enter:\n',
    );
    const file = tempFile('process.yaml', v2);
    const diff = ok(await cli(['process', 'diff', file]));
    expect(diff.stdout).toBe(
      '~ stage nb/demo: tasks changed\n' +
        'stage nb/demo gains task "pricing": 1 open lead in it keeps its tasks (new task not created); apply --backfill-tasks creates it for them, due from now\n',
    );
    const applied = ok(
      await cli(['--as', 'anna', 'process', 'apply', file, '--backfill-tasks'], '2026-03-03T12:00:00Z'),
    );
    expect(applied.stdout).toContain(
      'stage nb/demo gains task "pricing": created for the 1 open lead in it (--backfill-tasks), due from the apply time',
    );
    expect(applied.stdout).toContain('1 lead checked against changed goals and gates: 0 advanced; 1 task backfilled');
    const tasks = await json<{ id: string; dueAt: string }[]>(['task', 'list', '--lead', 'W2']);
    expect(tasks).toEqual([expect.objectContaining({ id: 'W2#2:pricing', dueAt: '2026-03-05T12:00:00.000Z' })]);
    const why = ok(await cli(['lead', 'why', 'W2']));
    expect(why.stdout).toMatch(/process\.upgraded {2}by system:anna {2}\(process v2\)/);
    expect(why.stdout).toContain(
      'task pricing added to stage demo by process v2 and created for this lead (--backfill-tasks)',
    );
  });

  it('a lead reopened after its stage was removed is refused with the way out, then reopened into --stage', async () => {
    // W2 leaves demo so that a version without it can be applied; W3 was lost in demo.
    ok(await cli(['lead', 'move', 'W2', 'qualify']));
    const noDemo = PROCESS_YAML.replace(/ {6}- id: demo\n[\s\S]*?(?= {6}- id: close)/, '');
    ok(await cli(['process', 'apply', tempFile('process.yaml', noDemo)]));
    const refused = await cli(['lead', 'reopen', 'W3']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      'stageflow: lead W3 closed in stage nb/demo, which process version 3 no longer has: reopen it with --stage and one of qualify, close [unknown_stage]\n',
    );
    const reopened = ok(await cli(['lead', 'reopen', 'W3', '--stage', 'close']));
    expect(reopened.stdout).toMatch(/stage +close · Close \(2\/2\)/);
    expect(reopened.stdout).toContain('reopened under process v3 (closed under v1)');
    const why = await json<{ processVersion: number }[]>(['lead', 'why', 'W3']);
    expect(why.at(-1)?.processVersion).toBe(3);
  });
});
