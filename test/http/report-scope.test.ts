import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPORTS } from '../../src/reports/registry.js';
import type { ReportOutput } from '../../src/reports/run-report.js';
import { call, tokenFor, startServer, type TestServer } from '../support/http.js';
import { NAMES, playScenario, SCOPE_NOW, SCOPE_PROCESS } from '../support/owner-scope-scenario.js';
import { dialects } from '../support/stores.js';

/**
 * GET /api/v1/reports/:name on the real server: a manager's report is computed over their reach
 * (their teams' leads and their own, their people's work), an admin's over everything, and no
 * report a manager or a rep can run names anyone outside their reach, in any row, summary or note.
 * Data: test/support/owner-scope-scenario.ts with its extras (mgr-a's own lead M1, the admin's
 * X1, and R1 worked by rep-b1 and then handed over to rep-a1).
 */

const PERIOD = 'from=2026-09-01&to=2026-12-01';

function queryFor(name: string): string {
  if (name === 'forecast') return 'period=2026-12';
  if (name === 'quota') return 'period=2026-11';
  return PERIOD;
}

/** Who each caller reaches (src/http/access.ts reachOf, restated). */
const REACH: Record<string, string[]> = {
  'mgr-a': ['mgr-a', 'rep-a1', 'rep-a2'],
  'mgr-b': ['mgr-b', 'rep-b1', 'rep-b2'],
  'rep-b1': ['rep-b1'],
};

/** Ids and names of everyone outside `reach`. */
function strangers(reach: readonly string[]): string[] {
  return Object.keys(NAMES)
    .filter((id) => !reach.includes(id))
    .flatMap((id) => [id, NAMES[id] as string]);
}

