import { evaluate, type ConditionFacts, type FieldValue } from '../domain/conditions.js';
import type { Condition, FieldTest } from '../domain/process-schema.js';
import type { Random } from './random.js';

/**
 * What a person has to do to meet a stage goal, read from the goal itself: a task to finish, an
 * activity to log, a signal to wait for, a field to fill in. So the demo follows whatever the
 * process file says rather than knowing the example's stages. Where a goal offers a choice
 * (`any`), the first way is the usual one and the others are the "goal met another way" cases.
 */

export type Action =
  | { kind: 'task'; template: string }
  | { kind: 'activity'; activity: string }
  | { kind: 'signal'; name: string }
  | { kind: 'field'; field: string; value: FieldValue };

/** A value a rep would enter for a field, given what the test asks; `hint` is tried first. */
export type FieldValueSource = (field: string) => FieldValue | undefined;

/** Chance of taking the first branch of an `any`. */
const USUAL_WAY = 0.75;

export function recipe(goal: Condition, facts: ConditionFacts, r: Random, hint: FieldValueSource): Action[] {
  if (evaluate(goal, facts)) return [];
  if ('all' in goal) return goal.all.flatMap((c) => recipe(c, facts, r, hint));
  if ('any' in goal) {
    const [first, ...others] = goal.any;
    const chosen = others.length === 0 || r.chance(USUAL_WAY) ? first : r.pick(others);
    return chosen ? recipe(chosen, facts, r, hint) : [];
  }
  if ('task_done' in goal) return [{ kind: 'task', template: goal.task_done }];
  if ('activity' in goal) {
    const missing = (goal.min ?? 1) - (facts.activities?.[goal.activity] ?? 0);
    return Array.from({ length: Math.max(1, missing) }, () => ({ kind: 'activity', activity: goal.activity }));
  }
  if ('signal' in goal) return [{ kind: 'signal', name: goal.signal }];
  return [{ kind: 'field', field: goal.field, value: satisfying(goal, hint(goal.field), r) }];
}

/** A value that passes the test: the hint if it does, else the smallest honest one. */
export function satisfying(t: FieldTest, hint: FieldValue | undefined, r: Random): FieldValue {
  if (hint !== undefined && evaluate(t, { fields: { [t.field]: hint } })) return hint;
  if (t.eq !== undefined) return t.eq;
  if (t.in !== undefined && t.in.length > 0) return r.pick(t.in);
  const low = t.gte ?? (t.gt !== undefined ? t.gt + 1 : undefined);
  const high = t.lte ?? (t.lt !== undefined ? t.lt - 1 : undefined);
  if (low !== undefined) return high !== undefined ? Math.min(high, low + r.int(0, 10)) : low + r.int(0, low * 4 + 10);
  if (high !== undefined) return high - r.int(0, Math.max(0, Math.floor(Math.abs(high) / 2)));
  if (typeof t.ne === 'boolean') return !t.ne;
  if (t.ne !== undefined) return `not ${String(t.ne)}`;
  return 'yes';
}

/** Activity kinds a goal counts: logging one of those by chance could meet the goal. */
export function goalActivities(goal: Condition | undefined, into = new Set<string>()): Set<string> {
  if (!goal) return into;
  if ('all' in goal) goal.all.forEach((c) => goalActivities(c, into));
  else if ('any' in goal) goal.any.forEach((c) => goalActivities(c, into));
  else if ('activity' in goal) into.add(goal.activity);
  return into;
}
