import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { contactKeys } from '../../src/store/contact-keys.js';
import { withTransaction } from '../../src/store/db.js';
import { suppress } from '../../src/store/suppressions.js';
import { dialects } from '../support/stores.js';
import { IMPORT_NOW, importStores } from './support.js';

/**
 * An erased contact's deal imported again is scrubbed as the erase would have: otherwise their
 * address and name come back in the close reason, the company and custom fields of a lead that
 * has no email, where no later erase finds them.
 */

const store = importStores();

const MAPPING = `source: legacy
pipeline: New business
columns:
  id: Ref
  name: Title
  company: Company
  email: Email
  phone: Phone
  owner: Owner
  stage: Stage
  status: Status
  created_at: Created
  closed_at: Closed
  close_reason: Reason
fields:
  first_name: First
  last_name: Last
  full_name: Full
  remarks: Remarks
dates:
  formats: [yyyy-MM-dd]
`;

const CSV = `Ref,Title,Company,Email,Phone,Owner,Stage,Status,Created,Closed,Reason,First,Last,Full,Remarks
R-1,Jane Roe renewal,Jane Roe,Jane.Roe@acme.test,+15550001234,anna,Qualified,lost,2026-01-05,2026-02-01,Jane Roe (jane.roe@acme.test) said no,Jane,Roe,Jane Roe,call +15550001234
R-2,Tidewater deal,Tidewater Architects,jane.roe@acme.test,,anna,Qualified,open,2026-01-05,,,Jane,Roe,,Tidewater Architects office
R-3,Other deal,Other Ltd,bob@other.test,,anna,Qualified,open,2026-01-05,,,Bob,Smith,Bob Smith,Bob said hi
`;

describe.each(dialects)('importing an erased contact again on %s', (dialect) => {
  it('scrubs the close reason, text fields and a company that is the person, and drops personal fields', async () => {
    const s = await store(dialect);
    const keys = await contactKeys(s.db);
    await withTransaction(s, (tx) => suppress(tx, keys.hash('jane.roe@acme.test'), 'erased', IMPORT_NOW));
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-import-')), 'deals.csv');
    writeFileSync(path, CSV);
    const report = await runImport(s, {
      format: 'generic',
      path,
      mapping: { text: MAPPING, label: 'mapping.yaml' },
      dryRun: false,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import', id: 'tester' },
    });
    expect(report.outcome).toBe('imported');
    const p = keys.pseudonym('jane.roe@acme.test');
    const leads = await s.db
      .selectFrom('leads')
      .select(['id', 'name', 'email', 'phone', 'company', 'close_reason', 'fields'])
      .orderBy('id')
      .execute();
    const [r1, r2, r3] = leads.map((l) => ({ ...l, fields: JSON.parse(l.fields) as Record<string, unknown> }));
    expect(r1).toMatchObject({ name: p, email: null, phone: null, company: p, close_reason: `${p} (${p}) said no` });
    expect(r1!.fields).toEqual({ name: p, company: p, remarks: `call ${p}` });
    // A company named otherwise is business data and stays, even with the person's deal.
    expect(r2).toMatchObject({ name: p, email: null, company: 'Tidewater Architects' });
    expect(r2!.fields).toEqual({ name: p, company: 'Tidewater Architects', remarks: 'Tidewater Architects office' });
    expect(JSON.stringify([r1, r2]).toLowerCase()).not.toMatch(/jane|roe|15550001234/);
    // Someone else in the same file is imported as written.
    expect(r3).toMatchObject({ name: 'Other deal', email: 'bob@other.test', company: 'Other Ltd' });
    expect(r3!.fields).toMatchObject({ first_name: 'Bob', full_name: 'Bob Smith', remarks: 'Bob said hi' });
  });
  it("drops a Pipedrive deal's Person - Name with the rest of the person", async () => {
    const s = await store(dialect);
    const keys = await contactKeys(s.db);
    await withTransaction(s, (tx) => suppress(tx, keys.hash('jane.roe@acme.test'), 'erased', IMPORT_NOW));
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-import-')), 'deals.csv');
    writeFileSync(
      path,
      `Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,Deal - Deal created,Deal - Lost time,Deal - Lost reason,Person - Name,Person - Email
7,Tidewater deal,100,Qualified,New business,anna,lost,2026-01-05 10:00,2026-02-01 10:00,Roe Jane chose another vendor,Roe Jane,jane.roe@acme.test
8,Other deal,100,Qualified,New business,anna,open,2026-01-05 10:00,,,Bob Smith,bob@other.test
`,
    );
    const report = await runImport(s, {
      format: 'pipedrive',
      path,
      dryRun: false,
      skipInvalid: false,
      now: IMPORT_NOW,
      actor: { kind: 'import', id: 'tester' },
    });
    expect(report.outcome).toBe('imported');
    const leads = await s.db.selectFrom('leads').select(['id', 'close_reason', 'fields']).orderBy('id').execute();
    const p = keys.pseudonym('jane.roe@acme.test');
    expect(leads[0]?.close_reason).toBe(`${p} ${p} chose another vendor`);
    expect(JSON.stringify(leads[0]).toLowerCase()).not.toMatch(/jane|roe/);
    expect(JSON.parse(leads[1]?.fields ?? '{}')).toMatchObject({ first_name: 'Bob', last_name: 'Smith' });
  });
});
