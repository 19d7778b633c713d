import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session, tempFile, type CliResult } from './helpers.js';

/** Export and erase through the real CLI; few commands, since each spawn costs about a second and a half. */

const PROCESS = `name: Export CLI
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna, email: anna@example.com }
  # The data protection officer, who runs the exports and erasures below (--as names a known person).
  - { id: dpo, name: Data Protection, active: false }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        tasks: [{ id: call, title: Discovery call, kind: call, due: { days: 1 } }]
        on_enter:
          - subscribe: { list: newsletter }
          - email: { template: welcome }
      - id: close
        name: Close
templates:
  welcome: { subject: Welcome, body: Hello }
`;

describe('stageflow export and contact erase (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  let dir: string;
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    const file = tempFile('process.yaml', PROCESS);
    dir = dirname(file);
    ok(await cli(['process', 'apply', file]));
    ok(
      await cli([
        'lead',
        'create',
        '--id',
        'L1',
        '--field',
        'name=Doe, "Jane"',
        '--field',
        'email=Jane@Example.com',
        '--field',
        'value=1200.5',
      ]),
    );
  });

  it('exports leads as CSV and tasks as JSON lines to files', async () => {
    const csv = join(dir, 'leads.csv');
    expect(ok(await cli(['export', 'leads', '--format', 'csv', '--out', csv])).stdout).toBe(
      `exported 1 row of leads to ${csv}\n`,
    );
    const rows = parse(readFileSync(csv, 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      id: 'L1',
      name: 'Doe, "Jane"',
      email: 'Jane@Example.com',
      value: '1200.5',
      value_minor: '120050',
      created_at: '2026-03-02T09:00:00.000Z',
    });
    expect(JSON.parse(rows[0]!['fields']!)).toMatchObject({ name: 'Doe, "Jane"', value: 1200.5 });

    const jsonl = join(dir, 'tasks.jsonl');
    ok(await cli(['--as', 'dpo', 'export', 'tasks', '--out', jsonl]));
    const lines = readFileSync(jsonl, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({
        id: 'L1#1:call',
        lead_id: 'L1',
        stage: 'qualify',
        due_at: '2026-03-03T09:00:00.000Z',
        ad_hoc: false,
      }),
    ]);
  });

  it('contact erase refuses without --yes and changes nothing', async () => {
    const r = await cli(['contact', 'erase', 'jane@example.com']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toContain('without --yes');
    expect(r.stderr).toContain('Nothing was changed');
  });

  it('contact erase --yes pseudonymises, cancels, queues the list erasure, and the audit log shows it all', async () => {
    const r = ok(await cli(['--as', 'dpo', 'contact', 'erase', 'JANE@example.com', '--yes']));
    expect(r.stdout).toMatch(/^erased jane@example\.com$/m);
    expect(r.stdout).toMatch(/leads pseudonymised +1 +L1 now named erased-[0-9a-f]{10}$/m);
    expect(r.stdout).toMatch(/messages cancelled +2/);
    expect(r.stdout).toMatch(/list erasures queued +1 +newsletter \(L1\)/);

    const audit = ok(await cli(['audit', 'list', '--json']));
    const entries = JSON.parse(audit.stdout) as { actor: string; action: string; details: Record<string, unknown> }[];
    expect(entries.map((e) => [e.action, e.actor, e.details['what'] ?? null]).sort()).toEqual([
      ['contact.erase', 'dpo', null],
      ['export', 'cli', 'leads'],
      ['export', 'dpo', 'tasks'],
      ['process.applied', 'user', null],
    ]);
    expect(audit.stdout.toLowerCase()).not.toContain('jane');
  });
});

describe('stageflow lead create/update with an expected close, in New York (SQLite)', () => {
  it('keeps a typed date as that day in New York and exports it with the offset of the day', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    const file = tempFile('process.yaml', PROCESS.replace('timezone: UTC', 'timezone: America/New_York'));
    const ok = (r: CliResult): CliResult => {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r;
    };
    ok(await cli(['process', 'apply', file]));
    ok(await cli(['lead', 'create', '--id', 'NY1', '--field', 'expected_close=2027-01-15']));
    // New York is on summer time (UTC-4) from 14 March 2027; 15 January is UTC-5.
    ok(await cli(['lead', 'update', 'NY1', '--field', 'expected_close=2027-03-31']));
    const out = join(dirname(file), 'ny-leads.jsonl');
    ok(await cli(['export', 'leads', '--out', out]));
    const [row] = readFileSync(out, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { expected_close: string; fields: Record<string, unknown> });
    expect(row?.expected_close).toBe('2027-03-31T00:00:00.000-04:00');
    expect(Date.parse(row?.expected_close ?? '')).toBe(Date.parse('2027-03-31T04:00:00Z'));
    expect(row?.fields['expected_close']).toBe('2027-03-31T00:00:00-04:00');
    // lead show reads the day as typed.
    expect(ok(await cli(['lead', 'show', 'NY1'])).stdout).toContain('expected_close=2027-03-31T00:00:00-04:00');

    // --updated-since with a date alone is that day's midnight in New York (05:00 UTC in March),
    // as the API reads it: NY2 (23:30 on 2 March there) is before it, NY3 (midnight) is not.
    ok(await cli(['lead', 'create', '--id', 'NY2'], '2026-03-03T04:30:00Z'));
    ok(await cli(['lead', 'create', '--id', 'NY3'], '2026-03-03T05:00:00Z'));
    const since = ok(await cli(['export', 'leads', '--updated-since', '2026-03-03'])).stdout;
    expect(
      since
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['NY3']);
  });
});
