import type { Pipeline, Process, Stage, TaskTemplate } from './process-schema.js';

/**
 * What a new process version does to the leads already in a stage it changes. Tasks are created
 * on entry, so a task the stage gains reaches those leads only when asked (`--backfill-tasks`); a
 * task it drops stays open where it is; a changed goal (or gate) is checked for them on apply, so
 * a goal they already meet advances them then, not at some later unrelated event. A changed stall
 * threshold (the stage's or the organisation's default) and a changed `overdue_after_hours` reach
 * them on apply, counted from when they entered the stage or the task was due; an alert already
 * sent is not sent again. Pure: the caller brings the open lead counts.
 */

/** A number of days or hours, before and after the new version. */
export interface Threshold {
  before: number;
  after: number;
}

export interface StageImpact {
  pipeline: string;
  stage: string;
  gainedTasks: string[];
  droppedTasks: string[];
  /** Tasks both versions have whose due rule, title, kind or assignee differ, with what differs. */
  changedTasks: { id: string; what: string[] }[];
  /** The goal, the strict flag or the required fields changed: what decides when a lead leaves. */
  exitChanged: boolean;
  /** Days after entry a stay stalls (its own stall_after_days, else the organisation's default), if changed. */
  stallDays: Threshold | null;
}

/** As decide() counts them when a stay is entered or a task created. */
export const stallAfterMs = (days: number): number => Math.round(days * 86_400_000);
export const overdueAfterMs = (hours: number): number => Math.round(hours * 3_600_000);

const stallDaysOf = (p: Process, stage: Stage): number => stage.stall_after_days ?? p.organisation.default_stall_days;

/** The parts of a task template a lead's open task was made from (its id names it in both versions). */
const TASK_PARTS = ['due', 'title', 'kind', 'assignee'] as const satisfies readonly (keyof TaskTemplate)[];

/** Stages present in both versions whose tasks, exit rules or stall threshold differ, in the new version's order. */
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
      const changedTasks = stage.tasks.flatMap((t) => {
        const was = old.tasks.find((o) => o.id === t.id);
        const what = was ? TASK_PARTS.filter((k) => JSON.stringify(was[k]) !== JSON.stringify(t[k])) : [];
        return what.length > 0 ? [{ id: t.id, what }] : [];
      });
      const exitChanged =
        JSON.stringify(old.goal ?? null) !== JSON.stringify(stage.goal ?? null) ||
        old.strict !== stage.strict ||
        JSON.stringify(old.required_fields) !== JSON.stringify(stage.required_fields);
      const stall = { before: stallDaysOf(before, old), after: stallDaysOf(after, stage) };
      const stallDays = stall.before === stall.after ? null : stall;
      if (gainedTasks.length > 0 || droppedTasks.length > 0 || changedTasks.length > 0 || exitChanged || stallDays)
        out.push({ pipeline: pl.id, stage: stage.id, gainedTasks, droppedTasks, changedTasks, exitChanged, stallDays });
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

/** The organisation's overdue_after_hours, if the new version changes it: every open task's alert moves. */
export function overdueHoursChange(before: Process | null, after: Process): Threshold | null {
  if (!before) return null;
  const change = { before: before.organisation.overdue_after_hours, after: after.organisation.overdue_after_hours };
  return change.before === change.after ? null : change;
}

const leads = (n: number): string => `${n} open lead${n === 1 ? '' : 's'}`;
const days = (n: number): string => `${n} day${n === 1 ? '' : 's'}`;
const hours = (n: number): string => `${n} hour${n === 1 ? '' : 's'}`;
const notAgain = (n: number): string =>
  n === 0
    ? ''
    : `; ${n} already alerted ${n === 1 ? 'stays' : 'stay'} alerted and ${n === 1 ? 'is' : 'are'} not alerted again`;
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
  stalledLeads: (pipeline: string, stage: string) => number = () => 0,
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
    for (const t of i.changedTasks) {
      const what = `${where} changes task "${t.id}" (${t.what.join(', ')})`;
      lines.push(
        n === 0
          ? `${what}: no open leads in it`
          : `${what}: the ${leads(n)} in it keep ${n === 1 ? 'its' : 'their'} open task as it was (due time and assignee unchanged); leads entering it get the new one`,
      );
    }
    if (i.exitChanged) {
      const what = `${where} changes its goal or gate`;
      lines.push(
        n === 0
          ? `${what}: no open leads in it`
          : `${what}: the ${leads(n)} in it are checked against it on apply; those that meet it advance then (but for a lead a person moved back or reopened into it, which waits for a new fact)`,
      );
    }
    if (i.stallDays) lines.push(describeStall(where, i.stallDays, n, stalledLeads(i.pipeline, i.stage)));
  }
  return lines;
}

