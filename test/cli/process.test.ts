import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, stageflow, tempFile } from './helpers.js';

describe('stageflow process', () => {
  it('validate names the path and line of every problem and exits 1', async () => {
    const bad = PROCESS_YAML.replace('goal: { task_done: call }', 'goal: { task_done: calll }').replace(
      'default_owner: anna',
      'default_owner: zed',
    );
    const file = tempFile('process.yaml', bad);
    const lines = bad.split('\n');
    const goalLine = lines.findIndex((l) => l.includes('task_done: calll')) + 1;
    const ownerLine = lines.findIndex((l) => l.includes('default_owner: zed')) + 1;

    const r = await stageflow(['process', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`stageflow: ${file} is invalid (2 problems)`);
    expect(r.stderr).toContain(`pipelines[0].stages[0].goal: unknown task "calll" (line ${goalLine})`);
    expect(r.stderr).toContain(`assignment.default_owner: unknown user "zed" (line ${ownerLine})`);
  });

  it('validate prints OK with a summary for a good file', async () => {
    const r = await stageflow(['process', 'validate', tempFile('process.yaml', PROCESS_YAML)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^OK .*process "CLI test", 1 pipeline \(nb \(default\): qualify > demo > close\), 2 users/,
    );
  });

  it('validate says when no pipeline is the default, since unmatched leads are then refused', async () => {
    const routed = PROCESS_YAML.replace('    default: true\n', '    entry: { field: territory, eq: us }\n');
    const r = await stageflow(['process', 'validate', tempFile('process.yaml', routed)]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '1 pipeline (nb: qualify > demo > close), no default pipeline (a lead no entry criteria match is refused), 2 users',
    );
  });

  it('a missing file is one line naming the file', async () => {
    const r = await stageflow(['process', 'validate', '/nonexistent/process.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('stageflow: /nonexistent/process.yaml: no such file\n');
  });

  it('apply stores a version, diff and re-apply see no change, history and show read it back', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    const file = tempFile('process.yaml', PROCESS_YAML);

    const applied = await cli(['process', 'apply', file]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('+ process CLI test (first version)');
    expect(applied.stdout).toContain('applied version 1; 0 in-flight leads moved to it');

    const again = await cli(['process', 'apply', file]);
    expect(again.stdout.trim()).toBe('no changes: version 1 stays current');

    const changed = tempFile('process.yaml', PROCESS_YAML.replace('name: Demo', 'name: Product demo'));
    const diff = await cli(['process', 'diff', changed]);
    expect(diff.stdout.trim()).toBe('~ stage nb/demo: renamed "Demo" -> "Product demo"');

    const v2 = await cli(['--as', 'anna', 'process', 'apply', changed]);
    expect(v2.stdout).toContain('applied version 2');

    const history = await cli(['process', 'history', '--json']);
    const versions = JSON.parse(history.stdout) as { version: number; appliedBy: string }[];
    expect(versions.map((v) => [v.version, v.appliedBy])).toEqual([
      [1, 'user'],
      [2, 'anna'],
    ]);

    const shown = await cli(['process', 'show', '--version', '1']);
    expect(shown.stdout).toBe(PROCESS_YAML);
  });

  it('apply of an invalid file lists the problems, exits 1 and stores nothing', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    const r = await cli(['process', 'apply', tempFile('p.yaml', PROCESS_YAML.replace('eq: us', 'eq: [us]'))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not applied \(\d problems?\)/);
    expect(r.stderr).toContain('assignment.rules[0].when');
    const show = await cli(['process', 'show']);
    expect(show.code).toBe(1);
    expect(show.stderr).toMatch(ONE_LINE_ERROR);
    expect(show.stderr).toContain('no process has been applied yet');
  });
});
