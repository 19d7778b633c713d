import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { unsubscribeTokens } from '../../src/auth/unsubscribe-token.js';
import { Engine, type EventOutcome } from '../../src/engine/engine.js';
import { runImport } from '../../src/import/import-service.js';
import { deleteLead } from '../../src/store/lead-delete.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * An opt-out outlives the leads that carried it (CAN-SPAM, GDPR): an address that unsubscribed
 * through a one-click link while no lead had it, or through a lead since deleted, opts out every
 * lead created, imported or re-addressed to it later, whose marketing mail and list subscribes are
 * then skipped; a person opting the lead back in forgets it, and the audit log says so.
 */

const SECRET = 'unsubscribe-secret-for-the-tests-0123456789';

const PROCESS = `
name: Remembered opt-out test
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: new
        name: New
        on_enter:
          - email: { template: newsletter, to: contact }
      - id: nurture
        name: Nurture
        on_enter:
          - subscribe: { list: nurture }
assignment:
  default_owner: anna
templates:
  newsletter:
    subject: 'News'
    marketing: true
    body: 'Here is what is new.'
`;

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const DAY = '2026-';

describe.each(dialects)('remembered opt-outs on %s', (dialect) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });
  const dir = mkdtempSync(join(tmpdir(), 'stageflow-remembered-opt-out-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setUp(people = false) {
    const server = await startServer(dialect, {
      process: PROCESS,
      people,
      publicRoutes: { unsubscribeSecret: SECRET, mailchimpWebhook: { secret: '', lists: new Map() } },
    });
    closers.push(() => server.close());
    return { server, engine: new Engine(server.store), at: server.clock.now };
  }

  const oneClick = (server: TestServer, email: string) =>
    call(server, 'POST', `/unsubscribe/${unsubscribeTokens(SECRET).make(email)}`, {
      headers: FORM,
      body: 'List-Unsubscribe=One-Click',
    });

  const optedOut = (out: EventOutcome) => (out.ok ? out.lead.fields['unsubscribed'] : 'refused');
  const kinds = (out: EventOutcome) => (out.ok ? out.effects.map((e) => e.kind) : []);
  const messages = (out: EventOutcome) => (out.ok ? out.log.map((l) => l.message).join('\n') : out.error.message);

  it('a one-click unsubscribe of an address no lead has opts out the leads that get it later', async () => {
    const { server, engine, at } = await setUp();
    expect((await oneClick(server, 'Lisa@Buyer.example')).status).toBe(200);
    // Remembered as the keyed hash only.
    const rows = await server.store.db.selectFrom('opt_outs').selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toMatch(/lisa/i);
    expect(rows[0]?.source).toBe('unsubscribe link');

    // A new lead with the address: opted out from the start, with the reason; no marketing mail.
    const created = await engine.handle(
      { type: 'lead.created', lead: 'L1', fields: { email: ' lisa@buyer.EXAMPLE ' } },
      at + 1000,
    );
    expect(optedOut(created)).toBe(true);
    const day = new Date(at).toISOString().slice(0, 10);
    expect(messages(created)).toContain(`unsubscribed: the address opted out on ${day} (unsubscribe link)`);
    expect(messages(created)).toContain('email newsletter not sent: contact unsubscribed from marketing mail');
    expect(kinds(created)).not.toContain('email');
    // Its next stage's list subscribe is skipped too.
    const moved = await engine.handle({ type: 'lead.moved', lead: 'L1', stage: 'nurture', override: false }, at + 2000);
    expect(moved.ok).toBe(true);
    expect(kinds(moved)).not.toContain('list.subscribe');

    // Someone else's lead re-addressed to it: opted out, and so not subscribed.
    const other = await engine.handle({ type: 'lead.created', lead: 'L2', fields: { email: 'x@buyer.example' } }, at);
    expect(optedOut(other)).toBeUndefined();
    expect(kinds(other)).toContain('email');
    const readdressed = await engine.handle(
      { type: 'lead.updated', lead: 'L2', fields: { email: 'lisa@buyer.example' } },
      at + 3000,
    );
    expect(optedOut(readdressed)).toBe(true);
    expect(messages(readdressed)).toContain('the address opted out on');
    const l2moved = await engine.handle(
      { type: 'lead.moved', lead: 'L2', stage: 'nurture', override: false },
      at + 4000,
    );
    expect(kinds(l2moved)).not.toContain('list.subscribe');

    // An import of a deal with the address (its file says nothing of consent): opted out too.
    const csv = join(dir, `${dialect}.csv`);
    writeFileSync(
      csv,
      'Ref,Deal,Email,Unsub\n1,D1,LISA@buyer.example,\n2,D2,y@buyer.example,\n3,D3,kim@buyer.example,yes\n',
    );
    const report = await runImport(server.store, {
      format: 'generic',
      path: csv,
      mapping: {
        text: 'source: sheet\ncolumns: { id: Ref, name: Deal, email: Email }\nfields: { unsubscribed: Unsub }\n',
        label: 'm.yaml',
      },
      dryRun: false,
      skipInvalid: false,
      now: at + 5000,
      actor: { kind: 'import', id: 'tester' },
    });
    expect(report).toMatchObject({ outcome: 'imported', written: 3 });
    expect(report.problems.map((p) => p.message)).toContain(
      `imported as unsubscribed: the address opted out on ${day} (unsubscribe link)`,
    );
    const imported = await server.store.db
      .selectFrom('leads')
      .select(['id', 'fields'])
      .where('id', 'like', 'sheet:%')
      .orderBy('id')
      .execute();
    expect(imported.map((l) => (JSON.parse(l.fields) as Record<string, unknown>)['unsubscribed'])).toEqual([
      true,
      undefined,
      true,
    ]);
    // An opt-out the file says is remembered too: a lead created later with that address is opted out.
    const kim = await engine.handle(
      { type: 'lead.created', lead: 'L9', fields: { email: 'kim@buyer.example' } },
      at + 6000,
    );
    expect(optedOut(kim)).toBe(true);
    expect(messages(kim)).toContain(`the address opted out on ${day} (import sheet)`);
  });

  it('a lead opted out by a person is remembered after the lead is deleted; opting back in forgets it, audited', async () => {
    const { server, engine, at } = await setUp();
    const user = { kind: 'user', id: 'anna' } as const;
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'max@buyer.example' } }, at);
    const out = await engine.handle(
      { type: 'lead.updated', lead: 'L1', fields: { unsubscribed: 'yes' }, actor: user },
      at + 1000,
    );
    expect(optedOut(out)).toBe(true);
    await deleteLead(server.store, 'L1', 'anna', at + 2000);

    const again = await engine.handle(
      { type: 'lead.created', lead: 'L2', fields: { email: 'max@buyer.example' } },
      at + 3000,
    );
    expect(optedOut(again)).toBe(true);
    expect(messages(again)).toContain(`the address opted out on ${DAY}`);
    expect(messages(again)).toContain('(user anna)');
    expect(kinds(again)).not.toContain('email');

    // Opting back in: forgotten, and the audit log says who did it.
    const optIn = await engine.handle(
      { type: 'lead.updated', lead: 'L2', fields: { unsubscribed: false }, actor: user },
      at + 4000,
    );
    expect(optedOut(optIn)).toBe(false);
    expect(await server.store.db.selectFrom('opt_outs').selectAll().execute()).toEqual([]);
    const audit = await server.store.db
      .selectFrom('audit_log')
      .select(['actor', 'details'])
      .where('action', '=', 'contact.opted_in')
      .execute();
    expect(audit.map((a) => [a.actor, JSON.parse(a.details) as unknown])).toEqual([['user anna', { lead: 'L2' }]]);
    const later = await engine.handle(
      { type: 'lead.created', lead: 'L3', fields: { email: 'max@buyer.example' } },
      at + 5000,
    );
    expect(optedOut(later)).toBeUndefined();
    expect(kinds(later)).toContain('email');
  });

  it('the contact export shows the remembered opt-out; an erase keeps it, and the address stays unmailed', async () => {
    const { server, engine, at } = await setUp(true);
    const admin = await tokenFor(server, 'admin');
    const exportOf = (email: string) =>
      call(server, 'POST', '/api/v1/contacts/export', { token: admin, body: { email } });
    // Never known: 404. Opted out with no lead: the export says so, and nothing else.
    expect((await exportOf('zoe@buyer.example')).status).toBe(404);
    expect((await oneClick(server, 'zoe@buyer.example')).status).toBe(200);
    const alone = await exportOf('Zoe@buyer.example');
    expect(alone.status).toBe(200);
    expect(alone.body).toMatchObject({
      suppressed: false,
      opted_out: { at: new Date(at).toISOString(), source: 'unsubscribe link' },
      leads: [],
    });
    // With a lead: the lead and the opt-out.
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'zoe@buyer.example' } }, at + 1000);
    expect((await exportOf('zoe@buyer.example')).body).toMatchObject({
      opted_out: { source: 'unsubscribe link' },
      leads: [{ id: 'L1' }],
    });
    // Someone who never opted out: null.
    await engine.handle({ type: 'lead.created', lead: 'L2', fields: { email: 'ray@buyer.example' } }, at);
    expect((await exportOf('ray@buyer.example')).body).toMatchObject({ opted_out: null });

    // Erased: suppressed, and the opt-out stays.
    const erased = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'zoe@buyer.example' },
    });
    expect(erased.status).toBe(200);
    expect(await exportOf('zoe@buyer.example')).toMatchObject({
      status: 200,
      body: { suppressed: true, opted_out: { source: 'unsubscribe link' }, leads: [] },
    });
    const again = await engine.handle(
      { type: 'lead.created', lead: 'L3', fields: { email: 'zoe@buyer.example' } },
      at + 2000,
    );
    expect(optedOut(again)).toBe(true);
    expect(kinds(again)).not.toContain('email');

    // An address known only by its opt-out can be erased too.
    expect((await oneClick(server, 'ida@buyer.example')).status).toBe(200);
    const idaErased = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'ida@buyer.example' },
    });
    expect(idaErased).toMatchObject({ status: 200, body: { alreadyErased: false, leads: [] } });
    expect(await exportOf('ida@buyer.example')).toMatchObject({
      body: { suppressed: true, opted_out: { at: expect.any(String) } },
    });
  });
});
