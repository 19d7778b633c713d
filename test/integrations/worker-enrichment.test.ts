import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import type { Deliverer } from '../../src/integrations/delivery.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * Enrichment end to end: a lead enters a stage with `enrich: true`, one worker round asks a real
 * DNS server and fetches the company's home page from a real HTTP server (both on loopback), and
 * what it learned lands on the lead as a system `lead.updated`: on the row, in the field history
 * and on the timeline. A name a person typed is kept; a lead whose address changed in the
 * meantime learns nothing about the old one.
 */

const T0 = Date.parse('2026-03-02T09:00:00Z');

const processYaml = `
name: Enrichment
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
          - enrich: true
      - id: later
        name: Later
assignment:
  default_owner: anna
`;

const HOME = `<!doctype html><html><head>
  <title>Acme Robotics | Home</title>
  <meta property="og:site_name" content="Acme Robotics">
  <meta property="og:description" content="Robots for small warehouses.">
  <meta property="og:image" content="/logo.png">
</head><body><a href="https://www.linkedin.com/company/acme-robotics">LinkedIn</a></body></html>`;

let dns: DnsServer;
let web: Server;
let webUrl: string;

beforeAll(async () => {
  dns = await startDnsServer({ 'acme.test': { mx: [{ preference: 10, exchange: 'mx.acme.test' }] } });
  web = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(HOME);
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await dns.close();
  await new Promise<void>((r) => web.close(() => r()));
});

describe.each(dialects)('the worker enriches leads on %s', (dialect) => {
  let store: Store;
  afterEach(async () => {
    await store.close();
  });

  it('writes what the address, DNS and the website tell, and keeps what a person typed', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    const { deliverers, close } = buildDeliverers(loadConfig({}), {
      enrichment: { resolver: dns.resolver(), websiteFor: () => new URL(webUrl), allowPrivateAddresses: true },
    });
    try {
      await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'dana@acme.test' } }, T0);
      await engine.handle(
        { type: 'lead.created', lead: 'L2', fields: { email: 'bo@acme.test', company: 'ACME (typed by a rep)' } },
        T0,
      );
      await engine.handle({ type: 'lead.created', lead: 'L3', fields: { email: 'old@acme.test' } }, T0);
      // L3's address changes before the worker gets to it: nothing is learned about the old one.
      await engine.handle({ type: 'lead.updated', lead: 'L3', fields: { email: 'new@elsewhere.test' } }, T0 + 500);

      await workOnce(store, engine, { deliverers, now: () => T0 + 1_000, sessionIdleMs: 60_000 });

      const fieldsOf = async (id: string) =>
        JSON.parse(
          (await store.db.selectFrom('leads').select('fields').where('id', '=', id).executeTakeFirstOrThrow()).fields,
        ) as Record<string, unknown>;
      expect(await fieldsOf('L1')).toEqual({
        email: 'dana@acme.test',
        email_domain: 'acme.test',
        email_free_provider: false,
        email_disposable: false,
        email_domain_accepts_mail: true,
        company_website: webUrl.replace(/\/$/, ''),
        company_name: 'Acme Robotics',
        company_description: 'Robots for small warehouses.',
        company_logo_url: `${webUrl}logo.png`,
        company_linkedin_url: 'https://www.linkedin.com/company/acme-robotics',
        company: 'Acme Robotics',
        enriched_at: '2026-03-02T09:00:01.000Z',
      });
      const l2 = await fieldsOf('L2');
      expect(l2['company']).toBe('ACME (typed by a rep)');
      expect(l2['company_name']).toBe('Acme Robotics');
      expect(await fieldsOf('L3')).toEqual({ email: 'new@elsewhere.test' });

      const history = await store.db
        .selectFrom('field_history')
        .select(['field', 'new_value'])
        .where('lead_id', '=', 'L1')
        .where('field', '=', 'company_name')
        .execute();
      expect(history).toEqual([{ field: 'company_name', new_value: '"Acme Robotics"' }]);
      const events = await store.db
        .selectFrom('events')
        .select(['type', 'payload'])
        .where('lead_id', '=', 'L1')
        .orderBy('seq')
        .execute();
      expect(events.map((e) => e.type)).toEqual(['lead.created', 'lead.updated']);
      expect(JSON.parse(events[1]?.payload ?? '{}')).toMatchObject({ actor: { kind: 'system', id: 'enrich' } });
      const outbox = await store.db.selectFrom('outbox').select(['lead_id', 'status']).orderBy('lead_id').execute();
      expect(outbox).toEqual([
        { lead_id: 'L1', status: 'sent' },
        { lead_id: 'L2', status: 'sent' },
        { lead_id: 'L3', status: 'sent' },
      ]);
    } finally {
      await close();
    }
  });

  it('drops what was learned when the lead changed during the delivery: an address corrected, a contact erased', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'dana@acme.test' } }, T0);
    await engine.handle({ type: 'lead.created', lead: 'L2', fields: { email: 'bo@acme.test' } }, T0);
    await engine.handle({ type: 'lead.created', lead: 'L3', fields: { email: 'cy@acme.test' } }, T0);
    // A deliverer that takes its time: while it works, a rep corrects L1's address and an admin
    // erases L2's contact; L3 is left alone. What it learned must reach L3 only.
    const slow: Deliverer = async (item, ctx) => {
      if (item.lead === 'L1')
        await engine.handle({ type: 'lead.updated', lead: 'L1', fields: { email: 'dana@new.test' } }, T0 + 500);
      if (item.lead === 'L2') await eraseContact(store, 'bo@acme.test', 'admin', T0 + 500);
      const email = String(item.payload['email']);
      return {
        status: 'sent',
        followUp: { fields: { company_name: 'Acme Robotics' }, email },
        detail: ctx.now.toString(),
      };
    };
    await workOnce(store, engine, {
      deliverers: new Map([['enrich', slow]]),
      now: () => T0 + 1_000,
      sessionIdleMs: 60_000,
    });
    const fieldsOf = async (id: string) =>
      JSON.parse(
        (await store.db.selectFrom('leads').select('fields').where('id', '=', id).executeTakeFirstOrThrow()).fields,
      ) as Record<string, unknown>;
    expect(await fieldsOf('L1')).toEqual({ email: 'dana@new.test' });
    expect((await fieldsOf('L2'))['company_name']).toBeUndefined();
    expect(await fieldsOf('L3')).toEqual({ email: 'cy@acme.test', company_name: 'Acme Robotics' });
  });

  it('with ENRICH_WEBSITES=false, learns from the address and DNS only', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, processYaml, T0, 'test');
    const engine = new Engine(store);
    const { deliverers, close } = buildDeliverers(loadConfig({ ENRICH_WEBSITES: 'false' }), {
      enrichment: { resolver: dns.resolver(), websiteFor: () => new URL(webUrl), allowPrivateAddresses: true },
    });
    try {
      await engine.handle({ type: 'lead.created', lead: 'L1', fields: { email: 'dana@acme.test' } }, T0);
      await workOnce(store, engine, { deliverers, now: () => T0 + 1_000, sessionIdleMs: 60_000 });
      const row = await store.db.selectFrom('leads').select('fields').where('id', '=', 'L1').executeTakeFirstOrThrow();
      const fields = JSON.parse(row.fields) as Record<string, unknown>;
      expect(fields['email_domain_accepts_mail']).toBe(true);
      expect(Object.keys(fields).filter((k) => k.startsWith('company'))).toEqual([]);
    } finally {
      await close();
    }
  });
});
