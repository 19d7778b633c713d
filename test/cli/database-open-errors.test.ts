import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stageflow } from './helpers.js';

/**
 * A SQLite path that cannot be opened: `serve` and the commands that create a database name the
 * file and what is wrong, not the system's bare "EEXIST" or "unable to open database file".
 */

function folder(): string {
  return mkdtempSync(join(tmpdir(), 'stageflow-open-'));
}

describe('a SQLite path that cannot be opened', () => {
  it.each([[['migrate']], [['serve']]])('a path part that is a file: %j names it', async (args) => {
    const file = join(folder(), 'deals.csv');
    writeFileSync(file, 'not a folder');
    const db = join(file, 'stageflow.db');
    const r = await stageflow(['--db', db, ...args], { PORT: '4897' });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^stageflow: cannot open the SQLite database ${db}: ${file} is a file, not a folder( \\(run with --debug for details\\))?$`,
      ),
    );
  });

  it('a folder given as the database file is named so', async () => {
    const dir = folder();
    const r = await stageflow(['--db', dir, 'migrate']);
    expect(r).toMatchObject({
      code: 1,
      stderr: `stageflow: cannot open the SQLite database ${dir}: ${dir} is a folder, not a database file\n`,
    });
  });
});