/** `n` open leads in the stage, `alerted` of them already flagged stalled in their current stay. */
function describeStall(where: string, t: Threshold, n: number, alerted: number): string {
  const what = `${where} stalls after ${days(t.after)} instead of ${t.before}`;
  if (n === 0) return `${what}: no open leads in it`;
  const sooner = t.after < t.before ? `; those in it ${days(t.after)} or longer are alerted at the next tick` : '';
  return `${what}: ${leads(n)} in it: stall alert now ${days(t.after)} after entry${sooner}${notAgain(alerted)}`;
}

/** `open` open tasks of open leads, `alerted` of them already past their overdue alert. */
export function describeOverdueChange(t: Threshold, open: number, alerted: number): string {
  const what = `organisation overdue_after_hours ${t.before} -> ${t.after}`;
  if (open === 0) return `${what}: no open tasks`;
  const tasks = `${open} open task${open === 1 ? '' : 's'}`;
  const sooner = t.after < t.before ? '; those already that far past due are alerted at the next tick' : '';
  return `${what}: ${tasks}: overdue alert now ${hours(t.after)} after due (due times unchanged)${sooner}${notAgain(alerted)}`;
}

/**
 * Open leads in a stage or pipeline the new version removes: apply refuses the version. `path`
 * is where the pipeline or stage is in the current version (`pipelines[1]`,
 * `pipelines[0].stages[3]`), so a user finds it in the file they are changing.
 */
export interface RemovedHolding {
  /** Null when the current version does not have it either (leads left behind by an older one). */
  path: string | null;
  /** `pipeline renewals` or `stage new-business/proposal`. */
  what: string;
  /** Open leads in it, and per stage for a pipeline. */
  n: number;
  byStage: { stage: string; n: number }[];
  /** Where its leads can go: another stage, or (for a whole pipeline) another pipeline. */
  moveTo: 'stage' | 'pipeline';
}

export function removedHoldings(
  before: Process | null,
  after: Process,
  open: readonly { pipeline: string; stage: string; n: number }[],
): RemovedHolding[] {
  const out: RemovedHolding[] = [];
  const pipelines = new Map<string, RemovedHolding>();
  for (const g of open) {
    if (g.n === 0) continue;
    const kept = after.pipelines.find((p) => p.id === g.pipeline);
    if (kept?.stages.some((s) => s.id === g.stage)) continue;
    if (kept) {
      const path = stagePath(before, g.pipeline, g.stage);
      out.push({ path, what: `stage ${g.pipeline}/${g.stage}`, n: g.n, byStage: [], moveTo: 'stage' });
      continue;
    }
    let whole = pipelines.get(g.pipeline);
    if (!whole) {
      whole = pipelineHolding(before, g.pipeline);
      pipelines.set(g.pipeline, whole);
      out.push(whole);
    }
    whole.n += g.n;
    whole.byStage.push({ stage: g.stage, n: g.n });
  }
  return out;
}

function pipelineHolding(before: Process | null, id: string): RemovedHolding {
  const index = before?.pipelines.findIndex((p) => p.id === id) ?? -1;
  return {
    path: index < 0 ? null : `pipelines[${index}]`,
    what: `pipeline ${id}`,
    n: 0,
    byStage: [],
    moveTo: 'pipeline',
  };
}

function stagePath(before: Process | null, pipeline: string, stage: string): string | null {
  const pi = before?.pipelines.findIndex((p) => p.id === pipeline) ?? -1;
  const pl: Pipeline | undefined = before?.pipelines[pi];
  const si = pl?.stages.findIndex((s) => s.id === stage) ?? -1;
  return si < 0 ? null : `pipelines[${pi}].stages[${si}]`;
}

const stageCounts = (h: RemovedHolding): string =>
  h.byStage.length === 0 ? '' : ` (${h.byStage.map((s) => `${s.stage} ${s.n}`).join(', ')})`;

