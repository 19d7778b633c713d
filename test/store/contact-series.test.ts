import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { EngineEvent } from '../../src/domain/events.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { KEPT_PREFIX } from '../../src/integrations/mail/deliver.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import { exportContact } from '../../src/store/contact-export.js';
import { KEPT_MAIL_ERASED, KEPT_MAIL_PREFIX } from '../../src/store/contact-kept-mail.js';
import type { Store } from '../../src/store/db.js';
import { deleteLead } from '../../src/store/lead-delete.js';
import { T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Whose rows a contact's export and erase take, on a real SQLite file and a real PostgreSQL: a
 * lead created again under a deleted lead's id (its outbox holds the deleted person's series too),
 * a lead that was another person's before the address became its email, a colleague's lead that
 * quoted the address only earlier, and mail kept as .eml files while SMTP was off.
 */

const PROCESS = `name: Series
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
        on_enter:
          - subscribe: { list: newsletter }
          - email: { template: welcome }
templates:
  welcome: { subject: Welcome, body: Hello }
`;

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
const ALICE = 'alice@first.test';
const BOB = 'bob@second.test';

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});
const mailDir = mkdtempSync(join(tmpdir(), 'stageflow-kept-'));
afterAll(() => rmSync(mailDir, { recursive: true, force: true }));

it("reads kept mail by the mail deliverer's own prefix", () => {
  expect(KEPT_MAIL_PREFIX).toBe(KEPT_PREFIX);
  expect(KEPT_MAIL_ERASED.startsWith(KEPT_PREFIX)).toBe(false);
});