describe.each(dialects)('reports limited to the caller on %s', (dialect) => {
  let server: TestServer;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    server = await startServer(dialect, { process: SCOPE_PROCESS });
    await playScenario(server.store, { extras: true, applyProcess: false });
    server.clock.now = SCOPE_NOW;
    for (const id of ['admin', 'mgr-a', 'mgr-b', 'rep-b1'])
      tokens.set(id, await tokenFor(server, id, ['reports:read']));
  });
  afterAll(() => server.close());

  async function report(who: string, name: string, query: string): Promise<ReportOutput> {
    const r = await call(server, 'GET', `/api/v1/reports/${name}?${query}`, { token: tokens.get(who) as string });
    if (r.status !== 200) throw new Error(`${who} ${name}?${query}: ${r.status} ${r.text}`);
    return r.body as ReportOutput;
  }

  it("a manager's win rate by product counts only their teams' leads and their own", async () => {
    const out = await report('mgr-a', 'win-rate', `${PERIOD}&by=product`);
    expect(out.rows).toEqual([
      // A1, A3 won; cohort A1, A3, A5, A6 and R1 (rep-a1's now)
      { product: 'alpha', won: 2, lost: 0, closed: 2, win_rate: 1, cohort: 5, cohort_won: 2, cohort_win_rate: 0.4 },
      // A2 won, A4 lost
      { product: 'beta', won: 1, lost: 1, closed: 2, win_rate: 0.5, cohort: 2, cohort_won: 1, cohort_win_rate: 0.5 },
      // M1, mgr-a's own
      { product: 'gamma', won: 1, lost: 0, closed: 1, win_rate: 1, cohort: 1, cohort_won: 1, cohort_win_rate: 1 },
    ]);
    expect(out.notes).toEqual([
      'limited to your teams and your own leads: figures count only the leads owned by (and the work of) Mia Manager, Anna A1, Arno A2',
    ]);
  });

  it("without a grouping, a manager gets their teams' figure, not the organisation's", async () => {
    const a = await report('mgr-a', 'win-rate', PERIOD);
    expect(a.rows).toEqual([
      { won: 4, lost: 1, closed: 5, win_rate: 0.8, cohort: 8, cohort_won: 4, cohort_win_rate: 0.5 },
    ]);
    // B1, B4 lost, B2, B3 won; R1 left for team A, so it is not mgr-b's any more.
    const b = await report('mgr-b', 'win-rate', PERIOD);
    expect(b.rows).toEqual([
      { won: 2, lost: 2, closed: 4, win_rate: 0.5, cohort: 5, cohort_won: 2, cohort_win_rate: 0.4 },
    ]);
  });

  it('an admin sees the whole organisation, unlimited', async () => {
    const out = await report('admin', 'win-rate', PERIOD);
    // Won A1, A2, A3, B2, B3, M1; lost A4, B1, B4, X1; every lead was created in the period.
    expect(out.rows).toEqual([
      { won: 6, lost: 4, closed: 10, win_rate: 0.6, cohort: 14, cohort_won: 6, cohort_win_rate: 0.4286 },
    ]);
    expect(out.notes).toBeUndefined();
    const byProduct = await report('admin', 'win-rate', `${PERIOD}&by=product`);
    expect(byProduct.rows.map((r) => r['product'])).toEqual(['alpha', 'beta', 'delta', 'gamma']);
  });

  it("?team= limits a report to a team, as the CLI's --team; a manager may ask only for their own teams", async () => {
    // Team B's members only: B1, B4 lost, B2, B3 won (R1 is rep-a1's now).
    const b = await report('admin', 'win-rate', `${PERIOD}&team=team-b`);
    expect(b.rows).toEqual([
      { won: 2, lost: 2, closed: 4, win_rate: 0.5, cohort: 5, cohort_won: 2, cohort_win_rate: 0.4 },
    ]);
    expect(b.notes?.[0]).toMatch(/^limited to team Team B: .*Bea B1, Ben B2$/);
    // By name too; for mgr-a, their own team is the reach without their own lead M1.
    const a = await report('mgr-a', 'win-rate', `${PERIOD}&team=Team%20A`);
    expect(a.rows).toEqual([
      { won: 3, lost: 1, closed: 4, win_rate: 0.75, cohort: 7, cohort_won: 3, cohort_win_rate: 0.4286 },
    ]);
    const other = await call(server, 'GET', `/api/v1/reports/win-rate?${PERIOD}&team=team-b`, {
      token: tokens.get('mgr-a') as string,
    });
    expect(other.status).toBe(404);
    const unknown = await call(server, 'GET', `/api/v1/reports/win-rate?${PERIOD}&team=team-z`, {
      token: tokens.get('admin') as string,
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('unknown team \\"team-z\\" (teams: team-a, team-b)');
    const empty = await call(server, 'GET', `/api/v1/reports/win-rate?${PERIOD}&team=`, {
      token: tokens.get('admin') as string,
    });
    expect(empty.status).toBe(400);
  });

  it("no report, by any grouping, names anyone outside a manager's reach", async () => {
    let checked = 0;
    for (const manager of ['mgr-a', 'mgr-b'])
      for (const def of REPORTS)
        for (const by of [null, ...def.dimensions]) {
          const out = await report(manager, def.name, `${queryFor(def.name)}${by ? `&by=${by}` : ''}`);
          const what = `${manager} ${def.name} by ${by ?? 'nothing'}`;
          expect(out.notes?.[0], what).toMatch(/^limited to your teams and your own leads: /);
          for (const row of out.rows)
            if (typeof row['owner_id'] === 'string') expect(REACH[manager], what).toContain(row['owner_id']);
          const text = JSON.stringify(out);
          for (const s of strangers(REACH[manager] as string[])) expect(text, `${what} names ${s}`).not.toContain(s);
          checked++;
        }
    expect(checked).toBe(2 * REPORTS.reduce((n, r) => n + 1 + r.dimensions.length, 0));
  });

  it("coaching names the top reps only within the reach: rep-a1 is the one, so mgr-b's note does not say who", async () => {
    // The top quarter is floor(n / 4) reps, at least one, by win rate shrunk towards the team's p
    // (docs/reports.md, coaching): rep-a1 alone, (2 + 10 p) / 12 for 2 of 2 won, ahead of mgr-a's
    // (1 + 10 p) / 11 for M1 (1 of 1) whenever p < 1.
    const a = await report('mgr-a', 'coaching', PERIOD);
    expect(a.notes?.[1]).toBe('window 2026-09-01 to 2026-12-01; top reps: Anna A1 (2 of 2 won)');
    const b = await report('mgr-b', 'coaching', PERIOD);
    expect(b.notes?.[1]).toBe(
      'window 2026-09-01 to 2026-12-01; top reps: reps outside the people this report is limited to',
    );
    expect(b.rows.map((r) => r['owner_id']).sort()).toEqual(['rep-b1', 'rep-b2']);
  });

  it("a rep's own coaching plan names no one else, the top reps included", async () => {
    const out = await report('rep-b1', 'coaching', PERIOD);
    expect(out.summary).toMatchObject({ owner_id: 'rep-b1' });
    expect(out.notes?.[0]).toBe('limited to yourself: figures count only the leads owned by (and the work of) Bea B1');
    const text = JSON.stringify(out);
    for (const s of strangers(REACH['rep-b1'] as string[])) expect(text, `rep-b1's plan names ${s}`).not.toContain(s);
    const refused = await call(server, 'GET', `/api/v1/reports/win-rate?${PERIOD}`, { token: tokens.get('rep-b1') });
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('their own coaching plan, quota and forecast');
    // Asking for a colleague's plan is not answered with one's own: that rep is out of reach.
    const own = await call(server, 'GET', `/api/v1/reports/coaching?${PERIOD}&owner=rep-b1`, {
      token: tokens.get('rep-b1'),
    });
    expect(own.status).toBe(200);
    const me = await call(server, 'GET', `/api/v1/reports/coaching?${PERIOD}&owner=me`, {
      token: tokens.get('rep-b1'),
    });
    expect(me.status).toBe(200);
    expect((me.body as ReportOutput).summary).toMatchObject({ owner_id: 'rep-b1' });
    const colleague = await call(server, 'GET', `/api/v1/reports/coaching?${PERIOD}&owner=rep-b2`, {
      token: tokens.get('rep-b1'),
    });
    expect(colleague.status).toBe(404);
  });

  it('a rep runs their own quota and forecast, which name no one else, and reads their own quotas', async () => {
    const admin = await tokenFor(server, 'admin');
    for (const [subject, amount] of [
      ['rep-b1', 5000],
      ['rep-b2', 7000],
    ] as const) {
      const set = await call(server, 'PUT', '/api/v1/quotas', {
        token: admin,
        body: { scope: 'user', subject, period: '2026-11', amount },
      });
      expect(set.status).toBe(200);
    }
    for (const name of ['quota', 'forecast']) {
      const out = await report('rep-b1', name, queryFor(name));
      expect(out.notes?.[0], name).toMatch(/^limited to yourself: /);
      for (const row of out.rows) if (typeof row['owner_id'] === 'string') expect(row['owner_id'], name).toBe('rep-b1');
      const text = JSON.stringify(out);
      for (const s of strangers(REACH['rep-b1'] as string[])) expect(text, `${name} names ${s}`).not.toContain(s);
    }
    const quota = await report('rep-b1', 'quota', 'period=2026-11');
    expect(quota.rows.map((r) => [r['owner_id'], r['quota']])).toEqual([['rep-b1', 5000]]);
    const quotas = await call(server, 'GET', '/api/v1/quotas?period=2026-11', { token: tokens.get('rep-b1') });
    expect(quotas.status).toBe(200);
    expect((quotas.body as { items: { subject: string }[] }).items.map((q) => q.subject)).toEqual(['rep-b1']);
  });

  it('a wrong request names every wrong query parameter in the API’s words, not the CLI’s flags', async () => {
    const r = await call(server, 'GET', '/api/v1/reports/win-rate?from=2026-13-01&to=someday&by=color', {
      token: tokens.get('admin'),
    });
    expect(r.status).toBe(400);
    const body = r.body as { detail: string; errors: { field: string; message: string }[] };
    expect(body.errors.map((e) => e.field)).toEqual(['query.by', 'query.from', 'query.to']);
    expect(body.errors[1]?.message).toBe('from: "2026-13-01" is not a date (YYYY-MM-DD, or an ISO time)');
    expect(r.text).not.toContain('--');
    const period = await call(server, 'GET', '/api/v1/reports/forecast?period=2026-Q5', { token: tokens.get('admin') });
    expect(period.status).toBe(400);
    expect((period.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['query.period']);
    const order = await call(server, 'GET', '/api/v1/reports/win-rate?from=2026-05-01&to=2026-04-01', {
      token: tokens.get('admin'),
    });
    expect((order.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['query.to']);
  });
});
