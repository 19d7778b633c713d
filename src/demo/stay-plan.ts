import { evaluate, type ConditionFacts, type Fields } from '../domain/conditions.js';
import type { Actor, LeadEvent } from '../domain/events.js';
import type { LeadState, TaskState } from '../domain/lead.js';
import type { Stage } from '../domain/process-schema.js';
import { goalActivities, recipe, type Action, type FieldValueSource } from './goal-recipe.js';
import type { RepProfile } from './organisation.js';
import type { Random } from './random.js';
import { nextAtWork, type WorkPattern } from './worktime.js';

/**
 * One stage stay, planned when the lead enters it: which tasks the people do and when (on time
 * or late, by their profile and the task's real due time), the activities they log, the fields
 * they fill in, the signals the product sends, and how the stay ends (goal met, moved, won, lost
 * or left alone). Pure: the lead's state as the engine left it, the people and a random stream.
 */

export interface PlannedEvent {
  at: number;
  event: LeadEvent;
  /** The stay the event belongs to: dropped unheard if the lead has left that stay meanwhile. */
  stay: string | null;
  /**
   * Set on an event that makes the lead enter a stage: how long after it the new stay's first
   * timer can fall due at the earliest. Null for events that enter no stage.
   */
  timerGap: number | null;
}

export type StayOutcome =
  | { kind: 'goal' }
  | { kind: 'won'; reason: string }
  | { kind: 'move'; stage: string; reason: string }
  | { kind: 'pipeline'; pipeline: string; stage: string; reason: string }
  | { kind: 'lost'; reason: string }
  /**
   * Nobody moves the lead on. `worked`: the rep does the tasks but what the goal waits for from
   * the buyer never comes (a neglected lead once the tasks are done); else nothing is done at all.
   */
  | { kind: 'abandon'; lostAfterDays: number | null; worked: boolean };

export interface People {
  profile(id: string | null): Omit<RepProfile, 'id' | 'team' | 'tier'>;
  pattern(id: string | null): WorkPattern;
}

/** Fields a person sets at a time. */
export interface FieldUpdate {
  at: number;
  fields: Fields;
}

