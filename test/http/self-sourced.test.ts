import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * A lead a rep creates herself: hers under `assignment.self_sourced: creator` (she reads it and logs
 * the call she just had), routed by the rules under the default, where the answer's run log says so
 * and a later read is 404 as docs/api.md ("Roles and reach") says.
 */

const CREATOR = TEST_PROCESS.replace('  default_owner: admin\n', '  default_owner: admin\n  self_sourced: creator\n');

interface Created {
  id: string;
  owner: string;
  log: { rule: string | null; message: string }[];
}

// A southern lead: the rules give it to team B, not to rep-a1 who found it.
const body = { contact: { name: 'Kim Lee', company: 'Seoul Tech' }, fields: { territory: 'south', value: 12000 } };

describe.each(dialects)('self-sourced leads over HTTP on %s', (dialect) => {
  describe('under self_sourced: creator', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer(dialect, { process: CREATOR });
    });
    afterAll(() => server.close());

    it("is the rep's own: she reads it and logs an activity on it", async () => {
      const rep = await tokenFor(server, 'rep-a1');
      const created = await call(server, 'POST', '/api/v1/leads', { token: rep, body });
      expect(created.status).toBe(201);
      const lead = created.body as Created;
      expect(lead.owner).toBe('rep-a1');
      expect(lead.log.map((l) => l.message)).toContain(
        'created: self-sourced by rep-a1, who keeps it (assignment.self_sourced: creator); no cap holds it back or counts it',
      );
      expect((await call(server, 'GET', `/api/v1/leads/${lead.id}`, { token: rep })).status).toBe(200);
      const logged = await call(server, 'POST', `/api/v1/leads/${lead.id}/activities`, {
        token: rep,
        body: { kind: 'call' },
      });
      expect(logged.status).toBe(201);
    });

    it('a lead a manager or an admin enters is routed by the rules, as before', async () => {
      for (const who of ['mgr-a', 'admin']) {
        const created = await call(server, 'POST', '/api/v1/leads', { token: await tokenFor(server, who), body });
        expect(created.status).toBe(201);
        expect(['rep-b1', 'rep-b2']).toContain((created.body as Created).owner);
      }
    });
  });

  describe('under the default, self_sourced: rules', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer(dialect);
    });
    afterAll(() => server.close());

    it('is routed by the rules; the answer says why, and a later read is out of her reach', async () => {
      const rep = await tokenFor(server, 'rep-a1');
      const created = await call(server, 'POST', '/api/v1/leads', { token: rep, body });
      expect(created.status).toBe(201);
      const lead = created.body as Created;
      expect(['rep-b1', 'rep-b2']).toContain(lead.owner);
      expect(lead.log.map((l) => l.message)).toContain(
        'created: self-sourced by rep-a1; routed by the rules (assignment.self_sourced: rules)',
      );
      expect((await call(server, 'GET', `/api/v1/leads/${lead.id}`, { token: rep })).status).toBe(404);
    });
  });
});
