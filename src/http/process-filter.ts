import { checkProcessFilter, type KnownStages, type ProcessFilter } from '../domain/process-filter.js';
import type { Process } from '../domain/process-schema.js';
import { Problem } from './problem.js';

/**
 * A list's `pipeline`, `stage` and `team` read against the process: a 400 naming each one no
 * version ever had (`query.stage`, with the known ones), else the members of the team named (in the
 * current process). Without a process there is nothing to check against, and a team has nobody.
 */
export function processFilterOf(
  process: Process | null | undefined,
  known: KnownStages,
  f: ProcessFilter,
): { members?: string[] } {
  if (!process) return f.team === undefined ? {} : { members: [] };
  const { members, problems } = checkProcessFilter(process, known, f);
  if (problems.length > 0)
    throw new Problem('validation-failed', problems.map((p) => p.message).join('; '), {
      errors: problems.map((p) => ({ field: `query.${p.filter}`, message: p.message })),
    });
  return members === undefined ? {} : { members };
}
