import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * A pipeline, stage or team a list is filtered on must be one the process has: a typo is a 400
 * naming the query parameter and the names it could be, not an empty list that reads as "no
 * leads". A team is named by its id or its name, in any case, as the reports take it.
 */

interface Problem {
  type: string;
  errors: { field: string; message: string }[];
}
interface Page {
  items: { id: string }[];
}

describe.each(dialects)('lists filtered on the process’s names on %s', (dialect) => {
  let server: TestServer;
  let admin: string;

  const get = (path: string) => call(server, 'GET', path, { token: admin });
  const leadIds = async (query: string) => {
    const r = await get(`/api/v1/leads?${query}`);
    expect(r.status, r.text).toBe(200);
    return (r.body as Page).items.map((l) => l.id).sort();
  };
  const refused = async (path: string) => {
    const r = await get(path);
    expect(r.status, r.text).toBe(400);
    return (r.body as Problem).errors;
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    for (const [id, owner] of [
      ['P-A', 'rep-a1'],
      ['P-B', 'rep-b1'],
    ] as const) {
      const r = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id, owner } });
      expect(r.status, r.text).toBe(201);
    }
  });
  afterAll(() => server.close());

  it('GET /leads takes a team by id or name in any case, and lists its members’ leads', async () => {
    for (const team of ['team-a', 'Team%20A', 'team%20a', 'TEAM-A'])
      expect(await leadIds(`team=${team}`)).toEqual(['P-A']);
    expect(await leadIds('pipeline=sales&stage=new')).toEqual(['P-A', 'P-B']);
  });

  it('GET /leads refuses an unknown stage, pipeline or team, naming each with what it could be', async () => {
    const stage = await refused('/api/v1/leads?stage=qualifed');
    expect(stage.map((e) => e.field)).toEqual(['query.stage']);
    expect(stage[0]?.message).toContain('did you mean qualified?');
    expect(stage[0]?.message).toContain('new, qualified, proposal');
    const all = await refused('/api/v1/leads?pipeline=sale&stage=won&team=EMEA');
    expect(all.map((e) => e.field)).toEqual(['query.pipeline', 'query.stage', 'query.team']);
    expect(all[0]?.message).toContain('did you mean sales?');
    expect(all[2]?.message).toContain('team-a, team-b');
  });

  it('GET /board takes a team by name and refuses an unknown pipeline or team', async () => {
    const r = await get('/api/v1/board?team=Team%20B');
    expect(r.status, r.text).toBe(200);
    expect((r.body as { leads: { id: string }[] }).leads.map((l) => l.id)).toEqual(['P-B']);
    const bad = await refused('/api/v1/board?pipeline=nope&team=team-c');
    expect(bad.map((e) => e.field)).toEqual(['query.pipeline', 'query.team']);
  });
});
