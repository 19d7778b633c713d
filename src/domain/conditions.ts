import type { Condition, FieldTest } from './process-schema.js';

export type FieldValue = string | number | boolean | null;
export type Fields = Record<string, FieldValue>;

/** What a condition can look at. Task, activity and signal facts concern the current stage stay. */
export interface ConditionFacts {
  fields: Fields;
  doneTasks?: ReadonlySet<string>;
  activities?: Readonly<Record<string, number>>;
  signals?: ReadonlySet<string>;
}

export function evaluate(c: Condition, facts: ConditionFacts): boolean {
  if ('all' in c) return c.all.every((s) => evaluate(s, facts));
  if ('any' in c) return c.any.some((s) => evaluate(s, facts));
  if ('task_done' in c) return facts.doneTasks?.has(c.task_done) ?? false;
  if ('activity' in c) return (facts.activities?.[c.activity] ?? 0) >= (c.min ?? 1);
  if ('signal' in c) return facts.signals?.has(c.signal) ?? false;
  return testField(c, facts.fields[c.field] ?? null);
}

/** Text of spaces only is as empty to a condition as '' (a form's untouched field). */
function isSet(v: FieldValue): boolean {
  return v !== null && (typeof v !== 'string' || v.trim() !== '');
}

function testField(t: FieldTest, v: FieldValue): boolean {
  if (t.set !== undefined && isSet(v) !== t.set) return false;
  if (t.eq !== undefined && !looseEquals(v, t.eq)) return false;
  if (t.ne !== undefined && looseEquals(v, t.ne)) return false;
  if (t.in !== undefined && !t.in.some((x) => looseEquals(v, x))) return false;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  const bounds: [number | undefined, (a: number, b: number) => boolean][] = [
    [t.gt, (a, b) => a > b],
    [t.gte, (a, b) => a >= b],
    [t.lt, (a, b) => a < b],
    [t.lte, (a, b) => a <= b],
  ];
  for (const [bound, cmp] of bounds) {
    if (bound !== undefined && (Number.isNaN(n) || !cmp(n, bound))) return false;
  }
  return true;
}

/**
 * Text as conditions, pools and re-routing compare it: without regard to letter case or surrounding
 * spaces, so "emea", "EMEA" and a form's or spreadsheet's "EMEA " are the same territory to a person.
 */
export function textKey(s: string): string {
  return s.trim().toLowerCase();
}

function looseEquals(a: FieldValue, b: string | number | boolean): boolean {
  if (typeof a === 'string' && typeof b === 'string') return textKey(a) === textKey(b);
  if (typeof a === 'string' && typeof b === 'number') return a.trim() !== '' && Number(a) === b;
  return a === b;
}

/**
 * Whether two values of a field are the same to every condition: text differing only in letter
 * case or surrounding spaces is (`EMEA`, `Emea` and `EMEA ` match the same rules), so such a change
 * re-routes nobody.
 */
export function sameToConditions(a: FieldValue | null, b: FieldValue | null): boolean {
  if (typeof a === 'string' && typeof b === 'string') return textKey(a) === textKey(b);
  return a === b;
}

/** The lead fields a condition reads, for the run log's inputs. */
export function fieldsRead(c: Condition, into: Set<string> = new Set()): Set<string> {
  if ('all' in c) c.all.forEach((s) => fieldsRead(s, into));
  else if ('any' in c) c.any.forEach((s) => fieldsRead(s, into));
  else if ('field' in c) into.add(c.field);
  return into;
}

/** Every task, activity kind, signal and field a condition names. */
export interface NamedFacts {
  tasks: Set<string>;
  activities: Set<string>;
  signals: Set<string>;
  fields: Set<string>;
}

export function factsNamed(
  c: Condition,
  into: NamedFacts = { tasks: new Set(), activities: new Set(), signals: new Set(), fields: new Set() },
): NamedFacts {
  if ('all' in c) c.all.forEach((s) => factsNamed(s, into));
  else if ('any' in c) c.any.forEach((s) => factsNamed(s, into));
  else if ('task_done' in c) into.tasks.add(c.task_done);
  else if ('activity' in c) into.activities.add(c.activity);
  else if ('signal' in c) into.signals.add(c.signal);
  else into.fields.add(c.field);
  return into;
}

/** Names the first failing part of a condition, for the run log. */
export function describe(c: Condition): string {
  if ('all' in c) return `all(${c.all.map(describe).join(', ')})`;
  if ('any' in c) return `any(${c.any.map(describe).join(', ')})`;
  if ('task_done' in c) return `task_done ${c.task_done}`;
  if ('activity' in c) return `activity ${c.activity} x${c.min ?? 1}`;
  if ('signal' in c) return `signal ${c.signal}`;
  const ops = Object.entries(c)
    .filter(([k]) => k !== 'field')
    .map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  return `${c.field} ${ops.join(' ')}`;
}
