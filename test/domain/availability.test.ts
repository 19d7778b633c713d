import { expect, it } from 'vitest';
import { overridesAfterApply, problemsAdded, withAvailability } from '../../src/domain/availability.js';
import { parseProcess } from '../../src/domain/process-load.js';
import type { Process } from '../../src/domain/process-schema.js';

/**
 * Availability overrides over the process file: merged into the process routing gets, replaced
 * field by field by a later file that changes that field, and checked as a file would be.
 */

function processOf(users: string): Process {
  const parsed = parseProcess(`name: Availability
organisation: { timezone: UTC }
users:
${users}
assignment: { default_owner: olga, rules: [] }
pipelines:
  - { id: p, name: P, default: true, stages: [{ id: s, name: S }] }
`);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.process;
}

const V1 = processOf(`  - { id: olga, name: Olga }
  - { id: ann, name: Ann, capacity: { per_day: 5 } }
  - { id: bo, name: Bo }`);
const LEAVE = [{ from: '2026-03-01', to: '2026-03-05' }];

it('merges the overrides into the users they name, and hands back the same process when none apply', () => {
  expect(withAvailability(V1, new Map())).toBe(V1);
  expect(withAvailability(V1, new Map([['nobody', { active: false }]]))).toBe(V1);
  const merged = withAvailability(V1, new Map([['ann', { out_of_office: LEAVE, capacity: { per_day: 1 } }]]));
  expect(merged.users.find((u) => u.id === 'ann')).toMatchObject({ out_of_office: LEAVE, capacity: { per_day: 1 } });
  expect(merged.users.find((u) => u.id === 'bo')).toBe(V1.users.find((u) => u.id === 'bo'));
  expect(V1.users.find((u) => u.id === 'ann')?.out_of_office).toEqual([]);
});

it('keeps an override the next file leaves alone, replaces one it changes, and drops a removed person’s', () => {
  const overrides = new Map([
    ['ann', { out_of_office: LEAVE, capacity: { per_day: 1 } }],
    ['bo', { active: false }],
  ]);
  // Unchanged file (key order aside): everything kept.
  expect(overridesAfterApply(V1, V1, overrides)).toEqual({ kept: overrides, replaced: [] });

  // ann's capacity changes in the file (per_day 5 → 8): that override goes; her leave stays. bo leaves the file.
  const v2 = processOf(`  - { id: olga, name: Olga, tier: lead }
  - { id: ann, name: Ann, capacity: { per_day: 8 } }`);
  expect(overridesAfterApply(V1, v2, overrides)).toEqual({
    kept: new Map([['ann', { out_of_office: LEAVE }]]),
    replaced: [
      { user: 'ann', fields: ['capacity'] },
      { user: 'bo', fields: ['active'] },
    ],
  });

  // Other fields of the person edited, or the file now stating the override's value itself.
  const v3 = processOf(`  - { id: olga, name: Olga }
  - { id: ann, name: Ann, capacity: { per_day: 5 }, tier: x }
  - { id: bo, name: Bo, active: false, tier: x }`);
  expect(overridesAfterApply(V1, v3, overrides)).toEqual({
    kept: new Map([['ann', { out_of_office: LEAVE, capacity: { per_day: 1 } }]]),
    replaced: [{ user: 'bo', fields: ['active'] }],
  });
});

it('finds the problems a change adds, not those the process had already', () => {
  const inactiveOwner = withAvailability(V1, new Map([['olga', { active: false }]]));
  expect(problemsAdded(V1, inactiveOwner)).toEqual([
    'assignment.default_owner: user "olga" is inactive (active: false) and gets no new leads: the default owner must be an active user',
  ]);
  expect(problemsAdded(inactiveOwner, withAvailability(inactiveOwner, new Map([['ann', { active: false }]])))).toEqual(
    [],
  );
});
