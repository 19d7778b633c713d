import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { call, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { dialects } from '../support/stores.js';

/**
 * A pipeline, stage or team a list is filtered on must be one the process has: a typo is a 400
 * naming the query parameter and the names it could be, not an empty list that reads as "no
 * leads". A team is named by its id or its name, in any case, as the reports take it. A stage or
 * pipeline a later process version removed is still a name: closed leads and done tasks stay in it.
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

  // Last: it applies later process versions.
  it('lists still take a stage and pipeline a later process version removed, and refuse only names none had', async () => {
    const r = await call(server, 'POST', '/api/v1/leads', { token: admin, body: { id: 'P-C', owner: 'rep-a1' } });
    expect(r.status, r.text).toBe(201);
    for (const [path, body] of [
      ['/api/v1/leads/P-C/move', { stage: 'proposal', override: true }],
      ['/api/v1/leads/P-C/tasks', { title: 'Send the offer', kind: 'todo', dueAt: '2026-03-05T10:00:00Z' }],
    ] as const) {
      const step = await call(server, 'POST', path, { token: admin, body });
      expect(step.status, step.text).toBeLessThan(300);
    }
    const tasks = await get('/api/v1/tasks?lead=P-C&status=open&stage=proposal');
    const task = (tasks.body as Page).items[0]?.id ?? '';
    expect(
      (await call(server, 'POST', `/api/v1/tasks/${encodeURIComponent(task)}/complete`, { token: admin })).status,
    ).toBe(200);
    const lost = await call(server, 'POST', '/api/v1/leads/P-C/lose', { token: admin, body: { reason: 'price' } });
    expect(lost.status, lost.text).toBe(200);
    // Version 2 adds a pipeline, version 3 drops it again along with the stage the lead was lost in.
    const renewals = 'pipelines:\n  - id: renewals\n    name: Renewals\n    stages:\n      - { id: due, name: Due }\n';
    const withRenewals = TEST_PROCESS.replace('pipelines:\n', renewals);
    expect(withRenewals).not.toBe(TEST_PROCESS);
    await applyProcess(server.store, withRenewals, server.clock.now, 'test');
    const withoutProposal = TEST_PROCESS.replace(/ {6}- id: proposal\n {8}name: Proposal\n {8}probability: 0.7\n/, '');
    expect(withoutProposal).not.toBe(TEST_PROCESS);
    await applyProcess(server.store, withoutProposal, server.clock.now, 'test');

    expect(await leadIds('status=lost&stage=proposal')).toEqual(['P-C']);
    expect(await leadIds('pipeline=sales&stage=proposal')).toEqual(['P-C']);
    expect(await leadIds('pipeline=renewals')).toEqual([]);
    const done = await get('/api/v1/tasks?status=done&pipeline=sales&stage=proposal');
    expect(done.status, done.text).toBe(200);
    expect((done.body as Page).items.map((t) => t.id)).toEqual([task]);
    expect((await get('/api/v1/board?pipeline=renewals')).status).toBe(200);

    const typo = await refused('/api/v1/leads?stage=proposl');
    expect(typo[0]?.message).toContain('did you mean proposal?');
    expect(typo[0]?.message).toContain('stages: new, qualified; no longer in the process: proposal');
    const elsewhere = await refused('/api/v1/tasks?pipeline=renewals&stage=proposal');
    expect(elsewhere.map((e) => e.field)).toEqual(['query.stage']);
    expect(elsewhere[0]?.message).toContain('of pipeline renewals');
  });
});