export interface StayPlanInput {
  stage: Stage;
  /** `pipeline/stage`, to match a rep's weak stage. */
  stageKey: string;
  lead: LeadState;
  outcome: StayOutcome;
  /** How slowly this deal moves: enterprise deals take longer. */
  pace: number;
  r: Random;
  people: People;
  hint: FieldValueSource;
  /** Fields the owner updates along the way (close date, forecast category), at a share of the stay. */
  updates: readonly { share: number; fields: Fields }[];
  /** The next stage of the pipeline, or null in the last one (meeting its goal wins the lead). */
  nextStage: string | null;
  /** See PlannedEvent.timerGap. */
  gap(pipeline: string, stage: string): number;
  /**
   * The close dates the owner writes once the deal has firmed up, given when the stay is planned
   * to end (won, lost, moved on or its goal met): when and what, earliest first; none leaves the date alone.
   */
  firmClose?: (stayEnd: number) => readonly FieldUpdate[];
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

const NOTES: Record<string, readonly string[]> = {
  call: [
    'Left a voicemail',
    'Connected: walked through their questions',
    'Quick check-in call',
    'Call with the champion',
  ],
  email: ['Sent the recap', 'Shared the case study', 'Answered a pricing question', 'Followed up by email'],
  meeting: ['Working session with their team', 'Met the IT lead', 'Stakeholder meeting', 'On-site visit'],
};

interface Item {
  at: number;
  actions: Action[];
  event: LeadEvent;
}

/** What the goal can see, as it will be after each planned event. */
interface Facts extends ConditionFacts {
  fields: Fields;
  doneTasks: Set<string>;
  activities: Record<string, number>;
  signals: Set<string>;
}

function factsOf(lead: LeadState): Facts {
  return {
    fields: { ...lead.fields },
    doneTasks: new Set(),
    activities: { ...lead.stay.activities },
    signals: new Set(Object.keys(lead.signals)),
  };
}

function apply(facts: Facts, a: Action): void {
  if (a.kind === 'task') facts.doneTasks.add(a.template);
  else if (a.kind === 'activity') facts.activities[a.activity] = (facts.activities[a.activity] ?? 0) + 1;
  else if (a.kind === 'signal') facts.signals.add(a.name);
  else facts.fields[a.field] = a.value;
}

function copyFacts(f: Facts): Facts {
  return {
    fields: { ...f.fields },
    doneTasks: new Set(f.doneTasks),
    activities: { ...f.activities },
    signals: new Set(f.signals),
  };
}

/** Whether the engine would let the lead leave by its goal: goal met, and a strict stage's fields set. */
function goalMet(stage: Stage, f: Facts): boolean {
  if (!stage.goal || !evaluate(stage.goal, f)) return false;
  return !stage.strict || stage.required_fields.every((k) => f.fields[k] !== undefined && f.fields[k] !== null);
}

export function planStay(i: StayPlanInput): PlannedEvent[] {
  const { lead, stage, r, people, outcome } = i;
  const E = lead.stay.enteredAt;
  const owner = lead.owner;
  const ownerPattern = people.pattern(owner);
  const ownerProfile = people.profile(owner);
  const weak = ownerProfile.weakStage === i.stageKey;
  const rep: Actor = { kind: 'user', ...(owner ? { id: owner } : {}) };
  const atWork = (t: number): number => nextAtWork(ownerPattern, t) + Math.floor(r.between(0, 40)) * MINUTE;
  const tasks = lead.tasks.filter((t) => t.stayId === lead.stay.id && t.status === 'open');
  const items: Item[] = [];
  const facts = factsOf(lead);

  const taskTime = (t: TaskState): number => {
    const doer = t.assignee ?? owner;
    const p = people.profile(doer);
    const here = p.weakStage === i.stageKey;
    const pattern = people.pattern(doer);
    if (r.chance(p.onTime * (here ? 0.5 : 1))) {
      // People work towards the deadline: most on-time work lands in the second half of the window.
      const target = E + (t.dueAt - E) * (0.3 + 0.65 * Math.sqrt(r.next()));
      return Math.max(E + MINUTE, nextAtWork(pattern, target) + Math.floor(r.between(0, 30)) * MINUTE);
    }
    const late = t.dueAt + r.exponential(i.pace * (here ? 2.5 : 1) * 16 * HOUR) + 15 * MINUTE;
    return nextAtWork(pattern, late) + Math.floor(r.between(0, 45)) * MINUTE;
  };
  const taskEvent = (t: TaskState): LeadEvent => ({
    type: 'task.completed',
    lead: lead.id,
    task: t.template,
    actor: { kind: 'user', ...((t.assignee ?? owner) ? { id: t.assignee ?? owner ?? '' } : {}) },
  });

  // What the goal needs, and the tasks it does not need that diligent people do anyway.
  const idle = outcome.kind === 'abandon' && !outcome.worked;
  const stuck = outcome.kind === 'abandon' && outcome.worked;
  const needed = idle || !stage.goal ? [] : recipe(stage.goal, facts, r, i.hint);
  const neededTasks = new Set(needed.flatMap((a) => (a.kind === 'task' ? [a.template] : [])));
  let taskEnd = E;
  for (const t of tasks) {
    const inGoal = neededTasks.has(t.template);
    if (idle || (!inGoal && !stuck && !r.chance(ownerProfile.diligence * (weak ? 0.7 : 1)))) continue;
    const at = taskTime(t);
    if (inGoal) taskEnd = Math.max(taskEnd, at);
    items.push({ at, actions: [{ kind: 'task', template: t.template }], event: taskEvent(t) });
  }
  if (taskEnd === E) taskEnd = atWork(E + i.pace * r.between(0.5, 3) * DAY);
  const span = taskEnd - E;

  const answers: Action[] = [];
  for (const a of stuck ? [] : needed) {
    if (a.kind === 'task') continue;
    if (a.kind === 'signal') {
      // The product sends it whenever the customer does the thing, day or night.
      const at = E + Math.max(MINUTE, span * r.between(0.3, 1.2));
      const event: LeadEvent = {
        type: 'signal.received',
        lead: lead.id,
        name: a.name,
        actor: { kind: 'api', id: 'product' },
      };
      items.push({ at, actions: [a], event });
    } else if (a.kind === 'activity') {
      const at = atWork(E + span * r.between(0.2, 1));
      items.push({ at, actions: [a], event: activity(lead.id, a.activity, r, rep) });
    } else answers.push(a);
  }
  if (answers.length > 0) {
    // The buyer answers, then the rep writes it all down in one go.
    const at = atWork(taskEnd + r.exponential(i.pace * DAY));
    const fields = Object.fromEntries(answers.flatMap((a) => (a.kind === 'field' ? [[a.field, a.value]] : [])));
    items.push({ at, actions: answers, event: update(lead.id, fields, rep) });
  }
  if (outcome.kind === 'goal' && stage.strict) {
    for (const field of stage.required_fields) {
      if (facts.fields[field] !== undefined && facts.fields[field] !== null) continue;
      const value = i.hint(field) ?? 'yes';
      const at = atWork(E + span * r.between(0.1, 0.5));
      items.push({ at, actions: [{ kind: 'field', field, value }], event: update(lead.id, { [field]: value }, rep) });
    }
  }
  for (const u of i.updates) {
    const at = atWork(E + span * u.share);
    const actions = Object.entries(u.fields).map(([field, value]): Action => ({ kind: 'field', field, value }));
    items.push({ at, actions, event: update(lead.id, u.fields, rep) });
  }
  if (!idle) {
    const excluded = goalActivities(stage.goal);
    const kinds = ['call', 'email', 'meeting'].filter((k) => !excluded.has(k));
    const count = poisson(r, ownerProfile.activity * (weak ? 0.7 : 1));
    for (let k = 0; k < count && kinds.length > 0; k++) {
      const kind = r.pick(kinds);
      const at = atWork(E + (span + DAY) * r.next());
      items.push({ at, actions: [{ kind: 'activity', activity: kind }], event: activity(lead.id, kind, r, rep) });
    }
  }

  const end = terminal(i, E, Math.max(span, DAY), atWork, rep);
  items.sort((a, b) => a.at - b.at);
  const plain = settle(i, items, facts, end);
  const endAt = plain.endAt;
  const firm = endAt === null ? [] : (i.firmClose?.(endAt) ?? []).filter((u) => u.at < endAt);
  return firm.length === 0 ? plain.out : withFirmClose(i, items, facts, end, plain, firm);
}

interface Settled {
  out: PlannedEvent[];
  /** When the stay is planned to end: its terminal event, or the event that meets its goal; null if it does not. */
  endAt: number | null;
}

/** The planned items in time order, up to the event that ends the stay; items that would meet the goal too early are left out. */
function settle(
  i: StayPlanInput,
  items: readonly Item[],
  start: Facts,
  end: { at: number; event: LeadEvent; timerGap: number | null } | null,
): Settled {
  const { lead, stage, outcome } = i;
  const facts = copyFacts(start);
  const out: PlannedEvent[] = [];
  const stay = lead.stay.id;
  let endAt = end?.at ?? null;
  for (const item of items) {
    if (end && item.at >= end.at) break;
    const next = copyFacts(facts);
    for (const a of item.actions) apply(next, a);
    const meets = goalMet(stage, next);
    // Only the planned ending may take the lead out of the stage; a lead about to be lost does not meet its goal.
    if (meets && outcome.kind !== 'goal') continue;
    for (const a of item.actions) apply(facts, a);
    const timerGap = meets && i.nextStage !== null ? i.gap(lead.pipeline, i.nextStage) : null;
    out.push({ at: item.at, event: item.event, stay, timerGap });
    if (meets) {
      endAt = item.at;
      break;
    }
  }
  if (end) out.push({ ...end, stay });
  return { out, endAt };
}

/**
 * The plan with the owner's firm close date in it. If the update would change how the stay ends
 * (a strict stage's last missing field filled early), the date goes into the update that fills
 * that field instead, at its planned time; if there is none, the date is left as it was.
 */
function withFirmClose(
  i: StayPlanInput,
  items: readonly Item[],
  start: Facts,
  end: { at: number; event: LeadEvent; timerGap: number | null } | null,
  plain: Settled,
  firm: readonly FieldUpdate[],
): PlannedEvent[] {
  const owner = i.lead.owner;
  const added: Item[] = firm.map((u) => ({
    at: u.at,
    actions: Object.entries(u.fields).map(([field, value]): Action => ({ kind: 'field', field, value })),
    event: update(i.lead.id, u.fields, { kind: 'user', ...(owner ? { id: owner } : {}) }),
  }));
  const settled = settle(
    i,
    [...items, ...added].sort((a, b) => a.at - b.at),
    start,
    end,
  );
  const kept = new Set(settled.out.map((p) => p.event));
  if (settled.endAt === plain.endAt && added.every((x) => kept.has(x.event))) return settled.out;
  const first = firm[0];
  if (!first) return plain.out;
  const keys = Object.keys(first.fields);
  const sets = (e: LeadEvent): boolean => e.type === 'lead.updated' && keys.some((k) => k in e.fields);
  const filler = plain.out.findIndex((p) => sets(p.event));
  const found = plain.out[filler];
  if (!found || found.event.type !== 'lead.updated') return plain.out;
  const merged: LeadEvent = { ...found.event, fields: { ...found.event.fields, ...first.fields } };
  return plain.out.map((p, k) => (k === filler ? { ...p, event: merged } : p));
}

/** The event that ends the stay other than by its goal, and when. */
function terminal(
  i: StayPlanInput,
  E: number,
  span: number,
  atWork: (t: number) => number,
  actor: Actor,
): { at: number; event: LeadEvent; timerGap: number | null } | null {
  const { outcome, r, lead } = i;
  const when = (lo: number, hi: number): number => Math.max(E + HOUR, atWork(E + i.pace * span * r.between(lo, hi)));
  switch (outcome.kind) {
    case 'goal':
      return null;
    case 'abandon':
      if (outcome.lostAfterDays === null) return null;
      return {
        at: atWork(E + outcome.lostAfterDays * DAY),
        event: { type: 'lead.lost', lead: lead.id, reason: 'no response', actor },
        timerGap: null,
      };
    case 'lost':
      return {
        at: when(0.5, 2),
        event: { type: 'lead.lost', lead: lead.id, reason: outcome.reason, actor },
        timerGap: null,
      };
    case 'won':
      return {
        at: when(0.4, 1.1),
        event: { type: 'lead.won', lead: lead.id, reason: outcome.reason, actor },
        timerGap: null,
      };
    case 'move':
      return {
        at: when(0.3, 1),
        event: {
          type: 'lead.moved',
          lead: lead.id,
          stage: outcome.stage,
          override: false,
          reason: outcome.reason,
          actor,
        },
        timerGap: i.gap(lead.pipeline, outcome.stage),
      };
    case 'pipeline':
      return {
        at: when(0.2, 0.8),
        timerGap: i.gap(outcome.pipeline, outcome.stage),
        event: {
          type: 'lead.moved',
          lead: lead.id,
          stage: outcome.stage,
          pipeline: outcome.pipeline,
          override: false,
          reason: outcome.reason,
          actor,
        },
      };
  }
}

function activity(lead: string, kind: string, r: Random, actor: Actor): LeadEvent {
  return { type: 'activity.logged', lead, kind, note: r.pick(NOTES[kind] ?? ['Logged']), actor };
}

function update(lead: string, fields: Fields, actor: Actor): LeadEvent {
  return { type: 'lead.updated', lead, fields, actor };
}

/** Knuth's method; the means here are small. */
function poisson(r: Random, mean: number): number {
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = r.next(); p > limit; p *= r.next()) k++;
  return k;
}
