import type { Process, Stage } from './process-schema.js';

/**
 * What a new process version does to the leads already in a stage it changes. Tasks are created
 * on entry, so a task the stage gains reaches those leads only when asked (`--backfill-tasks`); a
 * task it drops stays open where it is; a changed goal (or gate) is checked for them on apply, so
 * a goal they already meet advances them then, not at some later unrelated event. Pure: the
 * caller brings the open lead counts.
 */

export interface StageImpact {
  pipeline: string;
  stage: string;
  gainedTasks: string[];
  droppedTasks: string[];
  /** The goal, the strict flag or the required fields changed: what decides when a lead leaves. */
  exitChanged: boolean;
}

/** Stages present in both versions whose tasks or exit rules differ, in the new version's order. */
export function stageImpacts(before: Process | null, after: Process): StageImpact[] {
  if (!before) return [];
  const out: StageImpact[] = [];
  for (const pl of after.pipelines) {
    const oldPl = before.pipelines.find((p) => p.id === pl.id);
    if (!oldPl) continue;
    for (const stage of pl.stages) {
      const old = oldPl.stages.find((s) => s.id === stage.id);
      if (!old) continue;
      const taskIds = (s: Stage): string[] => s.tasks.map((t) => t.id);
      const gainedTasks = taskIds(stage).filter((id) => !taskIds(old).includes(id));
      const droppedTasks = taskIds(old).filter((id) => !taskIds(stage).includes(id));
      const exitChanged =
        JSON.stringify(old.goal ?? null) !== JSON.stringify(stage.goal ?? null) ||
        old.strict !== stage.strict ||
        JSON.stringify(old.required_fields) !== JSON.stringify(stage.required_fields);
      if (gainedTasks.length > 0 || droppedTasks.length > 0 || exitChanged)
        out.push({ pipeline: pl.id, stage: stage.id, gainedTasks, droppedTasks, exitChanged });
    }
  }
  return out;
}

/** Whether apply sends this stage's open leads through the engine (and which tasks they get). */
export function backfillFor(impact: StageImpact, backfillTasks: boolean): string[] {
  return backfillTasks ? impact.gainedTasks : [];
}

export function needsEngine(impact: StageImpact, backfillTasks: boolean): boolean {
  return impact.exitChanged || backfillFor(impact, backfillTasks).length > 0;
}

const leads = (n: number): string => `${n} open lead${n === 1 ? '' : 's'}`;
const quoted = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');
const tasks = (ids: readonly string[]): string => `task${ids.length === 1 ? '' : 's'} ${quoted(ids)}`;

/**
 * One line per consequence for the leads in flight, as `process diff` (a preview: `backfillTasks`
 * is what the apply would be asked) and `process apply` print them. Stages holding no open
 * lead say so, so a manager sees the change touches nobody yet.
 */
export function describeImpacts(
  impacts: readonly StageImpact[],
  openLeads: (pipeline: string, stage: string) => number,
  backfillTasks: boolean,
): string[] {
  const lines: string[] = [];
  for (const i of impacts) {
    const n = openLeads(i.pipeline, i.stage);
    const where = `stage ${i.pipeline}/${i.stage}`;
    if (i.gainedTasks.length > 0) {
      const what = `${where} gains ${tasks(i.gainedTasks)}`;
      if (n === 0) lines.push(`${what}: no open leads in it; leads entering it get it`);
      else if (backfillTasks)
        lines.push(`${what}: created for the ${leads(n)} in it (--backfill-tasks), due from the apply time`);
      else
        lines.push(
          `${what}: ${leads(n)} in it ${n === 1 ? 'keeps its' : 'keep their'} tasks (new ${i.gainedTasks.length === 1 ? 'task' : 'tasks'} not created); apply --backfill-tasks creates ${i.gainedTasks.length === 1 ? 'it' : 'them'} for them, due from now`,
        );
    }
    if (i.droppedTasks.length > 0) {
      const what = `${where} drops ${tasks(i.droppedTasks)}`;
      lines.push(
        n === 0
          ? `${what}: no open leads in it`
          : `${what}: on the ${leads(n)} in it, open ones stay open until done or the lead leaves the stage (the goal no longer asks for ${i.droppedTasks.length === 1 ? 'it' : 'them'})`,
      );
    }
    if (i.exitChanged) {
      const what = `${where} changes its goal or gate`;
      lines.push(
        n === 0
          ? `${what}: no open leads in it`
          : `${what}: the ${leads(n)} in it are checked against it on apply; those that meet it advance then`,
      );
    }
  }
  return lines;
}
