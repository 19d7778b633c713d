import { describe, expect, it } from 'vitest';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';

const valid = `name: Test
organisation:
  timezone: Europe/Berlin
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
        tasks:
          - { id: call, title: Call, due: { days: 1 } }
      - id: demo
        name: Demo
        goal: { task_done: demo-prep }
`;

function problems(text: string): string[] {
  const r = parseProcess(text);
  return r.ok ? [] : r.problems.map(formatProblem);
}

describe('parseProcess', () => {
  it('names the path and line of an unknown task in a goal', () => {
    expect(problems(valid)).toEqual(['pipelines[0].stages[1].goal: unknown task "demo-prep" (line 19)']);
  });

  it('accepts a valid file and fills defaults', () => {
    const r = parseProcess(valid.replace('goal: { task_done: demo-prep }', 'goal: { signal: trial_started }'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.process.pipelines[0]?.stages[0]?.tasks[0]?.assignee).toBe('owner');
    expect(r.process.organisation.workweek).toEqual([1, 2, 3, 4, 5]);
  });

  it('reports schema errors with the line of the offending key', () => {
    const text = valid.replace('{ days: 1 }', '{ days: 1, hours: 2 }');
    expect(problems(text)).toContain(
      'pipelines[0].stages[0].tasks[0].due: needs exactly one of days, business_days, hours (line 16)',
    );
  });

  it('reports unknown users, time zones and duplicate ids together', () => {
    const text = valid
      .replace('default_owner: anna', 'default_owner: zoe')
      .replace('timezone: Europe/Berlin', 'timezone: Mars/Olympus')
      .replace('- id: demo', '- id: qualify');
    const found = problems(text);
    expect(found).toContain('assignment.default_owner: unknown user "zoe" (line 7)');
    expect(found).toContain('organisation.timezone: unknown time zone "Mars/Olympus" (line 3)');
    expect(found).toContain('pipelines[0].stages[1].id: duplicate stage id "qualify" (line 17)');
  });

  it('reports YAML syntax errors with their line', () => {
    const r = parseProcess('name: x\nusers: [\n');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('names the key that is wrong deep inside a condition, and refuses a field test with no operator', () => {
    const wrongType = valid.replace(
      'goal: { task_done: demo-prep }',
      'goal: { all: [{ signal: x }, { field: seats, gte: five }] }',
    );
    expect(problems(wrongType)).toEqual([
      'pipelines[0].stages[1].goal.all[1].gte: Invalid input: expected number, received string (line 19)',
    ]);
    const noOperator = valid.replace('goal: { task_done: demo-prep }', 'goal: { field: budget_confirmed }');
    expect(problems(noOperator)).toEqual([
      'pipelines[0].stages[1].goal: needs exactly one of eq, ne, gt, gte, lt, lte, in, set (line 19)',
    ]);
    const unknownKind = valid.replace('goal: { task_done: demo-prep }', 'goal: { tasks_done: demo-prep }');
    expect(problems(unknownKind)).toEqual([
      'pipelines[0].stages[1].goal: needs one of all, any, task_done, activity, signal, field (line 19)',
    ]);
  });

  it('refuses dates that do not exist and working hours that end before they start', () => {
    const text = valid
      .replace('timezone: Europe/Berlin', 'timezone: Europe/Berlin\n  holidays: [2026-04-31]')
      .replace(
        '- { id: anna, name: Anna }',
        "- { id: anna, name: Anna, working_hours: { start: '17:30', end: '08:30' } }",
      );
    const found = problems(text);
    expect(found).toContain('organisation.holidays[0]: is not a date that exists (line 4)');
    expect(found).toContain(
      'users[0].working_hours.end: end must be after start (shifts past midnight are not supported) (line 6)',
    );
  });

  it('names only the time that does not parse, not a right end as "before start"', () => {
    const hours = (start: string, end: string): string[] =>
      problems(
        valid
          .replace(
            '- { id: anna, name: Anna }',
            `- { id: anna, name: Anna, working_hours: { start: '${start}', end: '${end}' } }`,
          )
          .replace('{ task_done: demo-prep }', '{ signal: trial_started }'),
      );
    for (const start of ['9am', '25:00'])
      expect(hours(start, '17:00')).toEqual(['users[0].working_hours.start: must be a time HH:MM (line 5)']);
    // '0900' sorts before '09:00' as text: it too must be named alone, not also as "before start".
    expect(hours('09:00', '0900')).toEqual(['users[0].working_hours.end: must be a time HH:MM (line 5)']);
  });

  it('fills the whole organisation block with its defaults when it is left out', () => {
    const r = parseProcess(
      valid
        .replace('organisation:\n  timezone: Europe/Berlin\n', '')
        .replace('{ task_done: demo-prep }', '{ signal: trial_started }'),
    );
    expect(r.ok && r.process.organisation).toMatchObject({ timezone: 'UTC', currency: 'EUR', default_stall_days: 14 });
  });

  it('refuses task conditions in entry criteria', () => {
    const text = valid.replace('    default: true\n', '    entry: { task_done: call }\n');
    expect(problems(text).join('\n')).toMatch(/pipelines\[0\]\.entry: only field conditions are allowed here/);
  });
});
