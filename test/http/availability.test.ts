import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { listAudit } from '../../src/store/audit.js';
import { openStore, type Store } from '../../src/store/db.js';
import { session, tempFile } from '../cli/helpers.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects, freshDatabaseUrl } from '../support/stores.js';

/**
 * PUT /api/v1/users/{id}/availability keeps a person's availability apart from the process
 * versions (docs/process.md, availability overrides): the next routing, in this server and in
 * another process on the same database, passes over a rep set out of office, while no lead changes
 * version or updatedAt and no process version is made. A later process apply that changes a field
 * replaces its override; one that leaves it alone keeps it.
 */

interface LeadAnswer {
  id: string;
  owner: string | null;
  version: number;
  updatedAt: string;
  processVersion: number;
}

interface UserAnswer {
  routing: {
    active: boolean;
    outOfOffice: { from: string; to: string }[];
    capacity: Record<string, number>;
    workingHours: unknown;
    availabilitySetBy: { fields: string[]; by: string | null; at: string } | null;
  };
}

const AWAY = [{ from: '2026-03-01', to: '2026-03-20' }];

describe.each(dialects)('availability overrides on %s', (dialect) => {
  let server: TestServer;
  let url: string;
  let worker: Store;
  let admin: string;
  let mgr: string;
  beforeAll(async () => {
    url = await freshDatabaseUrl(dialect);
    server = await startServer(dialect, { url });
    // Another process on the same database, as `stageflow worker` is: its own connection and caches.
    worker = await openStore(url);
    admin = await tokenFor(server, 'admin');
    mgr = await tokenFor(server, 'mgr-a');
  });
  afterAll(async () => {
    await worker.close();
    await server.close();
  });

  const path = (id: string) => `/api/v1/users/${encodeURIComponent(id)}/availability`;
  const lead = async (id: string) =>
    (await call(server, 'GET', `/api/v1/leads/${encodeURIComponent(id)}`, { token: admin })).body as LeadAnswer;
  const user = async (id: string) =>
    (await call(server, 'GET', `/api/v1/users/${encodeURIComponent(id)}`, { token: admin })).body as UserAnswer;
  const versions = async () =>
    Number(
      (
        await server.store.db
          .selectFrom('process_versions')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const northLead = async () => {
    const r = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: {
        contact: { name: 'North', email: `${Math.random().toString(36).slice(2)}@acme.example` },
        fields: { territory: 'north' },
      },
    });
    expect(r.status, r.text).toBe(201);
    return r.body as LeadAnswer;
  };

  it('passes over a rep set out of office at the next routing, here and in another process, and changes no lead and no version', async () => {
    const held = await leadOf(server, admin, 'rep-b1');
    const before = await lead(held);
    const versionsBefore = await versions();
    // The other process has the current version cached before the change, as a running worker would.
    const engine = new Engine(worker);
    const warm = await engine.handle(
      { type: 'lead.created', lead: 'WARM-1', fields: { territory: 'north' } },
      server.clock.now,
    );
    expect(warm.ok).toBe(true);

    server.clock.now += 60_000;
    const r = await call(server, 'PUT', path('rep-a1'), { token: mgr, body: { outOfOffice: AWAY } });
    expect(r.status, r.text).toBe(200);
    expect(r.body).not.toHaveProperty('processVersion');
    expect((r.body as UserAnswer).routing).toMatchObject({
      outOfOffice: AWAY,
      availabilitySetBy: { fields: ['outOfOffice'], by: 'mgr-a' },
    });

    // No lead re-versioned, no process version made.
    const after = await lead(held);
    expect({ version: after.version, updatedAt: after.updatedAt, processVersion: after.processVersion }).toEqual({
      version: before.version,
      updatedAt: before.updatedAt,
      processVersion: before.processVersion,
    });
    expect(await versions()).toBe(versionsBefore);

    // Round robin over team A would give one of two leads to rep-a1: both go to rep-a2.
    server.clock.now += 60_000;
    const routed = [await northLead(), await northLead()];
    expect(routed.map((l) => l.owner)).toEqual(['rep-a2', 'rep-a2']);
    const timeline = await call(server, 'GET', `/api/v1/leads/${routed[0]?.id ?? ''}/timeline`, { token: admin });
    expect(timeline.text).toContain('"passedOver":[{"user":"rep-a1","why":"out of office"}]');

    for (const id of ['WORKER-1', 'WORKER-2']) {
      const out = await engine.handle(
        { type: 'lead.created', lead: id, fields: { territory: 'north' } },
        server.clock.now,
      );
      expect(out.ok && out.lead.owner).toBe('rep-a2');
    }

    // `lead why` explains the pass-over from the run log.
    const why = await session(url)(['lead', 'why', 'WORKER-1']);
    expect(why.code, why.stderr).toBe(0);
    expect(why.stdout).toMatch(/rep-a1.*out of office/);

    // A handover to the rules judges the leaver as routing does: away, so allowed.
    const handover = await call(server, 'POST', '/api/v1/users/rep-a1/handover', {
      token: admin,
      body: { rules: true, dryRun: true },
    });
    expect(handover.status, handover.text).toBe(200);

    const [audit] = await listAudit(server.store.db, { action: 'user.availability_changed', target: 'rep-a1' });
    expect(audit).toMatchObject({ actor: 'mgr-a', details: { fields: ['outOfOffice'] } });
  });

  it('shows the effective values and where they come from in GET /users and GET /process', async () => {
    const r = await call(server, 'PUT', path('rep-b2'), {
      token: admin,
      body: { capacity: { per_day: 3 }, workingHours: { days: [1, 2, 3], start: '08:00', end: '12:00' } },
    });
    expect(r.status, r.text).toBe(200);
    const list = await call(server, 'GET', '/api/v1/users?limit=100', { token: admin });
    const b2 = (list.body as { items: (UserAnswer & { id: string })[] }).items.find((u) => u.id === 'rep-b2');
    expect(b2?.routing).toMatchObject({
      capacity: { per_day: 3 },
      workingHours: { days: [1, 2, 3], start: '08:00', end: '12:00' },
      availabilitySetBy: { fields: ['capacity', 'workingHours'], by: 'admin' },
    });
    expect((await user('rep-b1')).routing.availabilitySetBy).toBeNull();

    const p = await call(server, 'GET', '/api/v1/process', { token: admin });
    const body = p.body as {
      process: { users: { id: string; capacity: unknown }[] };
      availabilityOverrides: Record<string, unknown>[];
    };
    // The process as the file says; the overrides beside it, in the API and the CLI alike.
    expect(body.process.users.find((u) => u.id === 'rep-b2')?.capacity).toEqual({});
    const overrides = expect.arrayContaining([
      expect.objectContaining({ user: 'rep-b2', capacity: { per_day: 3 }, setBy: 'admin' }),
      expect.objectContaining({ user: 'rep-a1', out_of_office: AWAY, setBy: 'mgr-a' }),
    ]);
    expect(body.availabilityOverrides).toEqual(overrides);
    const shown = await session(url)(['--json', 'process', 'show']);
    expect(shown.code, shown.stderr).toBe(0);
    expect((JSON.parse(shown.stdout) as { availabilityOverrides: unknown }).availabilityOverrides).toEqual(overrides);
  });

  it('refuses bad periods and hours naming the field, and a change the process checks refuse; nothing is stored', async () => {
    const auditBefore = (await listAudit(server.store.db, { action: 'user.availability_changed' })).length;
    const before = await user('rep-a2');
    const bad = await call(server, 'PUT', path('rep-a2'), {
      token: mgr,
      body: {
        outOfOffice: [
          { from: '2026-04-01', to: '2026-04-03' },
          { from: '2026-05-10', to: '2026-05-01' },
        ],
        workingHours: { days: [1], start: '17:00', end: '09:00' },
      },
    });
    expect(bad.status, bad.text).toBe(400);
    const fields = (bad.body as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['body.outOfOffice.1.to', 'body.workingHours.end']));
    expect(fields).not.toContain('body.outOfOffice.0.to');

    // The default owner made inactive would be handed leads as they are: refused, as in a file.
    const inactiveDefault = await call(server, 'PUT', path('admin'), { token: admin, body: { active: false } });
    expect(inactiveDefault.status, inactiveDefault.text).toBe(422);
    expect(inactiveDefault.text).toContain('default_owner');

    expect(await user('rep-a2')).toEqual(before);
    expect((await user('admin')).routing).toMatchObject({ active: true, availabilitySetBy: null });
    expect((await listAudit(server.store.db, { action: 'user.availability_changed' })).length).toBe(auditBefore);
  });

  it('a later process apply replaces the overrides of the fields the file changes and keeps the others', async () => {
    // Unchanged file: no version, overrides kept.
    const same = await applyProcess(server.store, TEST_PROCESS, server.clock.now, 'test');
    expect(same.unchanged).toBe(true);
    expect((await user('rep-a1')).routing.outOfOffice).toEqual(AWAY);

    // A file that changes rep-b2's capacity (only): that override goes, working hours stay, rep-a1's leave stays.
    const next = TEST_PROCESS.replace(
      '{ id: rep-b2, name: Ben B2, territories: [south] }',
      '{ id: rep-b2, name: Ben B2, territories: [south], capacity: { per_week: 10 } }',
    );
    expect(next).not.toBe(TEST_PROCESS);
    const applied = await session(url)(['process', 'apply', tempFile('next.yaml', next)]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("~ availability of rep-b2: capacity set through the API replaced by the file's");
    const applies = await listAudit(server.store.db, { action: 'process.applied' });
    expect(applies.map((a) => a.details['availabilityReplaced']).filter(Boolean)).toEqual([
      [{ user: 'rep-b2', fields: ['capacity'] }],
    ]);
    expect((await user('rep-b2')).routing).toMatchObject({
      capacity: { per_week: 10 },
      workingHours: { days: [1, 2, 3], start: '08:00', end: '12:00' },
      availabilitySetBy: { fields: ['workingHours'] },
    });
    expect((await user('rep-a1')).routing.outOfOffice).toEqual(AWAY);

    // The engine of the other process still routes past rep-a1.
    const out = await new Engine(worker).handle(
      { type: 'lead.created', lead: 'WORKER-3', fields: { territory: 'north' } },
      server.clock.now,
    );
    expect(out.ok && out.lead.owner).toBe('rep-a2');

    // A file that now states rep-a1's leave itself replaces the override: routing follows the file.
    const back = next.replace(
      '{ id: rep-a1, name: Anna A1, territories: [north] }',
      '{ id: rep-a1, name: Anna A1, territories: [north], out_of_office: [] , active: true, weight: 1, capacity: {}, tier: a }',
    );
    const third = await applyProcess(server.store, back, server.clock.now, 'test');
    // Only the tier is new in the file for rep-a1: out_of_office [] equals the last file's, so the leave stays.
    expect(third.availabilityReplaced).toEqual([]);
    expect((await user('rep-a1')).routing.outOfOffice).toEqual(AWAY);
    const fourth = await applyProcess(
      server.store,
      back.replace('out_of_office: [] ,', "out_of_office: [{ from: '2026-06-01', to: '2026-06-02' }],"),
      server.clock.now,
      'test',
    );
    expect(fourth.availabilityReplaced).toEqual([{ user: 'rep-a1', fields: ['out_of_office'] }]);
    expect((await user('rep-a1')).routing).toMatchObject({
      outOfOffice: [{ from: '2026-06-01', to: '2026-06-02' }],
      availabilitySetBy: null,
    });
    const routed = await new Engine(worker).handle(
      { type: 'lead.created', lead: 'WORKER-4', fields: { territory: 'north' } },
      server.clock.now,
    );
    const again = await new Engine(worker).handle(
      { type: 'lead.created', lead: 'WORKER-5', fields: { territory: 'north' } },
      server.clock.now,
    );
    expect([routed.ok && routed.lead.owner, again.ok && again.lead.owner]).toContain('rep-a1');
  });
});
