import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';

/** A process whose first stage's on-enter and whose on_won each carry one `set`, filled in per test. */
function processWith(onEnter: string, onWon = '{ field: lifecycle, value: customer }'): string {
  return `name: Test
users:
  - { id: anna, name: Anna }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        on_enter:
          - assign: rules
          - set: ${onEnter}
      - id: demo
        name: Demo
    on_won:
      - set: ${onWon}
`;
}

function problems(text: string): string[] {
  const r = parseProcess(text);
  return r.ok ? [] : r.problems.map(formatProblem);
}

const at = 'pipelines[0].stages[0].on_enter[1].set';

describe('set automations are held to the lead field rules', () => {
  it('refuses an expected close that is not a date, naming path, value and line', () => {
    expect(problems(processWith('{ field: expected_close, value: next tuesday }'))).toEqual([
      `${at}.value: expected_close must be a date such as 2027-03-31 (or an ISO date and time), not "next tuesday" (line 15)`,
    ]);
  });

  it('refuses a day that does not exist', () => {
    expect(problems(processWith("{ field: expected_close, value: '2027-02-30' }"))).toEqual([
      `${at}.value: expected_close must be a date such as 2027-03-31 (or an ISO date and time), not "2027-02-30" (line 15)`,
    ]);
  });

  it('refuses a value that is not a number, a negative one and one too large', () => {
    expect(problems(processWith('{ field: value, value: lots }'))).toEqual([
      `${at}.value: value must be a number, not "lots" (line 15)`,
    ]);
    expect(problems(processWith('{ field: value, value: -5 }'))).toEqual([
      `${at}.value: value must not be negative, not -5 (line 15)`,
    ]);
    expect(problems(processWith('{ field: value, value: 2e12 }'))).toEqual([
      `${at}.value: value must be at most 1e+12, not 2000000000000 (line 15)`,
    ]);
  });

  it('refuses an email that is not an address', () => {
    expect(problems(processWith('{ field: email, value: true }'))).toEqual([
      `${at}.value: email must be an email address, not true (line 15)`,
    ]);
  });

  it('refuses a forecast category that is none of the three', () => {
    expect(problems(processWith('{ field: forecast_category, value: comit }'))).toEqual([
      `${at}.value: forecast_category must be one of commit, best_case, pipeline (in any case; "best case" is best_case), not "comit" (line 15)`,
    ]);
  });

  it('refuses every lead attribute name, as the API does', () => {
    for (const name of ['id', 'owner', 'pipeline', 'stage', 'status', 'version']) {
      const found = problems(processWith(`{ field: ${name}, value: x }`));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        new RegExp(`^${at.replace(/[[\].]/g, '\\$&')}\\.field: "${name}" is not a field: .+ \\(line 15\\)$`),
      );
    }
  });

  it('checks the on_won automations of a pipeline too, with their own path and line', () => {
    expect(problems(processWith('{ field: lifecycle, value: trial }', '{ field: status, value: won }'))).toEqual([
      'pipelines[0].on_won[0].set.field: "status" is not a field: close the lead by winning or losing it, or reopen it (line 19)',
    ]);
  });

  it('accepts typed values, clearing values and free fields', () => {
    for (const set of [
      "{ field: expected_close, value: '2027-03-31' }",
      "{ field: expected_close, value: '2027-03-31T17:00:00+02:00' }",
      '{ field: value, value: 12000 }',
      "{ field: value, value: '12000.50' }",
      '{ field: email, value: ops@example.com }',
      '{ field: expected_close, value: null }',
      "{ field: value, value: '' }",
      '{ field: forecast_category, value: Best case }',
      '{ field: lifecycle, value: anything at all }',
      '{ field: trial, value: true }',
    ])
      expect(problems(processWith(set)), set).toEqual([]);
  });

  it('accepts a date relative to the event, with or without if_empty, for any field that takes a date', () => {
    for (const set of [
      '{ field: expected_close, after: { days: 30 }, if_empty: true }',
      '{ field: follow_up_on, after: { business_days: 2 } }',
      '{ field: expected_close, after: { days: 0 } }',
      '{ field: lifecycle, value: proposal, if_empty: true }',
    ])
      expect(problems(processWith(set)), set).toEqual([]);
  });

  it('adds no key the file did not write, so a version stored before if_empty existed diffs equal to the same file', () => {
    const r = parseProcess(processWith('{ field: lifecycle, value: trial }'));
    if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
    expect(r.process.pipelines[0]?.stages[0]?.on_enter[1]).toEqual({ set: { field: 'lifecycle', value: 'trial' } });
  });

  it('refuses a relative date for a field that is not a date, naming the rule it breaks', () => {
    expect(problems(processWith('{ field: value, after: { days: 30 } }'))).toEqual([
      `${at}.after: after writes a date, and value must be a number (line 15)`,
    ]);
    expect(problems(processWith('{ field: email, after: { days: 30 } }'))).toEqual([
      `${at}.after: after writes a date, and email must be an email address (line 15)`,
    ]);
  });

  it('refuses a set with both value and after, with neither, and a relative date that is not whole days', () => {
    const both = problems(processWith('{ field: expected_close, value: 2027-03-31, after: { days: 3 } }'));
    expect(both).toHaveLength(1);
    expect(both[0]).toMatch(/needs exactly one of value, after \(line 15\)$/);
    const neither = problems(processWith('{ field: expected_close, if_empty: true }'));
    expect(neither).toHaveLength(1);
    expect(neither[0]).toMatch(/needs exactly one of value, after \(line 15\)$/);
    expect(problems(processWith('{ field: expected_close, after: { hours: 4 } }')).join('\n')).toMatch(/hours/);
    expect(problems(processWith('{ field: expected_close, after: { days: 1, business_days: 1 } }')).join('\n')).toMatch(
      /needs exactly one of days, business_days/,
    );
  });

  it('still accepts the example process', () => {
    const text = readFileSync(new URL('../../examples/b2b-saas.process.yaml', import.meta.url), 'utf8');
    expect(problems(text)).toEqual([]);
  });
});
