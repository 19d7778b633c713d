import { expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/** The board's outbox line counts effects that may still happen: a cancelled one is not among them. */

const ok = (r: CliResult): CliResult => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

it('leaves cancelled effects out of the board', async () => {
  const cli = session(await freshDatabaseUrl('sqlite'));
  ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
  // Entering Demo queues the welcome mail, for each of the two leads.
  for (const id of ['A1', 'A2']) {
    ok(await cli(['lead', 'create', '--id', id, '--field', `email=${id.toLowerCase()}@example.com`]));
    ok(await cli(['task', 'complete', 'call', '--lead', id]));
  }
  expect(ok(await cli(['board'])).stdout).toContain('outbox: 2 effects (email 2)');
  // Deleting A2 cancels its mail, which will never be sent.
  ok(await cli(['lead', 'delete', 'A2', '--yes']));
  expect(ok(await cli(['board'])).stdout).toContain('outbox: 1 effect (email 1)');
});
