import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * Reassigning by the rules may route a lead out of a manager's teams, where she can no longer see
 * it: as handover refuses `rules` to managers, so does a reassign without an owner (review r6,
 * finding 4). An admin may; a manager names an owner of her teams.
 */

interface Lead {
  owner: string;
}
interface ProblemBody {
  detail?: string;
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('reassigning by the rules (%s)', (dialect) => {
  it('refuses a manager, naming why, changes nothing, audits it, and lets an admin', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const mgr = await tokenFor(s, 'mgr-a');
    // No territory: the rules give it to the default owner, the admin, outside team A.
    const id = await leadOf(s, admin, 'rep-a1');
    const reassign = (token: string, body: object) => call(s, 'POST', `/api/v1/leads/${id}/reassign`, { token, body });

    for (const body of [{}, undefined]) {
      const refused = await call(s, 'POST', `/api/v1/leads/${id}/reassign`, { token: mgr, ...(body ? { body } : {}) });
      expect(refused.status, refused.text).toBe(403);
      expect((refused.body as ProblemBody).detail).toContain(
        'the assignment rules may give the lead to someone outside your teams',
      );
    }
    const still = await call(s, 'GET', `/api/v1/leads/${id}`, { token: mgr });
    expect(still.status).toBe(200);
    expect((still.body as Lead).owner).toBe('rep-a1');
    const audit = await call(s, 'GET', '/api/v1/audit?action=access.denied', { token: admin });
    expect(audit.text).toContain('outside your teams');

    const named = await reassign(mgr, { owner: 'rep-a2' });
    expect(named.status, named.text).toBe(200);
    expect((named.body as Lead).owner).toBe('rep-a2');

    const byRules = await reassign(admin, {});
    expect(byRules.status, byRules.text).toBe(200);
    expect((byRules.body as Lead).owner).toBe('admin');
  });
});
