import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runImport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import { dialects } from '../support/stores.js';
import { importStores, utc } from './support.js';

/**
 * HubSpot's `Date entered "Closed Won (…)"` / `"Closed Lost (…)"` is when the deal closed: the
 * close when `Close Date` is empty, its time of day when `Close Date` is that day alone; a
 * `Close Date` on another day is kept (set on purpose). The fixture organisation is in Europe/Berlin.
 */

const store = importStores();

const HEADER =
  'Record ID,Deal Name,Deal Stage,Pipeline,Amount,Close Date,Deal owner,Create Date,' +
  '"Date entered ""Appointment Scheduled (Sales Pipeline)""","Date entered ""Contract Sent (Sales Pipeline)""",' +
  '"Date entered ""Closed Won (Sales Pipeline)""","Date entered ""Closed Lost (Sales Pipeline)"""';
const ROWS = [
  '9101,Same day,Closed Won,Sales Pipeline,1000,2026-08-20,Anna Schmidt,2026-06-01 09:00,2026-06-01 09:00,2026-08-20 10:00,2026-08-20 15:00,',
  '9102,No close date,Closed Won,Sales Pipeline,1000,,Anna Schmidt,2026-06-01 09:00,2026-06-01 09:00,2026-07-20 10:00,2026-08-21 15:00,',
  '9103,Lost,Closed Lost,Sales Pipeline,1000,2026-08-22,Anna Schmidt,2026-06-01 09:00,2026-06-01 09:00,2026-07-20 10:00,,2026-08-22 18:30',
  '9104,Close date set later,Closed Won,Sales Pipeline,1000,2026-08-25,Anna Schmidt,2026-06-01 09:00,2026-06-01 09:00,2026-08-20 10:00,2026-08-20 15:00,',
];

describe.each(dialects)('HubSpot close from "Date entered Closed Won/Lost" on %s', (dialect) => {
  it('closes at the closed stage’s entry when the close date is empty or that day alone', async () => {
    const s = await store(dialect);
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-hs-')), 'hs.csv');
    writeFileSync(path, [HEADER, ...ROWS].join('\n'));
    const r = await runImport(s, {
      format: 'hubspot',
      path,
      dryRun: false,
      skipInvalid: false,
      now: utc('2026-11-28T12:00'),
      actor: { kind: 'import' },
    });
    expect(r.problems.map(formatImportProblem)).toEqual([]);
    expect(r).toMatchObject({ outcome: 'imported', written: 4 });
    const leads = await s.db.selectFrom('leads').select(['id', 'status', 'closed_at']).orderBy('id').execute();
    expect(leads.map((l) => [l.id, l.status, Number(l.closed_at)])).toEqual([
      ['hubspot:9101', 'won', utc('2026-08-20T13:00')],
      ['hubspot:9102', 'won', utc('2026-08-21T13:00')],
      ['hubspot:9103', 'lost', utc('2026-08-22T16:30')],
      ['hubspot:9104', 'won', utc('2026-08-24T22:00')],
    ]);
    // The last stay ends at the close: five hours in Contract Sent, not none.
    const last = await s.db
      .selectFrom('stage_stays')
      .select(['stage', 'entered_at', 'exited_at', 'exit_kind'])
      .where('lead_id', '=', 'hubspot:9101')
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    expect([last.stage, Number(last.entered_at), Number(last.exited_at), last.exit_kind]).toEqual([
      'contract',
      utc('2026-08-20T08:00'),
      utc('2026-08-20T13:00'),
      'won',
    ]);
  });
});