describe.each(dialects)('whose rows a contact has, on %s', (dialect) => {
  async function setup(): Promise<{ store: Store; engine: Engine; at: () => number }> {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    let clock = T0;
    return { store, engine: new Engine(store), at: () => (clock += 60_000) };
  }
  async function handle(engine: Engine, at: () => number, ...events: EngineEvent[]): Promise<void> {
    for (const e of events) expect((await engine.handle(e, at())).ok).toBe(true);
  }
  const outbox = (store: Store) =>
    store.db.selectFrom('outbox').select(['id', 'status', 'payload', 'detail']).orderBy('id').execute();

  /** Alice's lead DUP, deleted; Bob's lead created again under the id DUP (its messages are series 2). */
  async function recreated(aliceErasedFirst: boolean) {
    const s = await setup();
    await handle(s.engine, s.at, { type: 'lead.created', lead: 'DUP', fields: { name: 'Alice', email: ALICE } });
    if (aliceErasedFirst) await eraseContact(s.store, ALICE, 'dpo', s.at());
    await deleteLead(s.store, 'DUP', 'admin', s.at());
    await handle(s.engine, s.at, { type: 'lead.created', lead: 'DUP', fields: { name: 'Bob', email: BOB } });
    return s;
  }

  it("keeps a deleted lead's messages out of the export and erase of the lead now under its id", async () => {
    const { store, at } = await recreated(false);
    const bob = await exportContact(store, BOB, 'dpo', at());
    expect(bob.leads[0]!.outbox.map((o) => o['id'])).toEqual(['DUP:1:0:list.subscribe:2', 'DUP:1:1:email:2']);
    expect(JSON.stringify(bob)).not.toContain(ALICE);
    // Hers are reachable by her address, as a deleted lead's messages.
    const alice = await exportContact(store, ALICE, 'dpo', at());
    expect(alice.leads).toEqual([]);
    expect(alice.deleted_lead_messages.map((o) => o['id'])).toEqual(['DUP:1:0:list.subscribe', 'DUP:1:1:email']);

    const before = (await outbox(store)).filter((o) => !o.id.endsWith(':2'));
    const result = await eraseContact(store, BOB, 'dpo', at());
    expect(result.listErasures.map((e) => e.id)).toEqual([`erase:DUP:newsletter:${md5(BOB)}`]);
    expect(result.cancelled).toBe(2); // Bob's two; Alice's were cancelled by the delete
    const after = await outbox(store);
    // Alice's rows are as they were: not Bob's pseudonym, no erasure of her address.
    expect(after.filter((o) => o.id.startsWith('DUP:1:') && !o.id.endsWith(':2'))).toEqual(before);
    expect(
      after
        .filter((o) => o.id.endsWith(':2'))
        .map((o) => [o.status, JSON.parse(o.payload).email ?? JSON.parse(o.payload).to]),
    ).toEqual([
      ['cancelled', result.pseudonym],
      ['cancelled', result.pseudonym],
    ]);
  });

  it('queues the erasure of each of two people erased from one lead id', async () => {
    const { store, at } = await recreated(true);
    await eraseContact(store, BOB, 'dpo', at());
    const erasures = (await outbox(store)).filter((o) => o.id.startsWith('erase:'));
    expect(erasures.map((o) => [o.id, JSON.parse(o.payload).email_hash])).toEqual(
      [ALICE, BOB].map((a) => [`erase:DUP:newsletter:${md5(a)}`, md5(a)]).sort(),
    );
  });

  it("exports to a lead's current contact only what is theirs, not the previous contact's", async () => {
    const { store, engine, at } = await setup();
    await handle(
      engine,
      at,
      { type: 'lead.created', lead: 'L', fields: { name: 'Acme', first_name: 'Alice', email: 'alice@acme.test' } },
      { type: 'activity.logged', lead: 'L', kind: 'call', note: 'Alice wants a call' },
      { type: 'lead.updated', lead: 'L', fields: { email: 'carol@acme.test', first_name: 'Carol' } },
    );
    const carol = (await exportContact(store, 'carol@acme.test', 'dpo', at())).leads[0]!;
    expect(JSON.stringify(carol).toLowerCase()).not.toContain('alice');
    expect(carol.events.map((e) => e['seq'])).toEqual([3]);
    expect(carol.activities).toEqual([]);
    expect(carol.field_history.map((h) => [h['field'], h['old_value'], h['new_value']])).toEqual([
      ['email', '(before this address)', 'carol@acme.test'],
      ['first_name', '(before this address)', 'Carol'],
    ]);
    // The move's unsubscribe of the old address is queued at Carol's event, with Alice's address left out.
    expect(carol.outbox.map((o) => [o['id'], (o['payload'] as { email: string }).email])).toEqual([
      ['L:3:0:list.unsubscribe', '(before this address)'],
      ['L:3:1:list.subscribe', 'carol@acme.test'],
    ]);
    // Business rows stay whole: the stay began before Carol.
    expect(carol.stays).toHaveLength(1);
  });

  it("exports and erases a colleague's lead that quoted the address only earlier", async () => {
    const { store, engine, at } = await setup();
    await handle(
      engine,
      at,
      { type: 'lead.created', lead: 'A', fields: { name: 'Ann', email: 'ann@zed.test' } },
      { type: 'lead.created', lead: 'B', fields: { name: 'Colleague', email: 'carl@zed.test', cc: 'ann@zed.test' } },
      { type: 'lead.updated', lead: 'B', fields: { cc: 'dora@zed.test' } },
    );
    const data = await exportContact(store, 'ann@zed.test', 'dpo', at());
    const b = data.mentioning_leads.find((l) => l.id === 'B');
    expect(b?.events.map((e) => e['seq'])).toEqual([1]);
    expect(b?.field_history.map((h) => [h['seq'], h['old_value'], h['new_value']])).toEqual([
      [1, null, 'ann@zed.test'],
      [2, 'ann@zed.test', null], // dora@zed.test is a third person's
    ]);
    const result = await eraseContact(store, 'ann@zed.test', 'dpo', at());
    expect(result.mentioningLeads).toEqual(['B']);
    const rows = await Promise.all(
      (['events', 'field_history', 'run_log'] as const).map((t) =>
        store.db.selectFrom(t).selectAll().where('lead_id', '=', 'B').execute(),
      ),
    );
    const text = JSON.stringify(rows);
    expect(text).not.toContain('ann@zed.test');
    expect(text).toContain('dora@zed.test'); // the colleague's lead keeps its own values
  });

  it('exports a kept .eml message and deletes it with the erasure', async () => {
    const { store, engine, at } = await setup();
    await handle(engine, at, { type: 'lead.created', lead: 'K', fields: { name: 'Kim Kept', email: 'kim@kept.test' } });
    const file = join(mailDir, `${dialect}-K.eml`);
    writeFileSync(file, 'To: kim@kept.test\r\nSubject: Welcome\r\n\r\nHello Kim Kept\r\n');
    await store.db
      .updateTable('outbox')
      .set({ status: 'sent', attempts: 1, detail: `${KEPT_PREFIX}${file}` })
      .where('id', '=', 'K:1:1:email')
      .execute();
    const data = await exportContact(store, 'kim@kept.test', 'dpo', at());
    const mail = data.leads[0]!.outbox.find((o) => o['id'] === 'K:1:1:email');
    expect(mail?.['kept_message']).toBe('To: kim@kept.test\nSubject: Welcome\n\nHello Kim Kept\n');

    const result = await eraseContact(store, 'kim@kept.test', 'dpo', at());
    expect(result).toMatchObject({ keptFiles: 1, keptFilesLeft: [] });
    expect(existsSync(file)).toBe(false);
    const row = (await outbox(store)).find((o) => o.id === 'K:1:1:email');
    expect(row?.detail).toBe(KEPT_MAIL_ERASED);
  });
});
