import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/store/audit.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';
import { session, type CliResult } from './helpers.js';

/**
 * `stageflow user availability` sets what PUT /users/{id}/availability sets, through the same schema
 * and service: a running server on the same database routes by it and shows it as its own, the
 * audit log has the same row, and what the API refuses (a bad period, the default owner made
 * inactive) the command refuses, storing nothing.
 */

interface Routing {
  active: boolean;
  outOfOffice: { from: string; to: string }[];
  capacity: Record<string, number>;
  workingHours: unknown;
  availabilitySetBy: { fields: string[]; by: string | null } | null;
}

describe.each(dialects)('stageflow user availability on %s', (dialect) => {
  let server: TestServer;
  let cli: (args: readonly string[]) => Promise<CliResult>;
  let admin: string;
  beforeAll(async () => {
    const url = await freshDatabaseUrl(dialect);
    server = await startServer(dialect, { url });
    admin = await tokenFor(server, 'admin');
    cli = session(url);
  });
  afterAll(() => server.close());

  const routing = async (id: string) =>
    ((await call(server, 'GET', `/api/v1/users/${id}`, { token: admin })).body as { routing: Routing }).routing;

  it('sets overrides the server routes by and shows, audited, and prints what is stored', async () => {
    const set = await cli([
      '--json',
      '--as',
      'mgr-a',
      'user',
      'availability',
      'rep-a1',
      '--out-of-office',
      '2026-03-01..2026-03-20',
      '--out-of-office',
      '2026-04-03',
      '--capacity',
      'per_day=3',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const away = [
      { from: '2026-03-01', to: '2026-03-20' },
      { from: '2026-04-03', to: '2026-04-03' },
    ];
    expect(JSON.parse(set.stdout)).toEqual({
      user: 'rep-a1',
      out_of_office: away,
      capacity: { per_day: 3 },
      setBy: 'mgr-a',
      setAt: '2026-03-02T09:00:00.000Z',
    });
    expect(await routing('rep-a1')).toMatchObject({
      outOfOffice: away,
      capacity: { per_day: 3 },
      availabilitySetBy: { fields: ['outOfOffice', 'capacity'], by: 'mgr-a' },
    });
    const [audit] = await listAudit(server.store.db, { action: 'user.availability_changed', target: 'rep-a1' });
    expect(audit).toMatchObject({ actor: 'mgr-a', details: { fields: ['outOfOffice', 'capacity'] } });
    // The server's routing sees it at once: team A's round robin passes over her.
    for (let n = 0; n < 2; n++) {
      const lead = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { contact: { name: `North ${n}`, email: `north${n}@acme.example` }, fields: { territory: 'north' } },
      });
      expect((lead.body as { owner: string }).owner).toBe('rep-a2');
    }

    const changed = await cli([
      'user',
      'availability',
      'rep-a1',
      '--clear',
      'capacity',
      '--working-hours',
      '1-3,5 08:00-12:00',
    ]);
    expect(changed.code, changed.stderr).toBe(0);
    expect(changed.stdout).toMatch(/^availability overrides of rep-a1 \(set by cli at 2026-03-02 09:00 \+00:00\)/);
    expect(changed.stdout).toMatch(/^ {2}out of office +2026-03-01\.\.2026-03-20, 2026-04-03\.\.2026-04-03$/m);
    expect(changed.stdout).toMatch(/^ {2}working hours +1,2,3,5 08:00-12:00$/m);
    expect(changed.stdout).not.toContain('capacity');
    expect(await routing('rep-a1')).toMatchObject({
      capacity: {},
      workingHours: { days: [1, 2, 3, 5], start: '08:00', end: '12:00' },
      availabilitySetBy: { fields: ['outOfOffice', 'workingHours'], by: 'cli' },
    });
  }, 300_000);

  it('refuses what the API refuses, naming the option or the rule, and stores nothing', async () => {
    const before = await routing('rep-b1');
    const audits = (await listAudit(server.store.db, { action: 'user.availability_changed' })).length;
    const bad = await cli([
      'user',
      'availability',
      'rep-b1',
      '--out-of-office',
      '2026-05-10..2026-05-01',
      '--working-hours',
      '1-5 17:00-09:00',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--out-of-office 2026-05-10..2026-05-01: to must not be before "from"');
    expect(bad.stderr).toContain('--working-hours: end must be after start');

    // The default owner made inactive would be handed leads as they are: refused, as in a file.
    const inactive = await cli(['user', 'availability', 'admin', '--active', 'false']);
    expect(inactive.code).toBe(1);
    expect(inactive.stderr).toContain('default_owner');
    expect(inactive.stderr).toContain('Nothing was changed.');

    expect(await routing('rep-b1')).toEqual(before);
    expect((await routing('admin')).availabilitySetBy).toBeNull();
    expect(await listAudit(server.store.db, { action: 'user.availability_changed' })).toHaveLength(audits);
  }, 300_000);
});
