import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_YAML, stageflow, tempFile } from './helpers.js';

/**
 * A mistyped database path: commands that read or change existing data refuse in one line and
 * leave nothing behind (no file, no folder); only the commands that set a database up create it.
 */

function missingPath(): { dir: string; db: string } {
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-nodb-'));
  // A folder that does not exist either: openStore would have made it.
  return { dir, db: join(dir, 'data', 'stagflow.db') };
}

describe('a database path that does not exist', () => {
  it.each([
    [['lead', 'show', 'L1']],
    [['lead', 'list']],
    [['task', 'list']],
    [['outbox', 'list']],
    [['report', 'funnel']],
    [['board']],
    [['tick']],
    [['process', 'diff', 'process.yaml']],
    [['process', 'show']],
    [['user', 'list']],
    [['worker']],
  ])('%j is refused in one line, exit 1, with no file left', async (args) => {
    const { dir, db } = missingPath();
    const file = tempFile('process.yaml', PROCESS_YAML);
    const r = await stageflow(['--db', db, ...args.map((a) => (a === 'process.yaml' ? file : a))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`stageflow: no database at ${db}; run "stageflow migrate" to create one\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('DATABASE_URL is checked the same way', async () => {
    const { dir, db } = missingPath();
    const r = await stageflow(['lead', 'list'], { DATABASE_URL: db });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`stageflow: no database at ${db}; run "stageflow migrate" to create one\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('migrate and process apply create it; then the other commands work on it', async () => {
    const first = missingPath();
    const migrated = await stageflow(['--db', first.db, 'migrate']);
    expect(migrated.code).toBe(0);
    expect(existsSync(first.db)).toBe(true);
    const listed = await stageflow(['--db', first.db, 'lead', 'list']);
    expect(listed).toMatchObject({ code: 0, stdout: 'no leads\n' });

    const second = missingPath();
    const applied = await stageflow(['--db', second.db, 'process', 'apply', tempFile('p.yaml', PROCESS_YAML)]);
    expect(applied.stderr).toBe('');
    expect(applied.stdout).toContain('applied version 1');
    expect(existsSync(second.db)).toBe(true);
  });
});
