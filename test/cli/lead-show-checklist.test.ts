import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile } from './helpers.js';

/** `lead show` (always the full page) prints the goal as a checklist and a strict next stage's fields, from the domain's code. */

// Demo needs a budget before the lead may leave it.
const PROCESS = PROCESS_YAML.replace(
  '        strict: true\n',
  '        strict: true\n        required_fields: [budget]\n',
);

describe('stageflow lead show (SQLite)', () => {
  it('ticks the goal as the task is done, and lists what the strict stage needs', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    expect((await cli(['process', 'apply', tempFile('process.yaml', PROCESS)])).code).toBe(0);
    expect((await cli(['lead', 'create', '--id', 'L1', '--field', 'name=Acme'])).code).toBe(0);

    const before = await cli(['lead', 'show', 'L1']);
    expect(before.stderr).toBe('');
    expect(before.stdout).toContain('  goal checklist\n    ✗ task call done\n');
    expect(before.stdout).toContain('  next stage demo is strict, to leave it  budget ✗\n');

    expect((await cli(['task', 'complete', 'L1#1:call'])).code).toBe(0);
    expect((await cli(['lead', 'update', 'L1', '--field', 'budget=5000'])).code).toBe(0);
    const after = await cli(['lead', 'show', 'L1']);
    expect(after.stdout).toContain('  goal checklist\n    ✗ signal trial_started received\n');
    expect(after.stdout).toContain('  to leave this strict stage  budget ✓\n');
  });
});
