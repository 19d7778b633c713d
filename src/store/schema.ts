/**
 * Table types for Kysely. Times are epoch milliseconds (BIGINT), money is integer minor units,
 * flexible data is JSON text: the same columns on SQLite and PostgreSQL.
 */

import type { ColumnType } from 'kysely';

/** A nullable column that an insert or update may leave out. */
type Optional<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface ProcessVersionsTable {
  version: number;
  name: string;
  source: string;
  definition: string;
  checksum: string;
  applied_at: number;
  applied_by: string | null;
}

export interface LeadsTable {
  id: string;
  process_version: number;
  pipeline: string;
  stage: string;
  stage_index: number;
  stay_id: string;
  stage_entered_at: number;
  status: string;
  owner: string | null;
  name: string | null;
  email: string | null;
  /** The contact's company and phone, copied from the fields like name and email. */
  company: string | null;
  phone: string | null;
  /** The keys it is found by, folded in JavaScript by its writers (store/lead-keys.ts, migration 0029). */
  email_key: string | null;
  company_key: string | null;
  search_key: string;
  value_minor: number | null;
  source: string | null;
  product: string | null;
  territory: string | null;
  expected_close: number | null;
  created_at: number;
  closed_at: number | null;
  close_reason: string | null;
  fields: string;
  /** Engine bookkeeping: signals, lists, stay activity counts. */
  state: string;
  seq: number;
  version: number;
  error: string | null;
  updated_at: number;
  /** The furthest stage index among its stays in its current pipeline (see lead-reach.ts). */
  furthest_index: number | null;
  /** 1 when the lead has stays in another pipeline too: then read its stays, not furthest_index. */
  other_pipelines: number;
}

/**
 * Lead columns the engine's row leaves out (its upsert then leaves them as they are): for imported
 * leads, the export and its record id, and when the lead was first imported.
 */
export interface LeadImportColumns {
  import_source: Optional<string>;
  source_id: Optional<string>;
  imported_at: Optional<number>;
}

export interface StageStaysTable {
  id: string;
  lead_id: string;
  seq: number;
  pipeline: string;
  stage: string;
  stage_index: number;
  process_version: number;
  entered_at: number;
  exited_at: number | null;
  exit_kind: string | null;
  entered_via: string;
  stall_at: number | null;
  stalled_at: number | null;
  imported: number;
}

export interface TasksTable {
  id: string;
  lead_id: string;
  stay_id: string;
  template: string;
  title: string;
  kind: string;
  status: string;
  assignee_rule: string;
  assignee: string | null;
  due_at: number;
  overdue_at: number;
  created_at: number;
  completed_at: number | null;
  skipped_at: number | null;
  skip_reason: string | null;
  due_fired: number;
  overdue_fired: number;
  /** 1 for a task a person added, 0 for the process's (migration 0025). */
  ad_hoc: number;
  note: string | null;
}

export interface ActivitiesTable {
  /** `lead:seq.idx` (domain/lead.ts activityId), unique (migration 0028). */
  id: string;
  lead_id: string;
  seq: number;
  idx: number;
  stay_id: string;
  kind: string;
  note: string | null;
  /** When it happened: the time it was logged, or the earlier `occurredAt` given. */
  at: number;
  actor: string | null;
}

export interface OwnerHistoryTable {
  lead_id: string;
  seq: number;
  idx: number;
  from_owner: string | null;
  to_owner: string;
  reason: string;
  rule: string | null;
  at: number;
}

export interface FieldHistoryTable {
  lead_id: string;
  seq: number;
  idx: number;
  field: string;
  old_value: string | null;
  new_value: string | null;
  at: number;
}

export interface EventsTable {
  lead_id: string;
  seq: number;
  type: string;
  at: number;
  actor: string;
  payload: string;
  process_version: number;
}

export interface RunLogTable {
  lead_id: string;
  seq: number;
  idx: number;
  at: number;
  kind: string;
  rule: string | null;
  message: string;
  inputs: string | null;
}

export interface OutboxTable {
  id: string;
  lead_id: string;
  kind: string;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  last_error: string | null;
  /** When a worker last tried to deliver the row (null until the first try). */
  last_attempt_at: number | null;
  /** What the far side said when it took the row (message id, list outcome, HTTP status). */
  detail: string | null;
}

export interface RoutingLoadTable {
  user_id: string;
  open_leads: number;
}

export interface RoutingCountsTable {
  user_id: string;
  period: string;
  routed: number;
}

