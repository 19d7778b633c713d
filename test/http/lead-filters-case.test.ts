import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * GET /api/v1/leads's company=, email= and q= ignore the case of every letter, not ASCII alone,
 * on both databases (domain/text-key.ts): `company=öko gmbh` finds `ÖKO GmbH` on SQLite too.
 */

interface Page {
  items: { id: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('lead filters in any letter case (%s)', (dialect) => {
  it('finds ÖKO GmbH by öko gmbh, Straße AG by STRASSE AG, Işık by IŞIK', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const make = async (id: string, fields: Record<string, string>) => {
      const r = await call(s, 'POST', '/api/v1/leads', { token: admin, body: { id, owner: 'rep-a1', fields } });
      expect(r.status, r.text).toBe(201);
    };
    await make('OEKO', { name: 'Öko deal', company: 'ÖKO GmbH', email: 'Jorg@Oeko.example' });
    await make('STREET', { name: 'Street deal', company: 'Straße AG' });
    await make('LIGHT', { name: 'Light deal', company: 'Işık Ltd' });
    const found = async (query: string) =>
      ((await call(s, 'GET', `/api/v1/leads?${query}`, { token: admin })).body as Page).items.map((l) => l.id).sort();

    expect(await found(`company=${encodeURIComponent('öko gmbh')}`)).toEqual(['OEKO']);
    expect(await found(`email=${encodeURIComponent(' JORG@oeko.example')}`)).toEqual(['OEKO']);
    expect(await found(`company=${encodeURIComponent('STRASSE AG')}`)).toEqual(['STREET']);
    expect(await found(`q=${encodeURIComponent('IŞIK')}`)).toEqual(['LIGHT']);
    expect(await found(`q=${encodeURIComponent('ÖKO')}`)).toEqual(['OEKO']);
  });
});
