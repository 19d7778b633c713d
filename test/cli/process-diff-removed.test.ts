import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `process diff` warns, per removed stage or pipeline that still holds open
 * leads, that apply will be refused; apply's refusal names it by its place in the current version
 * (not the bare `pipelines` it used to print); once the leads are moved, the same file applies.
 */

const RENEWALS = `  - id: renewals
    name: Renewals
    stages:
      - id: review
        name: Review
      - id: signature
        name: Signature
`;
const TWO_PIPELINES = PROCESS_YAML.replace('templates:', `${RENEWALS}templates:`);
const WITHOUT_RENEWALS = PROCESS_YAML;
/** nb without its demo stage (and renewals kept). */
const WITHOUT_DEMO = TWO_PIPELINES.replace(/ {6}- id: demo[\s\S]*?(?= {6}- id: close)/, '');

describe('stageflow process diff and apply with removed stages that hold open leads (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', TWO_PIPELINES)]));
    for (const id of ['R1', 'R2']) ok(await cli(['lead', 'create', '--id', id, '--pipeline', 'renewals']));
    ok(await cli(['lead', 'move', 'R2', 'signature']));
    ok(await cli(['lead', 'create', '--id', 'N1']));
    // Qualify's goal is its call: N1 moves on to demo.
    ok(await cli(['task', 'complete', 'N1#1:call'], '2026-03-02T10:00:00Z'));
  });

  it('a removed pipeline: diff says apply will be refused, apply names pipelines[1]', async () => {
    const file = tempFile('v2.yaml', WITHOUT_RENEWALS);
    const diff = ok(await cli(['process', 'diff', file]));
    expect(diff.stdout).toBe(
      [
        '- pipeline renewals',
        'pipeline renewals (pipelines[1] in the current version) is removed but holds 2 open leads (review 1, signature 1): apply will be refused; move them first',
        '',
      ].join('\n'),
    );
    const apply = await cli(['process', 'apply', file]);
    expect(apply.code).toBe(1);
    expect(apply.stdout).toBe('');
    expect(apply.stderr).toBe(
      [
        `stageflow: ${file}: not applied (1 problem)`,
        '  pipelines[1] in the current version: pipeline renewals is removed but holds 2 open leads (review 1, signature 1); move them to another pipeline first',
        '',
      ].join('\n'),
    );
    expect(ok(await cli(['process', 'history'])).stdout).not.toMatch(/^v2 /m);
  });

  it('a removed stage: diff and apply name pipelines[0].stages[1]; moved out, the same file applies', async () => {
    const file = tempFile('v2.yaml', WITHOUT_DEMO);
    const diff = ok(await cli(['process', 'diff', file]));
    expect(diff.stdout).toContain(
      'stage nb/demo (pipelines[0].stages[1] in the current version) is removed but holds 1 open lead: apply will be refused; move it first\n',
    );
    const apply = await cli(['process', 'apply', file]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(
      '  pipelines[0].stages[1] in the current version: stage nb/demo is removed but holds 1 open lead; move it to another stage first\n',
    );

    ok(await cli(['lead', 'move', 'N1', 'qualify']));
    expect(ok(await cli(['process', 'diff', file])).stdout).not.toContain('apply will be refused');
    expect(ok(await cli(['process', 'apply', file])).stdout).toContain('applied version 2');
  });
});
