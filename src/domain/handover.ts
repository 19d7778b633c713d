import { isOutOfOffice, userZone } from './calendar.js';
import type { Process } from './process-schema.js';

/**
 * Handing all of one person's open work to others at once, as when a rep leaves or goes on a long
 * leave (what Salesforce calls a mass transfer and Pipedrive asks for when a user is deactivated).
 * Either one named person takes everything, or the assignment rules place each lead again.
 */
export type HandoverTarget = { kind: 'user'; user: string } | { kind: 'rules' };

/** Why this handover cannot start, in words for the person asking, or null when it can. */
export function handoverProblem(p: Process, from: string, target: HandoverTarget, now: number): string | null {
  if (target.kind === 'user') {
    if (target.user === from) return `"${from}" cannot take over their own work: name someone else`;
    const to = p.users.find((u) => u.id === target.user);
    if (!to) return `"${target.user}" is not a user of the process: only its users can own leads`;
    if (!to.active) return `"${target.user}" is inactive (active: false in the process): choose an active user`;
    return null;
  }
  const leaver = p.users.find((u) => u.id === from);
  if (p.assignment.default_owner === from)
    return `"${from}" is the process's default_owner, whom the assignment rules fall back to: name another default_owner first, or name the person who takes over`;
  // Routing passes over inactive and absent people only; anyone else could get the leads straight back.
  if (leaver && leaver.active && !isOutOfOffice(leaver, now, userZone(leaver, p)))
    return `"${from}" is active and not out of office, so the assignment rules could give the leads straight back: set active: false (or an out-of-office period) for them first, in their availability (PUT /users/{id}/availability) or the process file, or name the person who takes over`;
  return null;
}

/**
 * Who takes over one of the leaver's open tasks once the leads have moved: the named person; under
 * the rules, for a task given by team rotation, the team's rotation (the engine picks the next
 * member who is active and not away), else the lead's owner now. Null when nobody can (the lead has
 * no owner, or is still the leaver's).
 */
export type TaskTaker = { kind: 'user'; user: string } | { kind: 'rotation' };

export function taskTaker(
  target: HandoverTarget,
  from: string,
  task: { rule: string; leadOwner: string | null },
): TaskTaker | null {
  if (target.kind === 'user') return { kind: 'user', user: target.user };
  if (task.rule === 'team') return { kind: 'rotation' };
  return task.leadOwner === null || task.leadOwner === from ? null : { kind: 'user', user: task.leadOwner };
}