export interface RoutingCursorsTable {
  scope: string;
  state: string;
}

export interface AccountsTable {
  id: string;
  name: string;
  /** The name folded as a lead's company_key (domain/text-key.ts nameKey), kept by upsertAccounts. */
  name_key: string;
  sector: string | null;
  year_established: number | null;
  revenue_minor: number | null;
  employees: number | null;
  location: string | null;
  parent: string | null;
  import_source: string | null;
  updated_at: number;
}

export interface ProductsTable {
  name: string;
  series: string | null;
  list_price_minor: number | null;
  import_source: string | null;
  updated_at: number;
}

export interface ImportRunsTable {
  id: string;
  format: string;
  source: string;
  path: string;
  checksum: string;
  status: string;
  options: string;
  started_at: number;
  finished_at: number | null;
  rows_read: number;
  rows_written: number;
  rows_skipped: number;
  checkpoint_line: number;
  summary: string | null;
}

export interface ImportSeenTable {
  source_id: string;
  line: number;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  /** JSON; never a secret. */
  details: string;
}

export interface SuppressionsTable {
  email_hash: string;
  at: number;
  reason: string;
}

/** Addresses that opted out of marketing mail, as keyed contact hashes (migration 0026, store/opt-outs.ts). */
export interface OptOutsTable {
  email_hash: string;
  at: number;
  /** Who asked: 'unsubscribe link', 'mailchimp', 'user katrin', … */
  source: string;
}

/** A person's availability overrides over the process file (migration 0027, store/availability.ts). */
export interface UserAvailabilityTable {
  user_id: string;
  /** JSON: any of active, out_of_office, capacity, working_hours, as in the process file. */
  overrides: string;
  changed_at: number;
  changed_by: string | null;
}

/** One row (id 1): a count of availability changes, read by caches of the effective process. */
export interface AvailabilityChangesTable {
  id: number;
  revision: number;
}

/** Secrets made once per installation (migration 0020); never exported or shown. */
export interface InstallationSecretsTable {
  name: string;
  value: string;
  created_at: number;
}

export interface QuotasTable {
  scope: string;
  subject: string;
  period: string;
  amount_minor: number;
  set_by: string | null;
  set_at: number;
}

export interface ForecastSnapshotsTable {
  snapshot_id: string;
  period: string;
  period_from: number;
  period_to: number;
  pipeline: string;
  taken_at: number;
  kind: string;
  owner: string;
  won_minor: number;
  weighted_minor: number;
  forecast_minor: number;
  open_leads: number;
  without_close_date: number;
  by_category: string;
  /** Null in snapshots taken before the figure was recorded. */
  past_close_date: number | null;
  past_close_value_minor: number | null;
}

export interface MembersTable {
  id: string;
  email: string;
  name: string;
  role: string;
  password_hash: string | null;
  can_edit_process: number;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
  version: number;
}

export interface SessionsTable {
  token_hash: string;
  member_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}

export interface ApiTokensTable {
  id: string;
  member_id: string;
  name: string;
  token_hash: string;
  /** JSON array of scope names. */
  scopes: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface LoginFailuresTable {
  id: string | null;
  email: string;
  at: number;
}

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  state: string;
  status_code: number | null;
  headers: string | null;
  body: string | null;
  created_at: number;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface Database {
  members: MembersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  login_failures: LoginFailuresTable;
  idempotency_keys: IdempotencyKeysTable;
  setup_tokens: SetupTokensTable;
  quotas: QuotasTable;
  forecast_snapshots: ForecastSnapshotsTable;
  accounts: AccountsTable;
  products: ProductsTable;
  import_runs: ImportRunsTable;
  import_seen: ImportSeenTable;
  audit_log: AuditLogTable;
  suppressions: SuppressionsTable;
  opt_outs: OptOutsTable;
  user_availability: UserAvailabilityTable;
  availability_changes: AvailabilityChangesTable;
  installation_secrets: InstallationSecretsTable;
  process_versions: ProcessVersionsTable;
  leads: LeadsTable & LeadImportColumns;
  stage_stays: StageStaysTable;
  tasks: TasksTable;
  activities: ActivitiesTable;
  owner_history: OwnerHistoryTable;
  field_history: FieldHistoryTable;
  events: EventsTable;
  run_log: RunLogTable;
  outbox: OutboxTable;
  routing_load: RoutingLoadTable;
  routing_counts: RoutingCountsTable;
  routing_cursors: RoutingCursorsTable;
}
