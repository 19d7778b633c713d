import { evaluate, type ConditionFacts, type FieldValue, type Fields } from './conditions.js';
import type { LeadState } from './lead.js';
import type { Condition, FieldTest, Pipeline, Process, Stage } from './process-schema.js';

/**
 * Where a lead stands in its stage, in the words a person reads: the stage's place in its pipeline,
 * its goal as a checklist judged on the same facts decide() judges it on, and the fields a strict
 * stage needs before the lead may leave it. The CLI's lead page and the API's stage answer share it.
 */

/**
 * The facts a stage goal is judged on: the current stay's template tasks done (a task a person
 * added belongs to no goal), the activities logged during the stay, and every signal received.
 */
export function goalFacts(lead: LeadState): ConditionFacts {
  return {
    fields: lead.fields,
    doneTasks: new Set(
      lead.tasks.filter((t) => t.stayId === lead.stay.id && t.status === 'done' && !t.adHoc).map((t) => t.template),
    ),
    activities: lead.stay.activities,
    signals: new Set(Object.keys(lead.signals)),
  };
}

/** The required fields of `stage` the lead has not set: a strict stage holds the lead until none is left. */
export function missingRequiredFields(stage: Stage, fields: Fields): string[] {
  return stage.required_fields.filter((f) => {
    const v = fields[f];
    return v === undefined || v === null || v === '';
  });
}

export interface StagePlace {
  pipeline: Pipeline;
  stage: Stage;
  /** 0-based position of the stage in its pipeline. */
  index: number;
  /** How many stages the pipeline has. */
  count: number;
  /** The stage after this one, or null for the last. */
  next: Stage | null;
}

/** A stage of a pipeline as the process version defines it, or null when that version has no such stage. */
export function stagePlace(process: Process, pipelineId: string, stageId: string): StagePlace | null {
  const pipeline = process.pipelines.find((p) => p.id === pipelineId);
  const index = pipeline?.stages.findIndex((s) => s.id === stageId) ?? -1;
  const stage = pipeline?.stages[index];
  if (!pipeline || !stage) return null;
  return { pipeline, stage, index, count: pipeline.stages.length, next: pipeline.stages[index + 1] ?? null };
}

export type ChecklistKind = 'all' | 'any' | 'task' | 'activity' | 'signal' | 'field';

/**
 * One line of a goal checklist. Groups (`all`, `any`) are lines too, followed by their parts one
 * level deeper, so the list reads top to bottom without recursion.
 */
export interface ChecklistItem {
  kind: ChecklistKind;
  /** The condition in words: "task first-touch done", "1 call logged (0 so far)", "field value ≥ 10000". */
  text: string;
  met: boolean;
  depth: number;
  /** What the condition counts now: the activities logged, the field's value; null for the others. */
  current: FieldValue;
}

/**
 * The goal as a checklist. A goal of `all` parts (the usual shape) lists its parts at depth 0, since
 * all of them is what a goal means anyway; any other goal is one line at depth 0, groups opened below it.
 */
export function goalChecklist(goal: Condition, facts: ConditionFacts): ChecklistItem[] {
  const out: ChecklistItem[] = [];
  if ('all' in goal) for (const part of goal.all) addItems(part, facts, 0, out);
  else addItems(goal, facts, 0, out);
  return out;
}

function addItems(c: Condition, facts: ConditionFacts, depth: number, out: ChecklistItem[]): void {
  const met = evaluate(c, facts);
  if ('all' in c || 'any' in c) {
    const kind = 'all' in c ? 'all' : 'any';
    const parts = 'all' in c ? c.all : c.any;
    out.push({ kind, text: kind === 'all' ? 'all of' : 'any of', met, depth, current: null });
    for (const part of parts) addItems(part, facts, depth + 1, out);
    return;
  }
  if ('task_done' in c) {
    out.push({ kind: 'task', text: `task ${c.task_done} done`, met, depth, current: null });
    return;
  }
  if ('activity' in c) {
    const min = c.min ?? 1;
    const sofar = facts.activities?.[c.activity] ?? 0;
    const text = `${min} ${c.activity}${min === 1 ? '' : 's'} logged (${sofar} so far)`;
    out.push({ kind: 'activity', text, met, depth, current: sofar });
    return;
  }
  if ('signal' in c) {
    out.push({ kind: 'signal', text: `signal ${c.signal} received`, met, depth, current: null });
    return;
  }
  out.push({ kind: 'field', text: fieldTestText(c), met, depth, current: facts.fields[c.field] ?? null });
}

/**
 * The lines of a checklist still to do: those not met, less the parts of a group that is met (an
 * `any of` met by one part needs nothing of the others). Groups keep their parts below them.
 */
export function unmetItems(items: readonly ChecklistItem[]): ChecklistItem[] {
  const out: ChecklistItem[] = [];
  let metGroupDepth: number | null = null;
  for (const item of items) {
    if (metGroupDepth !== null && item.depth > metGroupDepth) continue;
    metGroupDepth = item.met && (item.kind === 'all' || item.kind === 'any') ? item.depth : null;
    if (!item.met) out.push(item);
  }
  return out;
}

const SYMBOLS = { eq: '=', ne: '≠', gt: '>', gte: '≥', lt: '<', lte: '≤' } as const;

function fieldTestText(t: FieldTest): string {
  if (t.set !== undefined) return `field ${t.field} ${t.set ? 'set' : 'not set'}`;
  if (t.in !== undefined) return `field ${t.field} one of ${t.in.map(String).join(', ')}`;
  for (const op of ['eq', 'ne', 'gt', 'gte', 'lt', 'lte'] as const) {
    const bound = t[op];
    if (bound !== undefined) return `field ${t.field} ${SYMBOLS[op]} ${String(bound)}`;
  }
  // The process schema refuses a field test without an operator; this only keeps the text total.
  return `field ${t.field}`;
}

/** The fields a stage requires, each with whether the lead has it, and those still missing. */
export interface RequiredFields {
  fields: { field: string; set: boolean }[];
  missing: string[];
}

export function requiredFields(stage: Stage, fields: Fields): RequiredFields {
  const missing = missingRequiredFields(stage, fields);
  return { fields: stage.required_fields.map((f) => ({ field: f, set: !missing.includes(f) })), missing };
}
