import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine, type EventOutcome } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * `assignment.same_contact: owner`: a new lead whose contact already has an open lead goes to
 * that lead's owner, not to the next rep in the rotation (one person, one rep), found in the
 * database or earlier in the same batch; an owner who is away is passed over; a closed lead is no
 * match; and `rules` (the default) routes as before. On a real SQLite file and a real PostgreSQL.
 */

const processWith = (sameContact: 'owner' | 'rules') => `name: Same contact
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
  - { id: ben, name: Ben, out_of_office: [{ from: 2026-03-10, to: 2026-03-12 }] }
  - { id: carla, name: Carla }
teams:
  - { id: sales, name: Sales, members: [anna, ben] }
  - { id: closers, name: Closers, members: [carla] }
assignment:
  default_owner: anna
  same_contact: ${sameContact}
  rules:
    - { id: big, when: { field: value, gte: 40000 }, to: { team: closers, strategy: round_robin } }
    - { id: everyone, to: { team: sales, strategy: round_robin } }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: new
        name: New
`;

const T0 = Date.parse('2026-03-02T09:00:00Z');
const DAY = 86_400_000;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

function accepted(o: EventOutcome | undefined): Extract<EventOutcome, { ok: true }> {
  if (!o) throw new Error('no outcome');
  if (!o.ok) throw new Error(`${o.error.code}: ${o.error.message}`);
  return o;
}

