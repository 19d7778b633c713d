import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeWorkbook } from '../import/xlsx-support.js';
import { MAVEN_DIR } from '../support/maven.js';
import { dialects } from '../support/stores.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * Imports, exports, contact requests, accounts, quotas and forecast snapshots over HTTP: the same
 * service functions as the CLI, behind admin (and for quotas and snapshots, manager) access.
 */

const HEADER =
  'Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,Deal - Deal created,Deal - Won time,Organization - Name,Person - Email';

/** A Pipedrive export of the test organisation (TEST_PROCESS): owners by name or id, stages by name. */
const GOOD_CSV = [
  HEADER,
  '301,Acme deal,12500,Qualified,Sales,Anna A1,open,2026-01-05 09:15:00,,Acme Corp,jane@acme-corp.example',
  '302,Globex renewal,8000.5,Proposal,Sales,rep-b1,won,2025-11-10 10:00:00,2026-01-15 16:30:00,Globex,hank@globex.example',
  '303,Initech pilot,3000,New,Sales,Arno A2,open,2026-02-01 13:45:10,,Initech,bill@initech.example',
].join('\n');

const BAD_CSV = [
  HEADER,
  '401,Fine deal,1000,New,Sales,Anna A1,open,2026-01-05 09:15:00,,Fine Co,',
  '402,Bad number deal,12k,New,Sales,Anna A1,open,2026-01-06 09:15:00,,Cyberdyne,',
  '403,Unknown owner deal,2000,New,Sales,Zed Nobody,open,2026-01-07 09:15:00,,Soylent,',
].join('\n');

interface Problem {
  type: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { field: string; message: string }[];
}

interface AuditRow {
  action: string;
  actor: string;
  target: string | null;
  details: Record<string, unknown>;
}

