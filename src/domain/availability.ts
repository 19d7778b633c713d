import { parseProcess } from './process-load.js';
import type { Process, User } from './process-schema.js';

/**
 * Availability overrides: a person's `active`, `out_of_office`, `capacity` and `working_hours` as a
 * manager last set them (PUT /users/{id}/availability), over the values in the process file. They
 * are data about a person, kept apart from the process versions, so changing them re-versions no
 * lead; routing sees the process with them merged in (withAvailability), as decide() is handed it.
 */

export const AVAILABILITY_FIELDS = ['active', 'out_of_office', 'capacity', 'working_hours'] as const;
export type AvailabilityField = (typeof AVAILABILITY_FIELDS)[number];

export type AvailabilityOverride = Partial<Pick<User, AvailabilityField>>;

/** Overrides by user id. */
export type Availability = ReadonlyMap<string, AvailabilityOverride>;

/** The process with each user's overridden fields in place of the file's; the same object when none apply. */
export function withAvailability(p: Process, overrides: Availability): Process {
  if (overrides.size === 0 || !p.users.some((u) => overrides.has(u.id))) return p;
  return {
    ...p,
    users: p.users.map((u) => {
      const o = overrides.get(u.id);
      return o ? { ...u, ...o } : u;
    }),
  };
}

/** The fields of an override that differ from the user's values in the file: a field equal to the file's is no override. */
export function differingFromFile(user: User, override: AvailabilityOverride): AvailabilityOverride {
  const out: AvailabilityOverride = {};
  for (const field of AVAILABILITY_FIELDS) {
    if (!(field in override) || sameValue(override[field], user[field])) continue;
    Object.assign(out, { [field]: override[field] });
  }
  return out;
}

/**
 * What a newly applied file does to the overrides: a field the new file changes for a user (against
 * the version before it) is the newer statement and replaces the override of that field; a field the
 * file leaves as it was keeps its override. A user the file no longer names loses their overrides.
 * Returns the overrides to keep and, per user, the fields the file replaced.
 */
export function overridesAfterApply(
  before: Process | null,
  next: Process,
  overrides: Availability,
): { kept: Map<string, AvailabilityOverride>; replaced: { user: string; fields: AvailabilityField[] }[] } {
  const kept = new Map<string, AvailabilityOverride>();
  const replaced: { user: string; fields: AvailabilityField[] }[] = [];
  for (const [id, override] of overrides) {
    const now = next.users.find((u) => u.id === id);
    const was = before?.users.find((u) => u.id === id);
    const fields = AVAILABILITY_FIELDS.filter((f) => f in override);
    const gone = fields.filter((f) => !now || !was || !sameValue(now[f], was[f]));
    const rest = now
      ? differingFromFile(
          now,
          pick(
            override,
            fields.filter((f) => !gone.includes(f)),
          ),
        )
      : {};
    if (Object.keys(rest).length > 0) kept.set(id, rest);
    if (gone.length > 0) replaced.push({ user: id, fields: gone });
  }
  return { kept, replaced };
}

function pick(o: AvailabilityOverride, fields: readonly AvailabilityField[]): AvailabilityOverride {
  const out: AvailabilityOverride = {};
  for (const f of fields) Object.assign(out, { [f]: o[f] });
  return out;
}

/** Values as JSON holds them (key order aside): the same periods, caps or hours. */
function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/**
 * The checks a process file gets, on the process as routing would see it after a change of
 * availability (an inactive default owner, say): the problems `after` has that `before` had not,
 * as "path: message" (no line: neither is a file anyone wrote).
 */
export function problemsAdded(before: Process, after: Process): string[] {
  const problems = (p: Process): string[] => {
    const parsed = parseProcess(JSON.stringify(p));
    return parsed.ok ? [] : parsed.problems.map((x) => `${x.path || '(file)'}: ${x.message}`);
  };
  const had = new Set(problems(before));
  return problems(after).filter((x) => !had.has(x));
}

/**
 * The problems the process checks find with everyone's overrides in place that they do not find
 * without `user`'s: what that person's override is to blame for. Judged on the whole merged
 * process, so a problem an earlier override caused is still blamed on it at the next change.
 */
export function problemsOfOverride(file: Process, overrides: Availability, user: string): string[] {
  const others = new Map(overrides);
  others.delete(user);
  return problemsAdded(withAvailability(file, others), withAvailability(file, overrides));
}

/**
 * What the validator of a person's availability covers (If-Match on PUT /users/{id}/availability;
 * the route hashes it): the values routing uses, with when and by whom the override was last set,
 * so any change of them, through the API or a process file, gives another tag.
 */
export function availabilityState(user: User, setAt: number | null, setBy: string | null): string {
  return canonical([AVAILABILITY_FIELDS.map((f) => user[f]), setAt, setBy]);
}
