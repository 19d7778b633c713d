import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { expect, it } from 'vitest';
import { KEPT_PREFIX } from '../../src/integrations/mail/deliver.js';
import { openStore } from '../../src/store/db.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session, tempFile, type CliResult } from './helpers.js';

/**
 * A person whose address a lead had before it changed is found by `contact export` and `erase`
 * through the real CLI, instead of "no lead has the email address".
 */

const PROCESS = `name: Earlier
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        on_enter: [{ subscribe: { list: newsletter } }]
templates:
  hi: { subject: Hi, body: Hello }
`;

const ok = (r: CliResult): CliResult => {
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r;
};

it('contact export and erase find the lead that had the address, and say so', async () => {
  const cli = session(await freshDatabaseUrl('sqlite'));
  const file = tempFile('process.yaml', PROCESS);
  ok(await cli(['process', 'apply', file]));
  ok(await cli(['lead', 'create', '--id', 'L-R', '--field', 'name=Rita R', '--field', 'email=r1@r.test']));
  ok(await cli(['lead', 'update', 'L-R', '--field', 'email=r2@r.test']));

  const refused = await cli(['contact', 'erase', 'r1@r.test']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(ONE_LINE_ERROR);
  expect(refused.stderr).toContain('pseudonymise 0 leads, scrub 1 earlier lead');

  const out = join(dirname(file), 'r1.json');
  expect(ok(await cli(['contact', 'export', 'r1@r.test', '--out', out])).stdout).toBe(
    `exported 0 leads (and 1 earlier lead) of r1@r.test to ${out}\n`,
  );
  const data = JSON.parse(readFileSync(out, 'utf8')) as { earlier_leads: { id: string }[] };
  expect(data.earlier_leads.map((l) => l.id)).toEqual(['L-R']);

  const erased = ok(await cli(['contact', 'erase', 'r1@r.test', '--yes']));
  expect(erased.stdout).toMatch(/earlier leads scrubbed +1 +L-R \(now someone else's/);
  expect(erased.stdout).toMatch(/list erasures queued +1 +newsletter \(L-R\)/);
}, 240_000);

it('contact erase deletes the kept .eml file of the contact mail and says so', async () => {
  const url = await freshDatabaseUrl('sqlite');
  const cli = session(url);
  ok(
    await cli([
      'process',
      'apply',
      tempFile('process.yaml', PROCESS.replace('on_enter: [', 'on_enter: [{ email: { template: hi } }, ')),
    ]),
  );
  ok(await cli(['lead', 'create', '--id', 'L-K', '--field', 'name=Kim K', '--field', 'email=kim@k.test']));
  const eml = tempFile('L-K.eml', 'To: kim@k.test\r\n\r\nHello Kim\r\n');
  const store = await openStore(url);
  try {
    await store.db
      .updateTable('outbox')
      .set({ status: 'sent', detail: `${KEPT_PREFIX}${eml}` })
      .where('kind', '=', 'email')
      .execute();
  } finally {
    await store.close();
  }
  const data = JSON.parse(ok(await cli(['contact', 'export', 'kim@k.test'])).stdout) as {
    leads: { outbox: { kind: string; kept_message?: string }[] }[];
  };
  expect(data.leads[0]!.outbox.find((o) => o.kind === 'email')?.kept_message).toBe('To: kim@k.test\n\nHello Kim\n');
  const erased = ok(await cli(['contact', 'erase', 'kim@k.test', '--yes']));
  expect(erased.stdout).toMatch(/kept mail files deleted +1 /);
  expect(existsSync(eml)).toBe(false);
}, 240_000);