/** What `process diff` says of it: the apply it previews would be refused. */
export function describeRemovedHolding(h: RemovedHolding): string {
  const where = h.path ? ` (${h.path} in the current version)` : '';
  return `${h.what}${where} is removed but holds ${leads(h.n)}${stageCounts(h)}: apply will be refused; move ${h.n === 1 ? 'it' : 'them'} first`;
}

/** Apply's refusal, placed at the current version's path as validation problems are placed. */
export function removedHoldingProblem(h: RemovedHolding): string {
  const where = h.path ? `${h.path} in the current version: ` : '';
  return `${where}${h.what} is removed but holds ${leads(h.n)}${stageCounts(h)}; move ${h.n === 1 ? 'it' : 'them'} to another ${h.moveTo} first`;
}

/** A person the new version drops while they still own open leads or hold open tasks. */
export interface RemovedUser {
  /** Where they are in the current version (`users[3]`). */
  path: string | null;
  user: string;
  leads: number;
  tasks: number;
}

/**
 * People removed with open work: their leads would keep running for an owner the process no
 * longer knows (new tasks and reminders addressed to nobody), so apply refuses, as it does for a
 * stage that still holds leads. A user kept with `active: false` gets no new leads and keeps theirs.
 */
export function removedUsersWithWork(
  before: Process | null,
  after: Process,
  work: readonly { user: string; leads: number; tasks: number }[],
): RemovedUser[] {
  if (!before) return [];
  const kept = new Set(after.users.map((u) => u.id));
  return before.users.flatMap((u, i) => {
    const w = work.find((x) => x.user === u.id);
    if (kept.has(u.id) || !w || w.leads + w.tasks === 0) return [];
    return [{ path: `users[${i}]`, user: u.id, leads: w.leads, tasks: w.tasks }];
  });
}

/** Open leads owned and open tasks held: what `process diff` counts for a person it changes. */
type OpenWork = Pick<RemovedUser, 'user' | 'leads' | 'tasks'>;

const workOf = (u: OpenWork): string =>
  [
    u.leads > 0 ? `owns ${leads(u.leads)}` : '',
    u.tasks > 0 ? `has ${u.tasks} open task${u.tasks === 1 ? '' : 's'}` : '',
  ]
    .filter((s) => s !== '')
    .join(' and ');

/**
 * What can be done: `user handover` moves all of it at once (a lead's owner tasks follow it; a
 * task of a fixed user or a team is handed over by itself); one by one is still possible.
 */
const handOver = (u: OpenWork): string => `user handover ${u.user} --to USER`;

const remedy = (u: RemovedUser): string =>
  `hand their work over first (${handOver(u)}), or keep the user with active: false`;

/** What `process diff` says of it: the apply it previews would be refused. */
export function describeRemovedUser(u: RemovedUser): string {
  return `user ${u.user} (${u.path} in the current version) is removed but ${workOf(u)}: apply will be refused; ${remedy(u)}`;
}

/** Apply's refusal, placed at the current version's path. */
export function removedUserProblem(u: RemovedUser): string {
  return `${u.path} in the current version: user ${u.user} is removed but ${workOf(u)}; ${remedy(u)}`;
}

/**
 * People the new version sets to `active: false` while they own open leads or hold open tasks.
 * Not refused: keeping someone inactive is how they leave with their work in place (they get no
 * new leads or tasks, and keep what they have), but a manager should know that work stays with them.
 */
export function deactivatedUsersWithWork(
  before: Process | null,
  after: Process,
  work: readonly OpenWork[],
): OpenWork[] {
  if (!before) return [];
  const wasActive = new Set(before.users.filter((u) => u.active).map((u) => u.id));
  return after.users.flatMap((u) => {
    const w = work.find((x) => x.user === u.id);
    if (u.active || !wasActive.has(u.id) || !w || w.leads + w.tasks === 0) return [];
    return [{ user: u.id, leads: w.leads, tasks: w.tasks }];
  });
}

/** What `process diff` says of it; the apply goes ahead. */
export function describeDeactivatedUser(u: OpenWork): string {
  const them = u.leads + u.tasks === 1 ? 'it' : 'them';
  return `user ${u.user} becomes inactive but ${workOf(u)}: they keep ${them} and get no new work; to hand ${them} over: ${handOver(u)} (or --rules once this version is applied)`;
}
