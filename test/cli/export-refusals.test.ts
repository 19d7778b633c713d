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

    const missing = join(mkdtempSync(join(tmpdir(), 'stageflow-export-')), 'no-such-dir', 'leads.csv');
    const failed = await cli(['export', 'leads', '--format', 'csv', '--out', missing]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('ENOENT');
    expect(existsSync(missing)).toBe(false);

    const audit = JSON.parse(ok(await cli(['--json', 'audit', 'list', '--action', 'export'])).stdout) as {
      details: Record<string, unknown>;
    }[];
    // One entry: the refused status read nothing; the failed file sent no row anywhere.
    expect(audit.map((e) => e.details)).toEqual([{ what: 'leads', format: 'csv', rows: 0, complete: false }]);
  }, 180_000); // six CLI runs, each a child process
});
