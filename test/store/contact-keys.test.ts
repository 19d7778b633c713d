import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { listAudit } from '../../src/store/audit.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import { exportContact } from '../../src/store/contact-export.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import type { Store } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { isSuppressed } from '../../src/store/suppressions.js';
import { T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Erased contacts are named by a keyed hash (HMAC with a per-installation secret): a guessed
 * address cannot be checked against a pseudonym, the suppression list or the audit log without
 * the secret. Migration 0020 converts the unkeyed SHA-256 hashes that earlier versions stored.
 */

const PROCESS = `name: Keys
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
        on_enter: [{ email: { template: welcome } }]
templates:
  welcome: { subject: Welcome, body: Hello }
`;

const JANE = 'jane.doe@example.com';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('contact hashes on %s', (dialect) => {
  async function installation(): Promise<{ store: Store; engine: Engine }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    return { store, engine: new Engine(store) };
  }

  const create = (engine: Engine, lead: string, email: string): Promise<unknown> =>
    engine.handle({ type: 'lead.created', lead, fields: { name: 'Jane Doe', email } }, T0);

  it('pseudonym, suppression and audit use a keyed hash: not the SHA-256 of the address, one per person within an installation, another elsewhere', async () => {
    const a = await installation();
    const b = await installation();
    await create(a.engine, 'A1', JANE);
    await create(b.engine, 'B1', JANE);
    const ra = await eraseContact(a.store, JANE, 'dpo', T0 + 1000);
    const rb = await eraseContact(b.store, JANE, 'dpo', T0 + 1000);

    expect(ra.pseudonym).toMatch(/^erased-[0-9a-f]{10}$/);
    expect(ra.pseudonym).not.toBe(`erased-${sha256(JANE).slice(0, 10)}`);
    expect(ra.pseudonym).not.toBe(rb.pseudonym);
    expect(ra.emailHash).not.toBe(rb.emailHash);
    for (const { store } of [a, b]) {
      const held = JSON.stringify([
        await store.db.selectFrom('suppressions').selectAll().execute(),
        await listAudit(store.db, {}),
        await store.db.selectFrom('leads').selectAll().execute(),
      ]);
      expect(held).not.toContain(sha256(JANE));
      expect(held).not.toContain(sha256(JANE).slice(0, 10));
    }
    const lead = await a.store.db.selectFrom('leads').select('name').where('id', '=', 'A1').executeTakeFirstOrThrow();
    expect(lead.name).toBe(ra.pseudonym);

    // The same person, erased again later on another lead, gets the same pseudonym.
    await create(a.engine, 'A2', 'Jane.Doe@Example.com');
    const again = await eraseContact(a.store, JANE, 'dpo', T0 + 2000);
    expect(again.leads).toEqual(['A2']);
    expect(again.pseudonym).toBe(ra.pseudonym);
    expect(await isSuppressed(a.store.db, ' JANE.doe@example.com ')).toBe(true);
    expect(await isSuppressed(b.store.db, 'bob@example.com')).toBe(false);
  });

  it('migration 0020 converts the unkeyed hashes of a database erased before: the address stays suppressed everywhere, audit entries name the same person', async () => {
    const { store, engine } = await installation();
    // The database as an earlier version left it: her lead as its erase left it, and a lookalike name.
    const legacyPseudonym = `erased-${sha256(JANE).slice(0, 10)}`;
    await engine.handle({ type: 'lead.created', lead: 'OLD', fields: { name: legacyPseudonym, company: 'Acme' } }, T0);
    await engine.handle({ type: 'lead.lost', lead: 'OLD', reason: `${legacyPseudonym} said no` }, T0);
    await engine.handle({ type: 'lead.created', lead: 'LOOKALIKE', fields: { name: 'erased-0123456789' } }, T0);
    // No secret, and the SHA-256 of the erased address.
    await sql`drop table installation_secrets`.execute(store.db);
    await store.db
      .insertInto('suppressions')
      .values({ email_hash: sha256(JANE), at: T0, reason: 'erased' })
      .execute();
    await store.db
      .insertInto('audit_log')
      .values([
        {
          id: 'old-erase',
          at: T0,
          actor: 'dpo',
          action: 'contact.erase',
          target: sha256(JANE),
          details: JSON.stringify({ email_hash: sha256(JANE), leads: ['OLD'], cancelled: 0 }),
        },
        { id: 'other', at: T0, actor: 'dpo', action: 'export', target: 'leads', details: '{"rows":1}' },
      ])
      .execute();

    // Search keys came with migration 0029, after this one: a database it converts has none yet.
    await sql`update leads set search_key = ''`.execute(store.db);
    await migrations['0020_contact_hash_key']!.up(store.db);

    const keys = await contactKeys(store.db);
    expect(await store.db.selectFrom('suppressions').select('email_hash').execute()).toEqual([
      { email_hash: keys.hash(JANE) },
    ]);
    const audit = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', 'in', ['old-erase', 'other'])
      .orderBy('id')
      .execute();
    expect(audit.map((a) => [a.id, a.target, JSON.parse(a.details)])).toEqual([
      ['old-erase', keys.hash(JANE), { email_hash: keys.hash(JANE), leads: ['OLD'], cancelled: 0 }],
      ['other', 'leads', { rows: 1 }],
    ]);
    const pseudonym = keys.pseudonym(JANE);
    const old = await store.db.selectFrom('leads').selectAll().where('id', '=', 'OLD').executeTakeFirstOrThrow();
    expect([old.name, old.close_reason, JSON.parse(old.fields).name]).toEqual([
      pseudonym,
      `${pseudonym} said no`,
      pseudonym,
    ]);
    const history = await store.db
      .selectFrom('field_history')
      .select('new_value')
      .where('lead_id', '=', 'OLD')
      .where('field', '=', 'name')
      .executeTakeFirstOrThrow();
    expect(history.new_value).toBe(JSON.stringify(pseudonym));
    const everything = JSON.stringify(
      await Promise.all(
        (['leads', 'events', 'field_history', 'run_log', 'outbox', 'audit_log'] as const).map((t) =>
          store.db.selectFrom(t).selectAll().execute(),
        ),
      ),
    );
    expect(everything).not.toContain(legacyPseudonym);
    expect(everything).toContain('erased-0123456789');
    // Every path that checks suppression still knows the address.
    expect(await isSuppressed(store.db, 'Jane.Doe@example.com')).toBe(true);
    await create(engine, 'NEW', JANE);
    const mail = await store.db.selectFrom('outbox').select('id').where('lead_id', '=', 'NEW').execute();
    expect(mail).toEqual([]);
    const exported = await exportContact(store, 'jane.doe@example.com', 'dpo', T0 + 1000);
    expect(exported.suppressed).toBe(true);
  });
});
