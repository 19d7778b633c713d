import { closestName, type Process, type Team } from './process-schema.js';

/**
 * The pipeline, stage and team a list is filtered on, read against the process: a name the
 * process does not have is a mistake to report (a typo would otherwise list nothing, which reads
 * as "no leads"), with the names it does have. A team is named by its id or its name, in any case,
 * as the reports take it.
 */

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

function unknown(what: string, typed: string, known: string[], where = ''): string {
  const meant = closestName(typed, known);
  const list = known.length === 0 ? 'none' : known.join(', ');
  return `unknown ${what} "${typed}"${meant ? ` (did you mean ${meant}?)` : ''}; ${what}s${where}: ${list}`;
}

/** The team's members when a team is named, and every filter the process does not know. */
export function checkProcessFilter(
  process: Process,
  f: ProcessFilter,
): { members: string[] | undefined; problems: ProcessFilterProblem[] } {
  const problems: ProcessFilterProblem[] = [];
  const pipeline = f.pipeline === undefined ? undefined : process.pipelines.find((p) => p.id === f.pipeline);
  if (f.pipeline !== undefined && !pipeline)
    problems.push({
      filter: 'pipeline',
      message: unknown(
        'pipeline',
        f.pipeline,
        process.pipelines.map((p) => p.id),
      ),
    });
  if (f.stage !== undefined) {
    // Within the pipeline named, else in any: the same stage id may be in several pipelines.
    const within = pipeline ? [pipeline] : process.pipelines;
    const stages = [...new Set(within.flatMap((p) => p.stages.map((s) => s.id)))];
    if (!stages.includes(f.stage))
      problems.push({
        filter: 'stage',
        message: unknown('stage', f.stage, stages, pipeline ? ` of pipeline ${pipeline.id}` : ''),
      });
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
