import type { Fields } from './conditions.js';

/** The state decide() needs about one lead, as the store loads it. */

export type LeadStatus = 'open' | 'won' | 'lost';
export type ExitKind = 'goal' | 'moved' | 'won' | 'lost' | 'pipeline';
export type TaskStatus = 'open' | 'done' | 'skipped';

export interface TaskState {
  id: string;
  stayId: string;
  template: string;
  title: string;
  kind: string;
  status: TaskStatus;
  /** 'owner' tasks follow the lead's owner when it changes. */
  assigneeRule: 'owner' | 'user' | 'team';
  assignee: string | null;
  dueAt: number;
  /** When the overdue alert fires if the task is still open. */
  overdueAt: number;
  createdAt: number;
  completedAt: number | null;
  skippedAt: number | null;
  skipReason: string | null;
  dueFired: boolean;
  overdueFired: boolean;
  /**
   * Set on a task a person added (task.added), not the stage's template: it is the rep's work, so
   * it stays open when the lead changes stage, and the adoption report leaves it out.
   */
  adHoc?: true;
  /** What the person who added it wrote with it. */
  note?: string | null;
}

export interface StayState {
  id: string;
  seq: number;
  pipeline: string;
  stage: string;
  stageIndex: number;
  enteredAt: number;
  stallAt: number;
  stalledAt: number | null;
  /** Activities logged during this stay, by kind. */
  activities: Record<string, number>;
  /** How the lead got here: created, goal of the previous stage, moved back, … */
  via: string;
  /** The process version the lead ran under when it entered. */
  processVersion: number;
}

export interface LeadState {
  id: string;
  processVersion: number;
  pipeline: string;
  status: LeadStatus;
  owner: string | null;
  fields: Fields;
  createdAt: number;
  closedAt: number | null;
  closeReason: string | null;
  /** The open stay, or the one the lead closed in. */
  stay: StayState;
  /** Tasks of the current stay, plus open tasks of earlier stays (a reopened task). */
  tasks: TaskState[];
  /** Named signals received so far, with the time of the first. */
  signals: Record<string, number>;
  /** Mailing lists the contact is on, as far as our automations know. */
  lists: string[];
  /** The tags each list was subscribed with, so a move to a new address keeps them. */
  listTags?: Record<string, string[]>;
  /** Number of events applied so far; the next event gets seq + 1. */
  seq: number;
  /**
   * Which series of outbox keys this lead's effects take (`outboxKey`): a lead deleted by mistake
   * keeps its delivered and cancelled messages, so a lead created again under its id must not reuse
   * their keys. Unset until the engine has looked (a new lead, an imported one, a row written
   * before series existed); decide() then takes `DecideInput.outboxSeries`.
   */
  outboxSeries?: number;
  /** Last automation error (an automation loop, say), kept until the next clean event. */
  error: string | null;
}

/** Routing figures per user at decision time; the store fills them from its counters. */
export interface UserLoad {
  open: number;
  routedToday: number;
  routedThisWeek: number;
}

export interface TeamCursor {
  last?: string;
  /** Smooth weighted round robin credit per member. */
  credit?: Record<string, number>;
}

export interface RoutingState {
  users: Record<string, UserLoad>;
  cursors: Record<string, TeamCursor>;
}

/**
 * An effect's outbox key, which is also its idempotency key for receivers (Message-ID, webhook
 * Idempotency-Key): `lead:seq:index:kind` for the first lead with an id, `lead:seq:index:kind:N`
 * for the Nth. Read from the right, its parts are fixed (a number, a number, a kind name, and a
 * number or nothing), so no lead's key can be another's, whatever characters the ids hold.
 */
export function outboxKey(lead: string, series: number, seq: number, index: number, kind: string): string {
  const key = `${lead}:${seq}:${index}:${kind}`;
  return series > 1 ? `${key}:${series}` : key;
}

/**
 * An activity's id: `lead:seq.idx` (the event that logged it and its place in that event), with
 * `.N` for the Nth lead under an id (as outboxKey), so a lead created again under a deleted one's
 * id never gives an id twice. Its last `:` ends the lead id, whatever characters that holds.
 */
export function activityId(lead: string, series: number, seq: number, index: number): string {
  const id = `${lead}:${seq}.${index}`;
  return series > 1 ? `${id}.${series}` : id;
}

/**
 * The series a lead's next effects take, given the ids of the outbox rows kept under its id (a
 * deleted lead's messages): one after the highest series among them, so no key can clash; 1 when
 * there are none. Rows of other shapes (a contact erase's `erase:…`) take no series.
 */
export function nextOutboxSeries(lead: string, keptIds: readonly string[]): number {
  let highest = 0;
  for (const id of keptIds) {
    if (!id.startsWith(`${lead}:`)) continue;
    const m = /^\d+:\d+:[a-z.]+(?::(\d+))?$/.exec(id.slice(lead.length + 1));
    if (m) highest = Math.max(highest, m[1] === undefined ? 1 : Number(m[1]));
  }
  return highest + 1;
}
