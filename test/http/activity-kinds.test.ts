import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { session, tempFile } from '../cli/helpers.js';

/**
 * A goal counts an activity by its kind, so a kind is compared without case and stored as the known
 * kind, and a kind neither the goals nor the common list know is refused naming `body.kind` and the
 * kinds there are (review r6, finding 6): "Call" used to be stored and silently fail the goal.
 */

const PROCESS = TEST_PROCESS.replace(
  'goal: { all: [{ task_done: first-call }] }',
  'goal: { any: [{ task_done: first-call }, { activity: call }] }',
).replace('        probability: 0.4\n', '        probability: 0.4\n        goal: { activity: discovery_session }\n');

interface Lead {
  stage: string;
}
interface ProblemBody {
  detail?: string;
  errors?: { field: string; message: string }[];
}
interface Page {
  items: { kind: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('activity kinds over the API (%s)', (dialect) => {
  it('counts "Call" as the goal\'s call, stores the known kind and refuses a kind nobody knows', async () => {
    expect(PROCESS).toContain('discovery_session');
    const s = await startServer(dialect, { process: PROCESS });
    servers.push(s);
    const rep = await tokenFor(s, 'rep-a1');
    const id = await leadOf(s, await tokenFor(s, 'admin'), 'rep-a1');
    const log = (kind: string) =>
      call(s, 'POST', `/api/v1/leads/${id}/activities`, { token: rep, body: { kind, note: 'reached her' } });
    const kinds = async () =>
      ((await call(s, 'GET', `/api/v1/leads/${id}/activities`, { token: rep })).body as Page).items.map((a) => a.kind);

    const typo = await log('cal');
    expect(typo.status).toBe(400);
    const errors = (typo.body as ProblemBody).errors ?? [];
    expect(errors.map((e) => e.field)).toEqual(['body.kind']);
    expect(errors[0]?.message).toBe(
      '"cal" is not an activity kind: one of call, email, meeting, demo, note, visit, message, discovery_session',
    );
    expect(await kinds()).toEqual([]);

    const called = await log(' Call ');
    expect(called.status, called.text).toBe(201);
    const lead = (await call(s, 'GET', `/api/v1/leads/${id}`, { token: rep })).body as Lead;
    expect(lead.stage).toBe('qualified');

    expect((await log('Discovery_Session')).status).toBe(201);
    expect((await log('NOTE')).status).toBe(201);
    expect(await kinds()).toEqual(['call', 'discovery_session', 'note']);
  });
});

describe('activity kinds on the command line', () => {
  it('refuses an unknown kind with the list and stores a known one in its known spelling', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'stageflow-kinds-')), 'kinds.db');
    const cli = session(db);
    expect((await cli(['process', 'apply', tempFile('p.yaml', PROCESS)])).code).toBe(0);
    expect((await cli(['lead', 'create', '--id', 'K1', '--owner', 'rep-a1', '--field', 'value=10'])).code).toBe(0);
    const typo = await cli(['activity', 'log', 'K1', 'cal']);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('"cal" is not an activity kind: one of call, email');
    const ok = await cli(['activity', 'log', 'K1', 'CALL']);
    expect(ok.code, ok.stderr).toBe(0);
    const shown = await cli(['lead', 'show', 'K1', '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({ stage: 'qualified' });
  });
});
