import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dialects } from '../support/stores.js';
import { call, leadOf, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';
import { session, tempFile } from '../cli/helpers.js';

/**
 * A deal signed on the 30th and entered on the 1st is dated the 30th: win and lose take an optional
 * closedAt, not in the future and not before the lead entered its stage, kept as the lead's closedAt
 * (what the reports bucket by), in the run log and in the audit log (review r6, finding 10).
 */

interface Lead {
  status: string;
  closedAt: string | null;
  log: { message: string }[];
}
interface ProblemBody {
  errors?: { field: string; message: string }[];
}

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe.each(dialects)('a close dated earlier (%s)', (dialect) => {
  it('keeps the given closedAt, logs and audits it, and refuses one in the future or before the stage', async () => {
    const s = await startServer(dialect);
    servers.push(s);
    const admin = await tokenFor(s, 'admin');
    const mgr = await tokenFor(s, 'mgr-a');
    const won = await leadOf(s, admin, 'rep-a1');
    const lost = await leadOf(s, admin, 'rep-a1');
    s.clock.now = Date.parse('2026-03-04T08:00:00Z'); // entered their stage on 2 March, 09:00

    const close = (id: string, verb: string, body: object) =>
      call(s, 'POST', `/api/v1/leads/${id}/${verb}`, { token: mgr, body });
    for (const [closedAt, message] of [
      ['2026-03-05T00:00:00Z', 'is in the future'],
      ['2026-03-02T08:59:00Z', 'is before the lead entered its stage, at 2026-03-02T09:00:00.000Z'],
    ] as const) {
      const refused = await close(won, 'win', { reason: 'signed', closedAt });
      expect(refused.status, refused.text).toBe(400);
      expect((refused.body as ProblemBody).errors).toEqual([{ field: 'body.closedAt', message }]);
    }
    expect(((await call(s, 'GET', `/api/v1/leads/${won}`, { token: mgr })).body as Lead).status).toBe('open');

    const signed = await close(won, 'win', { reason: 'signed', closedAt: '2026-03-03T18:00:00+02:00' });
    expect(signed.status, signed.text).toBe(200);
    const lead = signed.body as Lead;
    expect(lead).toMatchObject({ status: 'won', closedAt: '2026-03-03T16:00:00.000Z' });
    expect(lead.log.map((l) => l.message)).toContain(
      'lead won: signed (closed 2026-03-03T16:00:00.000Z, recorded now)',
    );

    const gone = await close(lost, 'lose', { reason: 'no budget', closedAt: '2026-03-02T12:00:00Z' });
    expect(gone.status, gone.text).toBe(200);
    expect((gone.body as Lead).closedAt).toBe('2026-03-02T12:00:00.000Z');

    const undated = await leadOf(s, admin, 'rep-a1');
    const now = await close(undated, 'lose', { reason: 'spam' });
    expect((now.body as Lead).closedAt).toBe('2026-03-04T08:00:00.000Z');

    const audit = await call(s, 'GET', '/api/v1/audit?action=lead.close_dated', { token: admin });
    expect(audit.status, audit.text).toBe(200);
    expect(audit.text).toContain('2026-03-03T16:00:00.000Z');
    expect(audit.text).toContain('2026-03-02T12:00:00.000Z');
    // The reports read it: the won lead counts on 3 March.
    const byDay = await call(s, 'GET', '/api/v1/leads?status=won&closed_from=2026-03-03&closed_to=2026-03-04', {
      token: admin,
    });
    expect((byDay.body as { items: { id: string }[] }).items.map((l) => l.id)).toEqual([won]);
  });
});

describe('a close dated earlier on the command line', () => {
  it('wins with --closed-at and refuses one before the stage', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'stageflow-closed-')), 'closed.db');
    const cli = session(db);
    expect((await cli(['process', 'apply', tempFile('p.yaml', TEST_PROCESS)])).code).toBe(0);
    expect((await cli(['lead', 'create', '--id', 'C1', '--owner', 'rep-a1'])).code).toBe(0);
    const later = '2026-03-04T08:00:00Z';
    const early = await cli(['lead', 'win', 'C1', '--closed-at', '2026-03-01T00:00:00Z'], later);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('is before the lead entered stage new at 2026-03-02T09:00:00.000Z [invalid_field]');
    const ok = await cli(['lead', 'win', 'C1', '--closed-at', '2026-03-03T16:00:00Z'], later);
    expect(ok.code, ok.stderr).toBe(0);
    const shown = JSON.parse((await cli(['lead', 'show', 'C1', '--json'], later)).stdout) as { closedAt: string };
    expect(shown.closedAt).toContain('2026-03-03');
  });
});
