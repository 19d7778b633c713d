import { beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../../src/auth/accounts.js';
import { openStore } from '../../src/store/db.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { session, tempFile, type CliResult } from './helpers.js';

/**
 * `lead create --as REP` under `assignment.self_sourced: creator`: the rep who entered the lead
 * keeps it, and `lead why` says so. Through the real CLI on a SQLite file.
 */

const PROCESS = `name: Self-sourced
organisation: { timezone: UTC }
users:
  - { id: boss, name: Boss }
  - { id: paula, name: Paula }
  - { id: ben, name: Ben }
teams:
  - { id: t, name: T, members: [ben] }
assignment:
  default_owner: boss
  self_sourced: creator
  rules:
    - { id: all-to-t, to: { team: t } }
pipelines:
  - { id: p, name: P, default: true, stages: [{ id: s1, name: S1 }] }
`;

describe('lead create by a rep under self_sourced: creator (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): string => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };

  beforeAll(async () => {
    const db = await freshDatabaseUrl('sqlite');
    cli = session(db);
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS)]));
    // The accounts say who is a rep (`user create` wants the password on standard input).
    const store = await openStore(db);
    for (const [id, role] of [
      ['paula', 'rep'],
      ['boss', 'manager'],
    ] as const)
      await createAccount(
        store,
        { id, email: `${id}@example.com`, name: id, role, password: 'correct horse battery staple' },
        Date.parse('2026-03-02T09:00:00Z'),
        'test',
      );
    await store.close();
  });

  it('gives the lead to the rep who entered it, and lead why says why', async () => {
    ok(await cli(['--as', 'paula', 'lead', 'create', '--id', 'L1', '--field', 'name=Kim']));
    const shown = JSON.parse(ok(await cli(['--json', 'lead', 'show', 'L1']))) as { owner: string };
    expect(shown.owner).toBe('paula');
    expect(ok(await cli(['lead', 'why', 'L1'])).replace(/\s+/g, ' ')).toContain(
      'self-sourced by paula, who keeps it (assignment.self_sourced: creator)',
    );
  });

  it('routes a lead entered as someone who is not a rep by the rules', async () => {
    ok(await cli(['--as', 'boss', 'lead', 'create', '--id', 'L2', '--field', 'name=Lee']));
    const shown = JSON.parse(ok(await cli(['--json', 'lead', 'show', 'L2']))) as { owner: string };
    expect(shown.owner).toBe('ben');
  });
});
