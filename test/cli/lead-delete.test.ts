import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: `lead delete` without --yes says in one line what it would delete and
 * changes nothing; with it, the lead is gone, one line says what went, and the audit log has it.
 */

describe('stageflow lead delete (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const leadIds = async (): Promise<string[]> =>
    (JSON.parse(ok(await cli(['--json', 'lead', 'list'])).stdout) as { id: string }[]).map((l) => l.id).sort();

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
    ok(await cli(['lead', 'create', '--id', 'SPAM', '--field', 'name=Test Test', '--field', 'company=Spam Co']));
    ok(await cli(['lead', 'create', '--id', 'REAL']));
  });

  it('without --yes says what would go, in one line, and deletes nothing', async () => {
    const r = await cli(['lead', 'delete', 'SPAM']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain('not deleting SPAM without --yes');
    expect(r.stderr).toContain('the open lead of anna with 1 task, 1 stage stay');
    expect(r.stderr).toContain('Nothing was changed.');
    expect(await leadIds()).toEqual(['REAL', 'SPAM']);
  });

  it('with --yes deletes the lead, says what went in one line, and audits it', async () => {
    const r = ok(await cli(['lead', 'delete', 'SPAM', '--yes', '--as', 'anna'], '2026-03-03T10:00:00Z'));
    expect(r.stdout).toMatch(
      /^deleted open lead SPAM of anna: 1 task, 1 stage stay, 0 activities, 1 owner change, \d+ field changes, \d+ run-log entries, 1 event; cancelled 0 undelivered messages, kept 0 messages \(sent or settled, or a mailing-list erasure still to be sent\)\n$/,
    );
    expect(await leadIds()).toEqual(['REAL']);
    const show = await cli(['lead', 'show', 'SPAM']);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('lead "SPAM" does not exist [unknown_lead]');
    const audit = JSON.parse(ok(await cli(['--json', 'audit', 'list', '--action', 'lead.deleted'])).stdout) as unknown;
    expect(audit).toMatchObject([
      { actor: 'anna', target: 'SPAM', details: { lead: 'SPAM', owner: 'anna', status: 'open' } },
    ]);
    expect(JSON.stringify(audit)).not.toContain('Spam Co');
  });

  it('refuses an unknown lead in one line, with or without --yes', async () => {
    for (const args of [
      ['lead', 'delete', 'SPAM', '--yes'],
      ['lead', 'delete', 'NOPE'],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(ONE_LINE_ERROR);
      expect(r.stderr).toMatch(/lead "(SPAM|NOPE)" does not exist \[unknown_lead\]/);
    }
    expect(await leadIds()).toEqual(['REAL']);
  });
});
