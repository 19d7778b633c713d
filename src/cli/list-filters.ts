import { checkProcessFilter, type ProcessFilter } from '../domain/process-filter.js';
import type { Process } from '../domain/process-schema.js';
import type { Store } from '../store/db.js';
import { latestProcess } from '../store/processes.js';
import { UsageError } from './errors.js';

/**
 * A list's --pipeline, --stage and --team read against the current process, as the API reads its
 * query: each one the process does not have is an error naming the option and the names there
 * are, never an empty list; else the members of the team named (by id or name, any case).
 */
export async function processFilterOptions(
  store: Store,
  f: ProcessFilter,
): Promise<{ members?: string[]; process?: Process }> {
  const process = (await latestProcess(store.db))?.process;
  if (!process) return f.team === undefined ? {} : { members: [] };
  const { members, problems } = checkProcessFilter(process, f);
  if (problems.length > 0) throw new UsageError(problems.map((p) => `--${p.filter}: ${p.message}`).join('\n'));
  return members === undefined ? { process } : { members, process };
}
