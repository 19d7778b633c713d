import { afterEach, describe, expect, it } from 'vitest';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';
import { stageflow, tempFile } from '../cli/helpers.js';
import { call, startServer, tokenFor, type TestServer } from '../support/http.js';

/**
 * A holiday or out-of-office date that is not a date is a problem like any other, with its path
 * and line: `new Date('2026-13-01T00:00:00Z').toISOString()` used to throw out of validation, so
 * `process validate` said only "Invalid time value" and the API answered 500.
 */

const withDates = (holiday: string, awayTo = '2026-07-10'): string => `name: Dates
organisation:
  timezone: Europe/Berlin
  holidays:
    - ${holiday}
users:
  - id: anna
    name: Anna
    out_of_office: [{ from: 2026-07-01, to: ${awayTo} }]
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    stages:
      - { id: qualify, name: Qualify }
`;

function problems(text: string): string[] {
  const r = parseProcess(text);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe('process dates', () => {
  it.each([
    ['2026-13-01', 'is not a date that exists'],
    ['2026-01-32', 'is not a date that exists'],
    ['2026-00-10', 'is not a date that exists'],
    ['2026-04-00', 'is not a date that exists'],
    ['2026-02-30', 'is not a date that exists'],
    ['2026-3-9', 'must be a date such as 2026-12-24, not "2026-3-9"'],
    ["'10.03.2026'", 'must be a date such as 2026-12-24, not "10.03.2026"'],
    ["'next monday'", 'must be a date such as 2026-12-24, not "next monday"'],
    ['2026-03-09T00:00', 'must be a date such as 2026-12-24, not "2026-03-09T00:00"'],
    ['20260309', 'must be a date such as 2026-12-24'],
  ])('holiday %s: %s, at its path and line', (holiday, message) => {
    expect(problems(withDates(holiday))).toEqual([`organisation.holidays[0]: ${message} (line 5)`]);
  });

  it('an out-of-office end that does not exist is named at its path and line', () => {
    expect(problems(withDates('2026-12-24', '2026-07-32'))).toEqual([
      'users[0].out_of_office[0].to: is not a date that exists (line 9)',
    ]);
  });

  it('accepts real dates', () => {
    expect(problems(withDates('2026-12-24', '2026-07-31'))).toEqual([]);
  });

  it('process validate lists the problem and exits 1', async () => {
    const file = tempFile('dates.yaml', withDates('2026-13-01', '2026-07-32'));
    const r = await stageflow(['process', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        `stageflow: ${file} is invalid (2 problems)`,
        '  organisation.holidays[0]: is not a date that exists (line 5)',
        '  users[0].out_of_office[0].to: is not a date that exists (line 9)',
        '',
      ].join('\n'),
    );
  });
});

describe('POST /api/v1/process/validate with a bad date (SQLite)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('answers 400 with the problem, as for any other process problem, not 500', async () => {
    const server = await startServer('sqlite');
    servers.push(server);
    const admin = await tokenFor(server, 'admin');
    const r = await call(server, 'POST', '/api/v1/process/validate', {
      token: admin,
      body: { source: withDates("'next monday'", '2026-07-32') },
    });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      errors: [
        {
          field: 'body.source',
          message: 'organisation.holidays[0]: must be a date such as 2026-12-24, not "next monday" (line 5)',
        },
        { field: 'body.source', message: 'users[0].out_of_office[0].to: is not a date that exists (line 9)' },
      ],
    });
  });
});