describe.each(dialects)('data and forecasting routes on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  let manager: string;
  let rep: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    [admin, manager, rep] = await Promise.all([
      tokenFor(server, 'admin'),
      tokenFor(server, 'mgr-a'),
      tokenFor(server, 'rep-a1'),
    ]);
  });
  afterAll(() => server.close());

  const audit = async (action: string): Promise<AuditRow[]> => {
    const r = await call(server, 'GET', `/api/v1/audit?action=${action}`, { token: admin });
    expect(r.status).toBe(200);
    return (r.body as { items: AuditRow[] }).items;
  };

  const exportedLeadIds = async (): Promise<string[]> => {
    const r = await call(server, 'GET', '/api/v1/exports/leads?format=jsonl', { token: admin });
    expect(r.status).toBe(200);
    return r.text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { id: string }).id);
  };

  it('a dry run with bad records answers 422 naming each line, and writes nothing', async () => {
    const r = await call(server, 'POST', '/api/v1/imports/pipedrive?dry_run=true', {
      token: admin,
      body: { csv: BAD_CSV },
    });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const p = r.body as Problem & { report: { outcome: string; records: number; invalid: number; file: string } };
    expect(p.code).toBe('import_invalid');
    expect(p.errors).toEqual([
      { field: 'line 3', message: 'Deal - Value: "12k" is not a number' },
      {
        field: 'line 4',
        message: 'Deal - Owner: unknown owner "Zed Nobody" (not a user id, name or email of the process)',
      },
    ]);
    expect(p.report).toMatchObject({ outcome: 'checked', records: 3, invalid: 2, file: 'upload.csv' });
    expect((await exportedLeadIds()).filter((id) => id.startsWith('pipedrive:'))).toEqual([]);
    expect((await audit('import.run'))[0]).toMatchObject({ actor: 'admin', target: 'pipedrive:upload.csv' });

    // Without dry_run the same file is refused whole: 422 again, nothing written.
    const refused = await call(server, 'POST', '/api/v1/imports/pipedrive', {
      token: admin,
      headers: { 'content-type': 'text/csv' },
      body: BAD_CSV,
    });
    expect(refused.status).toBe(422);
    expect((refused.body as { report: { outcome: string } }).report.outcome).toBe('refused');
    expect((await exportedLeadIds()).filter((id) => id.startsWith('pipedrive:'))).toEqual([]);
  });

  it('refuses a header the format does not know, and a generic import without a mapping', async () => {
    const header = await call(server, 'POST', '/api/v1/imports/hubspot', {
      token: admin,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
      body: 'Something,Else\n1,2\n',
    });
    expect(header.status).toBe(422);
    expect((header.body as Problem).code).toBe('import_rejected');
    expect((header.body as Problem).errors?.[0]?.field).toBe('line 1');
    const unclosed = await call(server, 'POST', '/api/v1/imports/pipedrive', {
      token: admin,
      headers: { 'content-type': 'text/csv' },
      body: `${GOOD_CSV.split('\n')[0]}\n105,"Unclosed quote,100\n`,
    });
    expect(unclosed.status, unclosed.text).toBe(400);
    expect((unclosed.body as Problem).code).toBe('import_unreadable');
    expect((unclosed.body as Problem).errors?.[0]?.field).toMatch(/^line \d+$/);
    const generic = await call(server, 'POST', '/api/v1/imports/generic', { token: admin, body: { csv: GOOD_CSV } });
    expect(generic.status).toBe(400);
    expect((generic.body as Problem).errors?.[0]?.field).toBe('body.mapping');
    const path = await call(server, 'POST', '/api/v1/imports/pipedrive', { token: admin, body: { path: '/tmp' } });
    expect(path.status).toBe(400);
  });

  it('imports a CSV, and importing it again updates the same leads', async () => {
    const first = await call(server, 'POST', '/api/v1/imports/pipedrive?filename=deals-march.csv', {
      token: admin,
      headers: { 'content-type': 'text/csv' },
      body: GOOD_CSV,
    });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      outcome: 'imported',
      file: 'deals-march.csv',
      records: 3,
      written: 3,
      errors: 0,
    });
    const ids = (await exportedLeadIds()).filter((id) => id.startsWith('pipedrive:')).sort();
    expect(ids).toEqual(['pipedrive:301', 'pipedrive:302', 'pipedrive:303']);

    const again = await call(server, 'POST', '/api/v1/imports/pipedrive?filename=deals-march.csv', {
      token: admin,
      headers: { 'content-type': 'text/csv' },
      body: GOOD_CSV,
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ outcome: 'imported', written: 3 });
    expect((await exportedLeadIds()).filter((id) => id.startsWith('pipedrive:')).sort()).toEqual(ids);

    // Each written run is audited once, by runImport itself, in the caller's name.
    const runs = await audit('import');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ actor: 'admin', target: 'pipedrive:deals-march.csv' });
  });

  it('imports a workbook sent as base64 JSON, from the worksheet named, with the row in every problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stageflow-xlsx-'));
    const rows = GOOD_CSV.split('\n').map((l) => l.split(','));
    const bad = rows.map((r, i) => (i === 2 ? r.map((v, c) => (c === 2 ? '12k' : v)) : r));
    const book = await writeWorkbook(join(dir, 'deals.xlsx'), [
      { name: 'Notes', rows: [['not the data']] },
      { name: 'Deals', rows: bad },
    ]);
    const xlsx = readFileSync(book).toString('base64');
    const checked = await call(server, 'POST', '/api/v1/imports/pipedrive?dry_run=true&filename=deals.xlsx', {
      token: admin,
      body: { xlsx, sheet: 'Deals' },
    });
    expect(checked.status).toBe(422);
    expect((checked.body as Problem).errors).toEqual([
      { field: 'line 3', message: 'Deal - Value: "12k" is not a number' },
    ]);

    const good = await writeWorkbook(join(dir, 'good.xlsx'), [{ name: 'Deals', rows }]);
    const imported = await call(server, 'POST', '/api/v1/imports/pipedrive?filename=deals-april', {
      token: admin,
      body: { xlsx: readFileSync(good).toString('base64') },
    });
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ outcome: 'imported', file: 'deals-april.xlsx', records: 3, written: 3 });
    const lead = await call(server, 'GET', '/api/v1/leads/pipedrive:302', { token: admin });
    expect(lead.status).toBe(200);
    expect(lead.body).toMatchObject({ status: 'won', value: 8000.5 });

    const notBase64 = await call(server, 'POST', '/api/v1/imports/pipedrive', {
      token: admin,
      body: { xlsx: 'not base64!' },
    });
    expect(notBase64.status).toBe(400);
    const notAWorkbook = await call(server, 'POST', '/api/v1/imports/pipedrive', {
      token: admin,
      body: { xlsx: Buffer.from('a,b\n1,2\n').toString('base64') },
    });
    expect(notAWorkbook.status).toBe(422);
    expect(JSON.stringify(notAWorkbook.body)).toMatch(/upload\.xlsx/);
  });

  it('exports leads as CSV, streamed, with formulas defused, and audits the export', async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a1', contact: { name: '=HYPERLINK("http://evil.example")', email: 'formula@acme.example' } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;

    const r = await call(server, 'GET', '/api/v1/exports/leads?format=csv', { token: admin });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(
      /^attachment; filename="stageflow-leads-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const lines = r.text.trim().split('\n');
    expect(lines[0]).toMatch(/^id,name,email,phone,company,pipeline,stage,/);
    expect(lines).toHaveLength(1 + 4);
    expect(lines.find((l) => l.startsWith('pipedrive:301,'))).toContain('Acme deal');
    expect(lines.find((l) => l.startsWith(`${id},`))).toContain(`"'=HYPERLINK(""http://evil.example"")"`);

    const filtered = await call(server, 'GET', '/api/v1/exports/leads?format=csv&status=won', { token: admin });
    expect(filtered.text.trim().split('\n')).toHaveLength(2);

    await vi.waitFor(async () => {
      const rows = (await audit('export')).filter((a) => a.details['format'] === 'csv');
      // The test clock stands still, so both rows have the same time: compare them in a fixed order.
      const details = rows.map((a) => a.details).sort((a, b) => Number(a['rows']) - Number(b['rows']));
      expect(details).toEqual([
        { what: 'leads', format: 'csv', rows: 1, complete: true, filter: { status: 'won' } },
        { what: 'leads', format: 'csv', rows: 4, complete: true },
      ]);
    });

    const bad = await call(server, 'GET', '/api/v1/exports/deals?format=xml', { token: admin });
    expect(bad.status).toBe(400);
  });

  it("exports a contact's data and erases them, each audited once", async () => {
    const created = await call(server, 'POST', '/api/v1/leads', {
      token: admin,
      body: { owner: 'rep-a2', contact: { name: 'Erin Example', email: 'Erin@Contact.example' } },
    });
    expect(created.status).toBe(201);
    const id = (created.body as { id: string }).id;
    const email = 'erin@contact.example';

    const exported = await call(server, 'POST', '/api/v1/contacts/export', { token: admin, body: { email } });
    expect(exported.status).toBe(200);
    expect(exported.body).toMatchObject({
      format: 'stageflow.contact-export/1',
      email: 'erin@contact.example',
      suppressed: false,
      leads: [{ id, name: 'Erin Example' }],
    });

    const erased = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'erin@contact.example' },
    });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({ leads: [id], alreadyErased: false, keptFiles: 0, keptFilesLeft: [] });
    const lead = await call(server, 'GET', `/api/v1/leads/${id}`, { token: admin });
    expect((lead.body as { contact: { email: string | null } }).contact.email).toBeNull();

    const after = await call(server, 'POST', '/api/v1/contacts/export', { token: admin, body: { email } });
    expect(after.body).toMatchObject({ suppressed: true, leads: [] });
    expect(await audit('contact.export')).toHaveLength(2);
    expect(await audit('contact.erase')).toHaveLength(1);

    const unknown = await call(server, 'POST', '/api/v1/contacts/erase', {
      token: admin,
      body: { email: 'nobody@nowhere.example' },
    });
    expect(unknown.status).toBe(404);
    const invalid = await call(server, 'POST', '/api/v1/contacts/export', {
      token: admin,
      body: { email: 'not-an-address' },
    });
    expect(invalid.status).toBe(400);
    expect((invalid.body as Problem).errors?.[0]?.field).toBe('body.email');
  });

  it('sets and lists quotas; a manager sets those of their reps only; each change is audited', async () => {
    const set = await call(server, 'PUT', '/api/v1/quotas', {
      token: admin,
      body: { subject: 'rep-a1', period: '2026-03', amount: 50000 },
    });
    expect(set.status).toBe(200);
    server.clock.now += 1000;
    expect(set.body).toMatchObject({
      scope: 'user',
      subject: 'rep-a1',
      period: '2026-03',
      amount: 50000,
      setBy: 'admin',
    });
    const team = await call(server, 'PUT', '/api/v1/quotas', {
      token: admin,
      body: { scope: 'team', subject: 'Team B', period: '2026-Q1', amount: '120000.50' },
    });
    expect(team.body).toMatchObject({ scope: 'team', subject: 'team-b', amount: 120000.5 });
    server.clock.now += 1000; // the audit log lists newest first

    const byManager = await call(server, 'PUT', '/api/v1/quotas', {
      token: manager,
      body: { subject: 'rep-a1', period: '2026-03', amount: 60000 },
    });
    expect(byManager.status).toBe(200);
    for (const body of [
      { subject: 'rep-b1', period: '2026-03', amount: 1 },
      { scope: 'team', subject: 'team-a', period: '2026-03', amount: 1 },
      { subject: 'mgr-a', period: '2026-03', amount: 1 },
    ]) {
      const refused = await call(server, 'PUT', '/api/v1/quotas', { token: manager, body });
      expect(refused.status).toBe(403);
    }

    const all = await call(server, 'GET', '/api/v1/quotas', { token: admin });
    expect((all.body as { items: unknown[] }).items).toEqual([
      expect.objectContaining({ scope: 'user', subject: 'rep-a1', period: '2026-03', amount: 60000, setBy: 'mgr-a' }),
      expect.objectContaining({ scope: 'team', subject: 'team-b', period: '2026-Q1', amount: 120000.5 }),
    ]);
    const mine = await call(server, 'GET', '/api/v1/quotas', { token: manager });
    expect((mine.body as { items: { subject: string }[] }).items.map((q) => q.subject)).toEqual(['rep-a1']);

    const audited = await audit('quota.set');
    expect(audited.map((a) => [a.actor, a.target, a.details['previous']])).toEqual([
      ['mgr-a', 'user:rep-a1:2026-03', 50000],
      ['admin', 'team:team-b:2026-Q1', null],
      ['admin', 'user:rep-a1:2026-03', null],
    ]);

    const invalid = await call(server, 'PUT', '/api/v1/quotas', {
      token: admin,
      body: { subject: 'nobody', period: '2026-03', amount: '12k' },
    });
    expect(invalid.status).toBe(400);
    expect((invalid.body as Problem).errors?.map((e) => e.field)).toEqual(['body.subject', 'body.amount']);

    const imported = await call(server, 'POST', '/api/v1/quotas/import', {
      token: admin,
      body: { format: 'csv', text: 'subject,period,amount\nrep-a2,2026-04,100\nBea B1,2026-04,200\n' },
    });
    expect(imported.body).toEqual({ imported: 2 });
    const badFile = await call(server, 'POST', '/api/v1/quotas/import', {
      token: admin,
      body: { format: 'csv', text: 'subject,period,amount\nrep-a2,2026-04,100\nzed,2026-04,200\n' },
    });
    expect(badFile.status).toBe(422);
    expect((badFile.body as Problem).errors).toEqual([{ field: 'line 3', message: 'unknown user "zed"' }]);
    expect(await audit('quota.import')).toHaveLength(1);
  });

  it("takes a forecast snapshot on demand and lists it; a manager sees their reps and their reps' total", async () => {
    // An open deal closing this month in each team, so the totals differ.
    for (const owner of ['rep-a1', 'rep-b1']) {
      const lead = await call(server, 'POST', '/api/v1/leads', {
        token: admin,
        body: { owner, fields: { value: 1000, expected_close: '2026-03-20' } },
      });
      expect(lead.status).toBe(201);
    }
    const taken = await call(server, 'POST', '/api/v1/forecast/snapshots', {
      token: admin,
      body: { period: '2026-03' },
    });
    expect(taken.status).toBe(201);
    const snap = taken.body as { snapshotId: string; period: string; kind: string; rows: { owner: string | null }[] };
    expect(snap).toMatchObject({ period: '2026-03', kind: 'on_demand' });
    expect(snap.rows.map((r) => r.owner)).toEqual([
      null,
      'admin',
      'mgr-a',
      'mgr-b',
      'rep-a1',
      'rep-a2',
      'rep-b1',
      'rep-b2',
    ]);

    // Without a body: the current month of the organisation's zone.
    const current = await call(server, 'POST', '/api/v1/forecast/snapshots', { token: manager });
    expect(current.status).toBe(201);
    expect(current.body).toMatchObject({ period: '2026-03' });
    expect((current.body as typeof snap).rows.map((r) => r.owner)).toEqual([null, 'mgr-a', 'rep-a1', 'rep-a2']);

    const listed = await call(server, 'GET', '/api/v1/forecast/snapshots?period=2026-03', { token: admin });
    const items = (listed.body as { items: (typeof snap)[] }).items;
    expect(items.map((s) => s.snapshotId)).toContain(snap.snapshotId);
    expect(items).toHaveLength(2);
    const forManager = await call(server, 'GET', '/api/v1/forecast/snapshots', { token: manager });
    type Figures = { owner: string | null; open_leads: number; forecast: number; weighted_pipeline: number };
    const managerItems = (forManager.body as { items: { snapshotId: string; rows: Figures[] }[] }).items;
    for (const s of managerItems) {
      expect(s.rows.map((r) => r.owner)).toEqual([null, 'mgr-a', 'rep-a1', 'rep-a2']);
      // The total is the sum of the manager's own rows, not the organisation's stored total.
      const [total, ...reps] = s.rows;
      for (const key of ['open_leads', 'forecast', 'weighted_pipeline'] as const)
        expect(total?.[key]).toBeCloseTo(
          reps.reduce((sum, r) => sum + r[key], 0),
          2,
        );
    }
    const orgTotal = (snap.rows as unknown as Figures[])[0];
    const managerTotal = managerItems.find((s) => s.snapshotId === snap.snapshotId)?.rows[0];
    expect(orgTotal?.open_leads).toBeGreaterThan(managerTotal?.open_leads ?? Infinity);

    const bad = await call(server, 'POST', '/api/v1/forecast/snapshots', { token: admin, body: { period: '2026-13' } });
    expect(bad.status).toBe(400);
  });

  it('refuses a rep (403) on admin and manager routes, and lets them read accounts', async () => {
    const attempts: [string, string, unknown?][] = [
      ['POST', '/api/v1/imports/pipedrive?dry_run=true', { csv: GOOD_CSV }],
      ['GET', '/api/v1/exports/leads'],
      ['POST', '/api/v1/contacts/export', { email: 'jane@acme-corp.example' }],
      ['POST', '/api/v1/contacts/erase', { email: 'jane@acme-corp.example' }],
      // GET /quotas answers a rep their own quotas (test/http/report-scope.test.ts).
      ['PUT', '/api/v1/quotas', { subject: 'rep-a1', period: '2026-03', amount: 1 }],
      ['POST', '/api/v1/quotas/import', { format: 'csv', text: 'subject,period,amount\nrep-a1,2026-03,1\n' }],
      ['GET', '/api/v1/forecast/snapshots'],
      ['POST', '/api/v1/forecast/snapshots', { period: '2026-03' }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await call(server, method, path, { token: rep, ...(body !== undefined ? { body } : {}) });
      expect([method, path, r.status]).toEqual([method, path, 403]);
      expect((r.body as Problem).type).toBe('https://stageflow.dev/problems/forbidden');
    }
    // A manager may not import or export either.
    expect((await call(server, 'GET', '/api/v1/exports/leads', { token: manager })).status).toBe(403);
    // A token without the admin scope is refused too, even an admin's.
    const readOnly = await tokenFor(server, 'admin', ['leads:read']);
    expect((await call(server, 'GET', '/api/v1/exports/leads', { token: readOnly })).status).toBe(403);

    // Accounts are the companies on the leads they see: rep-a1 owns the Acme deal the import brought, no other.
    const accounts = await call(server, 'GET', '/api/v1/accounts', { token: rep });
    expect(accounts.status).toBe(200);
    expect(accounts.body).toMatchObject({
      items: [{ id: 'company:acme corp', name: 'Acme Corp', leads: 1, openLeads: 1, pipelineValue: 12500 }],
      nextCursor: null,
    });
  });

  it('imports a Maven folder named by path; its accounts are listed page by page, merged with the leads', async () => {
    // A small copy of the data set: the three side files and the first 40 deals.
    const dir = mkdtempSync(join(tmpdir(), 'stageflow-maven-'));
    for (const f of ['accounts.csv', 'products.csv', 'sales_teams.csv']) copyFileSync(join(MAVEN_DIR, f), join(dir, f));
    const deals = readFileSync(join(MAVEN_DIR, 'sales_pipeline.csv'), 'utf8').split('\n').slice(0, 41).join('\n');
    writeFileSync(join(dir, 'sales_pipeline.csv'), `${deals}\n`);

    expect(
      (await call(server, 'POST', '/api/v1/imports/maven', { token: admin, body: { path: 'relative/dir' } })).status,
    ).toBe(400);
    expect(
      (
        await call(server, 'POST', '/api/v1/imports/maven', {
          token: admin,
          headers: { 'content-type': 'text/csv' },
          body: deals,
        })
      ).status,
    ).toBe(400);

    // Maven's values are US dollars; this organisation's currency is EUR.
    const r = await call(server, 'POST', '/api/v1/imports/maven?rates=USD:0.9', { token: admin, body: { path: dir } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ outcome: 'imported', records: 40, written: 40, errors: 0 });

    // An admin sees every account: Maven's 85 companies (Initech among them, merged with the Pipedrive
    // deal's), and the two other companies of the Pipedrive import, Acme Corp and Globex.
    const page1 = await call(server, 'GET', '/api/v1/accounts?limit=50', { token: admin });
    const p1 = page1.body as { items: { id: string; name: string }[]; nextCursor: string | null };
    expect(p1.items).toHaveLength(50);
    expect(p1.nextCursor).not.toBeNull();
    const page2 = await call(server, 'GET', `/api/v1/accounts?limit=50&cursor=${p1.nextCursor}`, { token: admin });
    const p2 = page2.body as typeof p1;
    expect(p2.items).toHaveLength(37);
    expect(p2.nextCursor).toBeNull();
    const keys = [...p1.items, ...p2.items].map((a) => a.name.toLowerCase());
    expect(keys).toEqual([...keys].sort());
    expect([...p1.items, ...p2.items].find((a) => a.name === 'Initech')?.id).toBe('maven:Initech');

    const acmeId = `/api/v1/accounts/${encodeURIComponent('maven:Acme Corporation')}`;
    const acme = await call(server, 'GET', acmeId, { token: admin });
    expect(acme.status).toBe(200);
    // Its one deal among the first 40: N4SD17JR, won by Reed Clapper for 556 dollars, 500.40 euros at 0.9.
    expect(acme.body).toMatchObject({
      name: 'Acme Corporation',
      sector: 'technology',
      yearEstablished: 1996,
      // 1,100.04 million dollars at 0.9: 990.036 million euros.
      revenue: 990_036_000,
      employees: 2822,
      importedFrom: 'maven',
      leads: 1,
      wonLeads: 1,
      wonValue: 500.4,
      owners: [{ id: 'reed-clapper', leads: 1 }],
    });
    // None of its leads is rep-a1's: out of their reach.
    expect((await call(server, 'GET', acmeId, { token: rep })).status).toBe(404);
    expect((await call(server, 'GET', '/api/v1/accounts/nope', { token: rep })).status).toBe(404);
  });
});
