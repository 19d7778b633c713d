import { describe, expect, it } from 'vitest';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';
import { deactivatedUsersWithWork, describeDeactivatedUser } from '../../src/domain/process-impact.js';
import type { Process } from '../../src/domain/process-schema.js';

/**
 * An inactive user gets no new work (docs/process.md). The default owner and a task's fixed
 * assignee are handed work as they are, so validation refuses them when inactive; a rule's
 * `{user}` target is passed over at routing time (fallback, then the default owner), so it stays
 * allowed and a person can be deactivated without rewriting every rule that names them.
 */

const text = (opts: { boss?: string; dora?: string } = {}): string => `name: Inactive
users:
  - { id: boss, name: Boss${opts.boss ?? ''} }
  - { id: anna, name: Anna }
  - { id: dora, name: Dora${opts.dora ?? ''} }
assignment:
  default_owner: boss
  rules:
    - { id: to-dora, when: { field: territory, eq: us }, to: { user: dora }, fallback: [{ user: dora }] }
pipelines:
  - id: nb
    name: New business
    stages:
      - id: qualify
        name: Qualify
        tasks:
          - { id: call, title: Call, due: { days: 1 } }
          - { id: check, title: Check, due: { days: 1 }, assignee: { user: dora } }
`;

function problems(source: string): string[] {
  const r = parseProcess(source);
  return r.ok ? [] : r.problems.map(formatProblem);
}

function parsed(source: string): Process {
  const r = parseProcess(source);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.process;
}

describe('inactive users in a process file', () => {
  it('accepts them all active', () => {
    expect(problems(text())).toEqual([]);
  });

  it('refuses an inactive default owner, at its path and line', () => {
    expect(problems(text({ boss: ', active: false' }))).toEqual([
      'assignment.default_owner: user "boss" is inactive (active: false) and gets no new leads: the default owner must be an active user (line 7)',
    ]);
  });

  it("refuses an inactive task assignee, and lets the rule's target and fallback be passed over", () => {
    expect(problems(text({ dora: ', active: false' }))).toEqual([
      'pipelines[0].stages[0].tasks[1].assignee.user: user "dora" is inactive (active: false) and gets no new tasks: assign the task to an active user, the owner or a team (line 18)',
    ]);
  });
});

describe('deactivatedUsersWithWork', () => {
  const before = parsed(text());
  const after = parsed(text({ dora: ', active: false' }).replace(', assignee: { user: dora }', ''));
  const work = [
    { user: 'dora', leads: 2, tasks: 3 },
    { user: 'anna', leads: 5, tasks: 5 },
  ];

  it('names who becomes inactive with open work, and only them', () => {
    expect(deactivatedUsersWithWork(before, after, work)).toEqual([{ user: 'dora', leads: 2, tasks: 3 }]);
    expect(deactivatedUsersWithWork(before, after, [{ user: 'dora', leads: 0, tasks: 0 }])).toEqual([]);
    // Inactive already, or the first version: nothing becomes inactive.
    expect(deactivatedUsersWithWork(after, after, work)).toEqual([]);
    expect(deactivatedUsersWithWork(null, after, work)).toEqual([]);
  });

  it('says they keep their work and how to hand it over', () => {
    expect(describeDeactivatedUser({ user: 'dora', leads: 1, tasks: 0 })).toBe(
      'user dora becomes inactive but owns 1 open lead: they keep it and get no new work; to hand it over: user handover dora --to USER (or --rules once this version is applied)',
    );
    expect(describeDeactivatedUser({ user: 'dora', leads: 0, tasks: 2 })).toBe(
      'user dora becomes inactive but has 2 open tasks: they keep them and get no new work; to hand them over: user handover dora --to USER (or --rules once this version is applied)',
    );
  });
});
