import { expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/** `process apply` says when a version moved stages and the history was renumbered for the reports. */

const ok = (r: CliResult): CliResult => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

// A "Discovery" stage goes in before Demo: Demo and Close each move one place on.
const WITH_DISCOVERY = PROCESS_YAML.replace(
  '      - id: demo\n',
  '      - id: discovery\n        name: Discovery\n      - id: demo\n',
);

it('says how many stays of how many leads were renumbered', async () => {
  const cli = session(await freshDatabaseUrl('sqlite'));
  ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
  ok(await cli(['lead', 'create', '--id', 'A1']));
  ok(await cli(['task', 'complete', 'call', '--lead', 'A1']));
  const out = ok(await cli(['process', 'apply', tempFile('v2.yaml', WITH_DISCOVERY)])).stdout;
  // A1's Demo stay moves from 1 to 2; its Qualify stay keeps 0.
  expect(out).toContain('stages moved: 1 stay of 1 lead renumbered to the new positions');
  const lead = JSON.parse(ok(await cli(['--json', 'lead', 'show', 'A1'])).stdout) as { stage: string };
  expect(lead.stage).toBe('demo');
});
