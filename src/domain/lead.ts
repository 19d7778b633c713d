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
  /** Number of events applied so far; the next event gets seq + 1. */
  seq: number;
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
