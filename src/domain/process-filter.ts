import { closestName, type Process, type Team } from './process-schema.js';

/**
 * The pipeline, stage and team a list is filtered on, read against the process: a name no process
 * version ever had is a mistake to report (a typo would otherwise list nothing, which reads as "no
 * leads"), with the names there are. A pipeline or stage a later version removed is still a name:
 * won and lost leads (and their done tasks) stay in it. A team is named by its id or its name, in
 * any case, as the reports take it; only the current process's teams have members.
 */

/** Each pipeline any stored process version had, with every stage it had in any of them. */
export type KnownStages = ReadonlyMap<string, ReadonlySet<string>>;

/** Adds the pipelines and stages of `processes` to `into` (the versions are read once each). */
export function addKnownStages(into: Map<string, Set<string>>, processes: Iterable<Process>): Map<string, Set<string>> {
  for (const process of processes)
    for (const p of process.pipelines) {
      const stages = into.get(p.id) ?? new Set<string>();
      for (const s of p.stages) stages.add(s.id);
      into.set(p.id, stages);
    }
  return into;
}

export interface ProcessFilter {
  pipeline?: string | undefined;
  stage?: string | undefined;
  team?: string | undefined;
}

export interface ProcessFilterProblem {
  /** The filter at fault: `pipeline`, `stage` or `team`. */
  filter: keyof ProcessFilter;
  message: string;
}

export function findTeam(process: Process, wanted: string): Team | undefined {
  const folded = wanted.trim().toLowerCase();
  return (
    process.teams.find((t) => t.id === wanted) ??
    process.teams.find((t) => t.id.toLowerCase() === folded || t.name.trim().toLowerCase() === folded)
  );
}

/** `current` are the names the process has now; `former` the ones only earlier versions had. */
function unknown(what: string, typed: string, current: string[], former: string[] = [], where = ''): string {
  const meant = closestName(typed, [...current, ...former]);
  const list = current.length === 0 ? 'none' : current.join(', ');
  const gone = former.length === 0 ? '' : `; no longer in the process: ${former.join(', ')}`;
  return `unknown ${what} "${typed}"${meant ? ` (did you mean ${meant}?)` : ''}; ${what}s${where}: ${list}${gone}`;
}

/**
 * The team's members when a team is named, and every filter that names something neither the
 * process nor any earlier version (`known`, the current one's names included) had.
 */
export function checkProcessFilter(
  process: Process,
  known: KnownStages,
  f: ProcessFilter,
): { members: string[] | undefined; problems: ProcessFilterProblem[] } {
  const problems: ProcessFilterProblem[] = [];
  const everything = addKnownStages(new Map([...known].map(([p, stages]) => [p, new Set(stages)])), [process]);
  const currentPipelines = process.pipelines.map((p) => p.id);
  const pipeline = f.pipeline !== undefined && everything.has(f.pipeline) ? f.pipeline : undefined;
  if (f.pipeline !== undefined && pipeline === undefined)
    problems.push({
      filter: 'pipeline',
      message: unknown(
        'pipeline',
        f.pipeline,
        currentPipelines,
        [...everything.keys()].filter((p) => !currentPipelines.includes(p)),
      ),
    });
  if (f.stage !== undefined) {
    // Within the pipeline named, else in any: the same stage id may be in several pipelines.
    const within = (ps: Iterable<[string, ReadonlySet<string>]>): string[] => [
      ...new Set([...ps].filter(([p]) => pipeline === undefined || p === pipeline).flatMap(([, s]) => [...s])),
    ];
    const stages = within(everything);
    if (!stages.includes(f.stage)) {
      const current = within(process.pipelines.map((p) => [p.id, new Set(p.stages.map((s) => s.id))]));
      problems.push({
        filter: 'stage',
        message: unknown(
          'stage',
          f.stage,
          current,
          stages.filter((s) => !current.includes(s)),
          pipeline ? ` of pipeline ${pipeline}` : '',
        ),
      });
    }
  }
  let members: string[] | undefined;
  if (f.team !== undefined) {
    const team = findTeam(process, f.team);
    if (team) members = [...team.members];
    else
      problems.push({
        filter: 'team',
        message: unknown(
          'team',
          f.team,
          process.teams.map((t) => t.id),
        ),
      });
  }
  return { members, problems };
}

/** A stage's name in the process; its id when the process no longer has it. */
export function stageNameIn(process: Process | undefined, pipeline: string, stage: string): string {
  return process?.pipelines.find((p) => p.id === pipeline)?.stages.find((s) => s.id === stage)?.name ?? stage;
}
