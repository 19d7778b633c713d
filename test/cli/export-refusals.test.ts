import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dialects, freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * A bulk export that cannot do what was asked says so, and the audit log does not claim more than
 * happened: an unknown status is refused before anything is read (as the API refuses it), and a
 * file that cannot be created is recorded as an export of no rows.
 */

describe.each(dialects)('stageflow export refusals on %s', (dialect) => {
  it('refuses an unknown --status, and audits an uncreatable --out file as no rows sent', async () => {
    const cli = session(await freshDatabaseUrl(dialect));
    const ok = (r: CliResult): CliResult => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    ok(await cli(['lead', 'create', '--id', 'L1', '--field', 'name=Jo Doe', '--field', 'email=jo@example.com']));

    const won = await cli(['export', 'leads', '--status', 'WON']);
    expect(won.code).not.toBe(0);
    expect(won.stdout).toBe('');
    expect(won.stderr).toMatch(
      /^stageflow: [^\n]*'--status <status>' argument 'WON' is invalid\. Allowed choices are open, won, lost\./,
    );

    // Named as the user gave it, in words: not the errno of the `.partial` file written beside it.
    const dir = mkdtempSync(join(tmpdir(), 'stageflow-export-'));
    const missing = join(dir, 'no-such-dir', 'leads.csv');
    const failed = await cli(['export', 'leads', '--format', 'csv', '--out', missing]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(
      `stageflow: cannot write --out ${missing}: the folder ${join(dir, 'no-such-dir')} does not exist\n`,
    );
    expect(existsSync(missing)).toBe(false);
    const folder = await cli(['export', 'leads', '--out', dir]);
    expect([folder.code, folder.stderr]).toEqual([
      1,
      `stageflow: cannot write --out ${dir}: it is a folder; give a file name in it\n`,
    ]);

    const audit = JSON.parse(ok(await cli(['--json', 'audit', 'list', '--action', 'export'])).stdout) as {
      details: Record<string, unknown>;
    }[];
    // The refused status read nothing; the failed files sent no row anywhere.
    // (In any order: both have the same time.)
    const details = audit.map((e) => e.details).sort((a, b) => String(a['format']).localeCompare(String(b['format'])));
    expect(details).toEqual([
      { what: 'leads', format: 'csv', rows: 0, complete: false },
      { what: 'leads', format: 'jsonl', rows: 0, complete: false },
    ]);
  }, 180_000); // six CLI runs, each a child process
});
