/** Refusals decide() can return. Stable codes; the HTTP layer maps them to problem types. */
export type DomainErrorCode =
  | 'lead_exists'
  | 'unknown_lead'
  | 'no_pipeline'
  | 'no_process'
  | 'unknown_pipeline'
  | 'unknown_stage'
  | 'already_in_stage'
  | 'unknown_task'
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

export interface DomainError {
  code: DomainErrorCode;
  message: string;
}

export function domainError(code: DomainErrorCode, message: string): DomainError {
  return { code, message };
}
