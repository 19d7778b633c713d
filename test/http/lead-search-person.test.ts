import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * The person a rep talks to is in first_name and last_name (importers and forms put them there;
 * `name` is often the company or a deal's title), so `q` finds a lead by "first last" and by either
 * part, in any case (review r6, finding 9).
 */

interface Page {
  items: { id: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('searching leads by the person (%s)', (dialect) => {
  it('finds "Jane Doe" by her full name, her surname and her first name, and nobody else', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const make = async (id: string, fields: Record<string, string>) => {
      const r = await call(s, 'POST', '/api/v1/leads', { token: admin, body: { id, owner: 'rep-a1', fields } });
      expect(r.status, r.text).toBe(201);
    };
    await make('JANE', { name: 'Acme Corp', first_name: 'Jane', last_name: 'Doe', email: 'j.d@acme.example' });
    await make('JOHN', { name: 'Doeling GmbH', first_name: 'John', last_name: 'Smith' });
    await make('HENRIK', { name: 'Aurora Energy SA', first_name: 'Henrik', last_name: 'Ueda' });
    const found = async (q: string) =>
      ((await call(s, 'GET', `/api/v1/leads?q=${encodeURIComponent(q)}`, { token: admin })).body as Page).items
        .map((l) => l.id)
        .sort();

    expect(await found('Jane Doe')).toEqual(['JANE']);
    expect(await found('  jane doe ')).toEqual(['JANE']);
    expect(await found('Doe')).toEqual(['JANE', 'JOHN']);
    expect(await found('Henrik Ueda')).toEqual(['HENRIK']);
    expect(await found('Henrik')).toEqual(['HENRIK']);
    expect(await found('Acme')).toEqual(['JANE']);
    expect(await found('Jane Smith')).toEqual([]);

    // The contacts list reads the person's name the same way.
    const contacts = async (q: string) =>
      (
        (await call(s, 'GET', `/api/v1/contacts?q=${encodeURIComponent(q)}`, { token: admin })).body as {
          items: { email: string }[];
        }
      ).items.map((c) => c.email);
    expect(await contacts('jane doe')).toEqual(['j.d@acme.example']);
    expect(await contacts('Henrik Ueda')).toEqual([]); // no address: not a contact
  });
});