describe.each(dialects)('same_contact routing on %s', (dialect) => {
  let store: Store;
  async function engineFor(sameContact: 'owner' | 'rules'): Promise<Engine> {
    store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, processWith(sameContact), T0, 'test');
    return new Engine(store);
  }
  const create = (lead: string, email: string): EngineEvent => ({ type: 'lead.created', lead, fields: { email } });

  it('gives a returning contact’s new lead to the owner of their open lead, in the database or the same batch', async () => {
    const engine = await engineFor('owner');
    expect(accepted(await engine.handle(create('L1', 'pat@acme.example'), T0)).lead.owner).toBe('anna');
    expect(accepted(await engine.handle(create('L2', 'kim@acme.example'), T0 + 1)).lead.owner).toBe('ben');
    // Pat again, written another way: anna's, not the rotation's next (anna would be next anyway,
    // so the next contact shows the rotation untouched).
    const again = accepted(await engine.handle(create('L3', '  PAT@acme.example '), T0 + 2));
    expect(again.lead.owner).toBe('anna');
    expect(again.log.map((l) => l.message)).toContain(
      "created: rule everyone still routes via team:sales/round_robin: kept by the contact's open lead L1: its owner anna",
    );
    // Kim twice in one batch: the second finds the first before it is written.
    const [k1, k2] = await engine.handleMany([
      { event: create('L4', 'lee@acme.example'), at: T0 + 3 },
      { event: create('L5', 'lee@acme.example'), at: T0 + 4 },
    ]);
    expect([accepted(k1).lead.owner, accepted(k2).lead.owner]).toEqual(['anna', 'anna']);
    // Kim's lead L2 is won: no open lead is left for the address, so the rules route the next one.
    accepted(await engine.handle({ type: 'lead.won', lead: 'L2' }, T0 + 5));
    expect(accepted(await engine.handle(create('L6', 'kim@acme.example'), T0 + 6)).lead.owner).toBe('ben');
  });

  it('gives an imported ownerless lead of a returning contact to the owner of their open lead when it goes live', async () => {
    const engine = await engineFor('owner');
    accepted(await engine.handle(create('L1', 'pat@acme.example'), T0));
    accepted(await engine.handle(create('L2', 'kim@acme.example'), T0 + 1));
    accepted(await engine.handle(create('L3', 'lee@acme.example'), T0 + 1));
    const dir = mkdtempSync(join(tmpdir(), 'same-contact-'));
    writeFileSync(join(dir, 'old.csv'), 'Ref,Email,Stage,Status,Created\n7,Pat@Acme.example,new,open,2026-02-01\n');
    const report = await runImport(store, {
      format: 'generic',
      path: join(dir, 'old.csv'),
      mapping: {
        text: 'source: legacy\npipeline: nb\ncolumns: { id: Ref, email: Email, stage: Stage, status: Status, created_at: Created }\n',
        label: 'm.yaml',
      },
      dryRun: false,
      skipInvalid: false,
      automations: false,
      now: T0 + 2,
      actor: { kind: 'import' },
    });
    expect(report.outcome).toBe('imported');
    const imported = await store.db
      .selectFrom('leads')
      .select(['id', 'owner'])
      .where('id', 'not in', ['L1', 'L2', 'L3'])
      .execute();
    expect(imported).toEqual([{ id: expect.any(String), owner: null }]);
    // The rotation's next is ben (anna, ben, anna so far): pat's imported lead goes to pat's rep, anna.
    const live = accepted(await engine.handle({ type: 'lead.activated', lead: imported[0]?.id ?? '' }, T0 + 3));
    expect(live.lead.owner).toBe('anna');
    expect(live.log.map((l) => l.message)).toContain(
      "activated: rule everyone still routes via team:sales/round_robin: kept by the contact's open lead L1: its owner anna",
    );
  });

  it('passes over an owner who is away, saying so, and leaves routing alone under rules', async () => {
    const engine = await engineFor('owner');
    accepted(await engine.handle(create('L1', 'pat@acme.example'), T0));
    expect(accepted(await engine.handle(create('L2', 'kim@acme.example'), T0 + 1)).lead.owner).toBe('ben');
    const away = accepted(await engine.handle(create('L3', 'kim@acme.example'), T0 + 9 * DAY));
    expect(away.lead.owner).toBe('anna');
    expect(away.log.map((l) => l.message)).toContain(
      'created: the contact already has open lead L2, but its owner ben is out of office: routed by the rules',
    );

    // A big deal the rules send to the closers does not stay with the contact's regional rep.
    const big = accepted(
      await engine.handle(
        { type: 'lead.created', lead: 'L4', fields: { email: 'pat@acme.example', value: 90000 } },
        T0 + 2,
      ),
    );
    expect(big.lead.owner).toBe('carla');
    expect(big.log.map((l) => l.message)).toContain(
      "created: rule big routed to carla via team:closers/round_robin (the contact's open lead L1 is with anna, who is not part of it)",
    );

    const plain = await engineFor('rules');
    accepted(await plain.handle(create('M1', 'pat@acme.example'), T0));
    expect(accepted(await plain.handle(create('M2', 'pat@acme.example'), T0 + 1)).lead.owner).toBe('ben');
  });

  it('looks past the newest open lead: an older one whose owner fits the target, or is at work, keeps the contact', async () => {
    const engine = await engineFor('owner');
    // Pat has a big deal with Carla (a closer) and, newer, a small one with Anna.
    const big = { type: 'lead.created', lead: 'L1', fields: { email: 'pat@acme.example', value: 90000 } } as const;
    expect(accepted(await engine.handle(big, T0)).lead.owner).toBe('carla');
    expect(accepted(await engine.handle(create('L2', 'pat@acme.example'), T0 + 1)).lead.owner).toBe('anna');
    // Another big deal: the rules send it to the closers, and the contact's closer is Carla.
    const next = accepted(
      await engine.handle(
        { type: 'lead.created', lead: 'L3', fields: { email: 'pat@acme.example', value: 60000 } },
        T0 + 2,
      ),
    );
    expect(next.lead.owner).toBe('carla');
    expect(next.log.map((l) => l.message)).toContain(
      "created: rule big still routes via team:closers/round_robin: kept by the contact's open lead L1: its owner carla",
    );

    // Kim's newest lead is Ben's, who is away; her older one is Anna's, who is at work.
    expect(accepted(await engine.handle(create('K1', 'kim@acme.example'), T0 + 3)).lead.owner).toBe('ben');
    expect(accepted(await engine.handle(create('K2', 'kim@acme.example'), T0 + 4)).lead.owner).toBe('ben');
    const reassigned = await engine.handle({ type: 'lead.reassigned', lead: 'K1', owner: 'anna' }, T0 + 5);
    accepted(reassigned);
    const away = accepted(await engine.handle(create('K3', 'kim@acme.example'), T0 + 9 * DAY));
    expect(away.lead.owner).toBe('anna');
    expect(away.log.map((l) => l.message).join('\n')).toContain("kept by the contact's open lead K1: its owner anna");
  });
});
