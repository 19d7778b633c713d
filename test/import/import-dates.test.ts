import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applyProcess } from '../../src/engine/process-service.js';
import { runImport, type ImportReport } from '../../src/import/import-service.js';
import { formatImportProblem } from '../../src/import/record.js';
import { runReport } from '../../src/reports/run-report.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';
import { fixture, fixtureText, IMPORT_NOW, utc } from './support.js';

/**
 * Date-only values (generic-dates.csv) land on the calendar day the file says, in the organisation's
 * zone: one west of UTC with a DST change inside the file (America/New_York, summer time from
 * 8 March 2026 at 02:00) and one east of it (Asia/Tokyo, UTC+9 all year). Every expectation below
 * is computed by hand from those offsets.
 */

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function storeIn(dialect: 'sqlite' | 'postgres', zone: string): Promise<Store> {
  const s = await freshStore(dialect);
  open.push(s);
  const process = fixtureText('process.yaml').replace('timezone: Europe/Berlin', `timezone: ${zone}`);
  expect(process).toContain(`timezone: ${zone}`);
  await applyProcess(s, process, IMPORT_NOW - 86_400_000, 'test');
  return s;
}

function importDates(s: Store, path = fixture('generic-dates.csv'), dryRun = false): Promise<ImportReport> {
  return runImport(s, {
    format: 'generic',
    path,
    mapping: { text: fixtureText('generic-dates-mapping.yaml'), label: 'generic-dates-mapping.yaml' },
    dryRun,
    skipInvalid: false,
    now: IMPORT_NOW,
    actor: { kind: 'import' },
  });
}

interface Expected {
  zone: string;
  /** lead -> [created_at, closed_at, expected_close column, expected_close field] */
  leads: Record<string, [number, number | null, number | null, string | null]>;
}

const CASES: Expected[] = [
  {
    zone: 'America/New_York',
    leads: {
      // 7 March is still EST (UTC-5); 9 March is EDT (UTC-4): midnight moves from 05:00 to 04:00 UTC.
      'dated:D-1': [utc('2026-03-07T05:00'), null, utc('2026-03-09T04:00'), '2026-03-09T00:00:00-04:00'],
      'dated:D-2': [utc('2026-02-01T05:00'), utc('2026-03-01T05:00'), null, null],
      'dated:D-3': [utc('2026-03-15T04:00'), null, utc('2026-03-31T04:00'), '2026-03-31T00:00:00-04:00'],
    },
  },
  {
    zone: 'Asia/Tokyo',
    leads: {
      // Midnight in Tokyo is 15:00 UTC the day before: a UTC reading would show every date a day early.
      'dated:D-1': [utc('2026-03-06T15:00'), null, utc('2026-03-08T15:00'), '2026-03-09T00:00:00+09:00'],
      'dated:D-2': [utc('2026-01-31T15:00'), utc('2026-02-28T15:00'), null, null],
      'dated:D-3': [utc('2026-03-14T15:00'), null, utc('2026-03-30T15:00'), '2026-03-31T00:00:00+09:00'],
    },
  },
];

describe.each(dialects)('date-only values on %s', (dialect) => {
  it.each(CASES)('are that calendar day in the organisation zone: $zone', async ({ zone, leads }) => {
    const s = await storeIn(dialect, zone);
    const r = await importDates(s);
    expect(r).toMatchObject({ outcome: 'imported', written: 3, errors: 0 });
    const rows = await s.db
      .selectFrom('leads')
      .select(['id', 'created_at', 'closed_at', 'expected_close', 'fields'])
      .orderBy('id')
      .execute();
    expect(
      Object.fromEntries(
        rows.map((l) => [
          l.id,
          [
            Number(l.created_at),
            l.closed_at === null ? null : Number(l.closed_at),
            l.expected_close === null ? null : Number(l.expected_close),
            (JSON.parse(l.fields) as Record<string, string>)['expected_close'] ?? null,
          ],
        ]),
      ),
    ).toEqual(leads);
    // The stays start and end on those instants too.
    const stays = await s.db
      .selectFrom('stage_stays')
      .select(['entered_at', 'exited_at'])
      .where('lead_id', '=', 'dated:D-2')
      .orderBy('seq')
      .execute();
    expect(stays.map((x) => [Number(x.entered_at), x.exited_at === null ? null : Number(x.exited_at)])).toEqual([
      [leads['dated:D-2']?.[0], leads['dated:D-2']?.[1]],
    ]);
  });

  it('a deal won on 1 March counts in March in a monthly report, east of UTC as west', async () => {
    for (const zone of ['Asia/Tokyo', 'America/New_York']) {
      const s = await storeIn(dialect, zone);
      await importDates(s);
      const out = await runReport(s, {
        name: 'win-rate',
        from: '2026-02-01',
        to: '2026-04-01',
        by: 'month',
        now: IMPORT_NOW,
      });
      const won = out.rows.map((row) => [row['month'], row['won']]);
      expect(won, zone).toEqual([
        ['2026-02', 0],
        ['2026-03', 1],
      ]);
    }
  });

  it('messages quote the dates exactly as the file wrote them, not shifted by a conversion', async () => {
    const s = await storeIn(dialect, 'Asia/Tokyo');
    const path = join(mkdtempSync(join(tmpdir(), 'stageflow-dates-')), 'closes-early.csv');
    writeFileSync(
      path,
      [
        'Ref,Owner,Phase,Status,Created,Closed,Expected close,Amount',
        'E-1,anna,Qualified,lost,01/03/2026,2026-02-01,,100',
        'E-2,anna,Qualified,open,31/02/2026,,,100',
      ].join('\n'),
    );
    const r = await importDates(s, path, true);
    expect(r.problems.map(formatImportProblem)).toEqual([
      'closes-early.csv:2: Closed: closes on "2026-02-01", before it was created on "01/03/2026"',
      'closes-early.csv:3: Created: "31/02/2026" is not a date (expected YYYY-MM-DD or dd/MM/yyyy)',
    ]);
  });
});
