import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * The contact routes hand over and erase what an address left on a lead that has another address
 * by now: the answers carry it (the serializer drops what its schema does not name).
 */

describe.each(dialects)('contact routes and earlier leads on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
  });
  afterAll(() => server.close());

  it('exports and erases a lead whose email was the address before it changed', async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a2', contact: { name: 'Old Contact', email: 'old@moved.example' } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const changed = await new Engine(server.store).handle(
      { type: 'lead.updated', lead: id, fields: { email: 'new@moved.example', name: 'New Contact' } },
      server.clock.now,
    );
    expect(changed.ok).toBe(true);

    const exported = await call(server, 'POST', '/api/v1/contacts/export', {
      token: admin,
      body: { email: 'old@moved.example' },
    });
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({
      leads: [],
      earlier_leads: [{ id, address_held: 'earlier' }],
      deleted_lead_messages: [],
    });
    expect(JSON.stringify(exported.body)).not.toContain('new@moved.example');

    const erased = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'old@moved.example' },
    });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ leads: [], earlierLeads: [id], deletedLeadMessages: 0, alreadyErased: false });
    const lead = await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin });
    expect((lead.body as { contact: { email: string | null } }).contact.email).toBe('new@moved.example');
  });
});
