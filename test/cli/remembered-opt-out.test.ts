import { expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: a person opting a lead out remembers the address, which outlives the lead
 * (`lead delete`): a lead created later with it starts opted out, `contact export` shows the
 * opt-out, and `contact erase` takes an address known only by it and keeps it.
 */

const PROCESS = `name: Opt-outs
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: qualify, name: Qualify }
`;

const ok = (r: CliResult): CliResult => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

type Exported = {
  opted_out: { at: string; source: string } | null;
  suppressed: boolean;
  leads: { id: string; fields: Record<string, unknown> }[];
};

it('an opt-out set through the CLI outlives its lead: export shows it, a new lead starts opted out, erase keeps it', async () => {
  const cli = session(await freshDatabaseUrl('sqlite'));
  ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS)]));
  ok(await cli(['lead', 'create', '--id', 'L1', '--field', 'email=ann@a.test']));
  ok(await cli(['lead', 'update', 'L1', '--field', 'unsubscribed=yes'], '2026-03-02T09:00:00Z'));
  ok(await cli(['lead', 'delete', 'L1', '--yes']));

  const alone = JSON.parse(ok(await cli(['contact', 'export', 'ann@a.test'])).stdout) as Exported;
  expect(alone).toMatchObject({ suppressed: false, leads: [] });
  expect(alone.opted_out).toEqual({ at: '2026-03-02T09:00:00.000Z', source: expect.stringMatching(/^(admin|user)/) });

  ok(await cli(['lead', 'create', '--id', 'L2', '--field', 'email=Ann@A.test']));
  const withLead = JSON.parse(ok(await cli(['contact', 'export', 'ann@a.test'])).stdout) as Exported;
  expect(withLead.leads.map((l) => [l.id, l.fields['unsubscribed']])).toEqual([['L2', true]]);
  ok(await cli(['lead', 'delete', 'L2', '--yes']));

  // Known only by its opt-out: erase says what it would do, then erases (suppresses) it, keeping the opt-out.
  const preview = await cli(['contact', 'erase', 'ann@a.test']);
  expect(preview.code).toBe(2);
  expect(preview.stderr).toMatch(ONE_LINE_ERROR);
  expect(preview.stderr).toContain('not erasing ann@a.test without --yes');
  ok(await cli(['contact', 'erase', 'ann@a.test', '--yes']));
  const erased = JSON.parse(ok(await cli(['contact', 'export', 'ann@a.test'])).stdout) as Exported;
  expect(erased).toMatchObject({ suppressed: true, opted_out: { at: '2026-03-02T09:00:00.000Z' } });

  const never = await cli(['contact', 'erase', 'bo@a.test']);
  expect(never.stderr).toContain('no lead has the email address bo@a.test, and it was never erased');
}, 240_000);
