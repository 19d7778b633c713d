import type { ChecklistItem } from './stage-checklist.js';

/** Refusals decide() can return. Stable codes; the HTTP layer maps them to problem types. */
export type DomainErrorCode =
  | 'lead_exists'
  | 'unknown_lead'
  | 'no_pipeline'
  | 'no_process'
  | 'unknown_pipeline'
  | 'unknown_stage'
  | 'already_in_stage'
  /** A reassignment to the owner the lead already has. */
  | 'already_owner'
  | 'unknown_task'
  | 'unknown_activity'
  | 'unknown_user'
  | 'inactive_user'
  /** A task handed on without a name, and neither its team nor the lead's owner can take it. */
  | 'no_assignee'
  | 'task_not_open'
  /** An edit or cancel of a task the process made: only a task a person added takes those. */
  | 'not_ad_hoc'
  | 'task_not_closed'
  | 'lead_closed'
  | 'lead_open'
  | 'gate_refused'
  | 'override_forbidden'
  | 'invalid_field'
  | 'not_imported'
  /** Not a rule's refusal: the caller's If-Match named an older version of the lead. */
  | 'stale_version';

/**
 * What a strict stage still asks for before a lead may pass it, as a form or checklist shows it:
 * the HTTP answer and the CLI's JSON carry it so no client parses the message.
 */
export interface GateBlock {
  pipeline: string;
  /** The strict stage that holds the lead. */
  stage: string;
  /** True when the move would skip the stage: the lead must go through it, whatever it holds. */
  skipped: boolean;
  /** Its required fields the lead has not set (none when skipped). */
  missingFields: string[];
  /** Its goal's checklist lines not met, groups followed by their parts (none when skipped). */
  unmetGoal: ChecklistItem[];
}

export interface DomainError {
  code: DomainErrorCode;
  message: string;
  /** The event's input the refusal is about (`stage`, `pipeline`, `owner`, `assignee`), when it is one. */
  field?: string;
  /** A `gate_refused`: what the strict stage still asks for. */
  gate?: GateBlock;
}

export function domainError(
  code: DomainErrorCode,
  message: string,
  about: Pick<DomainError, 'field' | 'gate'> = {},
): DomainError {
  return { code, message, ...about };
}
