import { factsNamed } from './conditions.js';
import type { Process } from './process-schema.js';

/**
 * The activity kinds a person may log. A goal counts an activity by its exact kind, so a kind no
 * goal names and no one uses ("Call", "cal") would be stored and silently count for nothing: kinds
 * are compared without case and stored as known, and an unknown one is refused with the list.
 */

/** Kinds every process knows, whether or not a goal counts them (the task kinds, and a plain note). */
export const COMMON_ACTIVITY_KINDS = ['call', 'email', 'meeting', 'demo', 'note', 'visit', 'message'] as const;

/** The common kinds, then those the process's stage goals count, each once, in that order. */
export function activityKinds(process: Process): string[] {
  const kinds = new Set<string>(COMMON_ACTIVITY_KINDS);
  for (const pipeline of process.pipelines)
    for (const stage of pipeline.stages)
      if (stage.goal) for (const kind of factsNamed(stage.goal).activities) kinds.add(kind);
  return [...kinds];
}

/** The known kind a person meant (the process's spelling), or undefined for an unknown kind. */
export function knownActivityKind(process: Process, written: string): string | undefined {
  const folded = written.trim().toLowerCase();
  return activityKinds(process).find((k) => k.toLowerCase() === folded);
}

export function unknownActivityKind(process: Process, written: string): string {
  return `"${written}" is not an activity kind: one of ${activityKinds(process).join(', ')}`;
}
