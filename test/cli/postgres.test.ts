import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile } from './helpers.js';

/** The same commands against PostgreSQL: BIGINT times, counts and transactions behave alike. */

describe('stageflow on PostgreSQL', () => {
  it('applies a process, creates a lead, completes its task and refuses a strict move', async () => {
    const cli = session(await freshDatabaseUrl('postgres'));
    expect((await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)])).stdout).toContain(
      'applied version 1',
    );

    const created = await cli(['lead', 'create', '--id', 'P1', '--field', 'territory=us', '--field', 'email=a@b.co']);
    expect(created.stderr).toBe('');
    expect(created.stdout).toMatch(/owner +bob$/m);
    expect(created.stdout).toMatch(/P1#1:call +Discovery call/);

    const done = await cli(['task', 'complete', 'call', '--lead', 'P1'], '2026-03-02T10:00:00Z');
    expect(done.stdout).toMatch(/stage +demo · Demo \(2\/3\)/);

    const refused = await cli(['lead', 'move', 'P1', 'close']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(ONE_LINE_ERROR);
    expect(refused.stderr).toContain('[gate_refused]');

    const list = await cli(['lead', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: 'P1', stage: 'demo', owner: 'bob' })]);
    const history = await cli(['process', 'history', '--json']);
    expect(JSON.parse(history.stdout)).toEqual([expect.objectContaining({ version: 1, leads: 1 })]);
    const outbox = await cli(['outbox', 'list']);
    expect(outbox.stdout).toMatch(/P1:2:0:email +email +pending/);
  });
});
