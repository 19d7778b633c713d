import { checkProcessFilter, type ProcessFilter } from '../domain/process-filter.js';
import type { Process } from '../domain/process-schema.js';
import { Problem } from './problem.js';

/**
 * A list's `pipeline`, `stage` and `team` read against the current process: a 400 naming each one
 * it does not know (`query.stage`, with the known ones), else the members of the team named.
 * Without a process there is nothing to check against, and a team has nobody.
 */
export function processFilterOf(process: Process | null | undefined, f: ProcessFilter): { members?: string[] } {
  if (!process) return f.team === undefined ? {} : { members: [] };
  const { members, problems } = checkProcessFilter(process, f);
  if (problems.length > 0)
    throw new Problem('validation-failed', problems.map((p) => p.message).join('; '), {
      errors: problems.map((p) => ({ field: `query.${p.filter}`, message: p.message })),
    });
  return members === undefined ? {} : { members };
}
