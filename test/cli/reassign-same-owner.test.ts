import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/** Through the real CLI: `lead reassign --owner` naming the current owner is refused, nothing written. */

describe('stageflow lead reassign to the current owner (SQLite)', () => {
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  it('prints the refusal with its code and leaves the lead at its version', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    ok(await cli(['lead', 'create', '--id', 'L1']));
    const same = await cli(['lead', 'reassign', 'L1', '--owner', 'anna']);
    expect(same.code).toBe(1);
    expect(same.stderr).toBe('stageflow: lead L1 is already owned by "anna" [already_owner]\n');
    const why = ok(await cli(['lead', 'why', 'L1'])).stdout;
    expect(why).not.toContain('lead.reassigned');
  }, 240_000); // four CLI runs, each a child process
});
