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

/** After the fixture's last stage entry (15 March): what happened cannot be dated after the import. */
const AFTER_FIXTURE = Date.parse('2026-03-20T00:00:00Z');

function importDates(s: Store, path = fixture('generic-dates.csv'), dryRun = false): Promise<ImportReport> {
  return runImport(s, {
    format: 'generic',
    path,
    mapping: { text: fixtureText('generic-dates-mapping.yaml'), label: 'generic-dates-mapping.yaml' },
    dryRun,
    skipInvalid: false,
    now: AFTER_FIXTURE,
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
        now: AFTER_FIXTURE,
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

/**
 * hubspot-same-day.csv: "Create Date" with a time of day, "Close Date" and some "Date entered"
 * columns as a day alone, as HubSpot exports them. A day alone on the creation's day (in the
 * organisation's zone) is placed no earlier than that day's timed dates: the creation, or the
 * latest stage entry. New York is UTC-4 on 10 March 2026 (summer time since the 8th), Tokyo UTC+9.
 * Per lead: [created_at, closed_at, stays as [stage, entered, exited, exit kind]].
 */
type Stay = [string, number, number | null, string | null];
const SAME_DAY: { zone: string; leads: Record<string, [number, number, Stay[]]> }[] = [
  {
    zone: 'America/New_York',
    leads: {
      // 09:15 EDT is 13:15 UTC; the close "2026-03-10" (04:00 UTC) is placed at the creation.
      'hubspot:9101': [
        utc('2026-03-10T13:15'),
        utc('2026-03-10T13:15'),
        [['appointment', utc('2026-03-10T13:15'), utc('2026-03-10T13:15'), 'won']],
      ],
      // Qualified To Buy "2026-03-10" is entered at the creation, Presentation at 16:40 EDT (20:40 UTC),
      // and the close that day at the latest of them.
      'hubspot:9102': [
        utc('2026-03-10T13:15'),
        utc('2026-03-10T20:40'),
        [
          ['qualified-to-buy', utc('2026-03-10T13:15'), utc('2026-03-10T20:40'), 'moved'],
          ['presentation', utc('2026-03-10T20:40'), utc('2026-03-10T20:40'), 'won'],
        ],
      ],
      // 21:30 EDT on the 10th is 01:30 UTC on the 11th: still the 10th in New York, the close's day.
      'hubspot:9104': [
        utc('2026-03-11T01:30'),
        utc('2026-03-11T01:30'),
        [['contract', utc('2026-03-11T01:30'), utc('2026-03-11T01:30'), 'won']],
      ],
      // A close the next day is that day's midnight, 04:00 UTC: two and a half hours after the creation.
      'hubspot:9105': [
        utc('2026-03-11T01:30'),
        utc('2026-03-11T04:00'),
        [['contract', utc('2026-03-11T01:30'), utc('2026-03-11T04:00'), 'won']],
      ],
    },
  },
  {
    zone: 'Asia/Tokyo',
    leads: {
      // 09:15 JST is 00:15 UTC; the close "2026-03-10" (15:00 UTC on the 9th) is placed at the creation.
      'hubspot:9101': [
        utc('2026-03-10T00:15'),
        utc('2026-03-10T00:15'),
        [['appointment', utc('2026-03-10T00:15'), utc('2026-03-10T00:15'), 'won']],
      ],
      'hubspot:9102': [
        utc('2026-03-10T00:15'),
        utc('2026-03-10T07:40'),
        [
          ['qualified-to-buy', utc('2026-03-10T00:15'), utc('2026-03-10T07:40'), 'moved'],
          ['presentation', utc('2026-03-10T07:40'), utc('2026-03-10T07:40'), 'won'],
        ],
      ],
      'hubspot:9104': [
        utc('2026-03-10T12:30'),
        utc('2026-03-10T12:30'),
        [['contract', utc('2026-03-10T12:30'), utc('2026-03-10T12:30'), 'won']],
      ],
      // Midnight of the 11th in Tokyo is 15:00 UTC on the 10th.
      'hubspot:9105': [
        utc('2026-03-10T12:30'),
        utc('2026-03-10T15:00'),
        [['contract', utc('2026-03-10T12:30'), utc('2026-03-10T15:00'), 'won']],
      ],
    },
  },
];

describe.each(dialects)('a day alone on the creation day on %s', (dialect) => {
  it.each(SAME_DAY)('closes or enters a stage no earlier than the creation: $zone', async ({ zone, leads }) => {
    const s = await storeIn(dialect, zone);
    const r = await runImport(s, {
      format: 'hubspot',
      path: fixture('hubspot-same-day.csv'),
      dryRun: false,
      skipInvalid: true,
      // After the file's closes (10 and 11 March): a close after the import's time is refused.
      now: utc('2026-03-12T09:00'),
      actor: { kind: 'import' },
    });
    // A close on the day before the creation is still refused, quoting both dates as written.
    expect(r.problems.map(formatImportProblem)).toEqual([
      'hubspot-same-day.csv:4: Close Date: closes on "2026-03-09", before it was created on "2026-03-10 09:15"',
    ]);
    expect(r).toMatchObject({ outcome: 'imported', records: 5, valid: 4, written: 4 });
    expect(r.skipped.map((x) => x.line)).toEqual([4]);

    const rows = await s.db.selectFrom('leads').select(['id', 'created_at', 'closed_at']).orderBy('id').execute();
    const stays = await s.db
      .selectFrom('stage_stays')
      .select(['lead_id', 'stage', 'entered_at', 'exited_at', 'exit_kind'])
      .orderBy('lead_id')
      .orderBy('seq')
      .execute();
    expect(
      Object.fromEntries(
        rows.map((l) => [
          l.id,
          [
            Number(l.created_at),
            Number(l.closed_at),
            stays
              .filter((x) => x.lead_id === l.id)
              .map((x) => [
                x.stage,
                Number(x.entered_at),
                x.exited_at === null ? null : Number(x.exited_at),
                x.exit_kind,
              ]),
          ],
        ]),
      ),
    ).toEqual(leads);
    // Cycle lengths and stays are zero or more, never negative.
    for (const x of stays) expect(Number(x.exited_at) - Number(x.entered_at)).toBeGreaterThanOrEqual(0);
  });
});
