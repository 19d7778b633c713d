import { addKnownStages, checkProcessFilter, type ProcessFilter } from '../domain/process-filter.js';
import type { Process } from '../domain/process-schema.js';
import type { Store } from '../store/db.js';
import { latestProcess, processesAfter } from '../store/processes.js';
import { UsageError } from './errors.js';

/**
 * A list's --pipeline, --stage and --team read against the process, as the API reads its query:
 * each one no process version ever had is an error naming the option and the names there are,
 * never an empty list (a stage a later version removed still holds closed leads); else the
 * members of the team named in the current process (by id or name, any case).
 */
export async function processFilterOptions(
  store: Store,
  f: ProcessFilter,
): Promise<{ members?: string[]; process?: Process }> {
  const process = (await latestProcess(store.db))?.process;
  if (!process) return f.team === undefined ? {} : { members: [] };
  let checked = checkProcessFilter(process, new Map(), f);
  // The earlier versions are read only when the current one lacks a pipeline or stage named.
  if (checked.problems.some((p) => p.filter !== 'team'))
    checked = checkProcessFilter(
      process,
      addKnownStages(
        new Map(),
        (await processesAfter(store.db, 0)).map((v) => v.process),
      ),
      f,
    );
  const { members, problems } = checked;
  if (problems.length > 0) throw new UsageError(problems.map((p) => `--${p.filter}: ${p.message}`).join('\n'));
  return members === undefined ? { process } : { members, process };
}
