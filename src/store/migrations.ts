import { randomBytes } from 'node:crypto';
import {
  PostgresAdapter,
  sql,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type QueryExecutorProvider,
} from 'kysely';
import { closeDateField } from '../domain/close-date.js';
import type { Process } from '../domain/process-schema.js';
import { nameKey } from '../domain/text-key.js';
import { CONTACT_HASH_KEY } from './contact-keys.js';
import { leadKeys } from './lead-keys.js';
import { keyedHash, legacyEmailHash, pseudonymOf } from './personal-data.js';

/** One migration list for SQLite and PostgreSQL: portable types only (text, integer, bigint). */

type Any = Kysely<unknown>;

const initial: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('process_versions')
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('definition', 'text', (c) => c.notNull())
      .addColumn('checksum', 'text', (c) => c.notNull())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .addColumn('applied_by', 'text')
      .execute();

    await db.schema
      .createTable('leads')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('process_version', 'integer', (c) => c.notNull().references('process_versions.version'))
      .addColumn('pipeline', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('stage_index', 'integer', (c) => c.notNull())
      .addColumn('stay_id', 'text', (c) => c.notNull())
      .addColumn('stage_entered_at', 'bigint', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('owner', 'text')
      .addColumn('name', 'text')
      .addColumn('email', 'text')
      .addColumn('value_minor', 'bigint')
      .addColumn('source', 'text')
      .addColumn('product', 'text')
      .addColumn('territory', 'text')
      .addColumn('expected_close', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('closed_at', 'bigint')
      .addColumn('close_reason', 'text')
      .addColumn('fields', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('leads_owner_status').on('leads').columns(['owner', 'status']).execute();
    await db.schema.createIndex('leads_pipeline_stage').on('leads').columns(['pipeline', 'stage', 'status']).execute();

    await db.schema
      .createTable('stage_stays')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('pipeline', 'text', (c) => c.notNull())
      .addColumn('stage', 'text', (c) => c.notNull())
      .addColumn('stage_index', 'integer', (c) => c.notNull())
      .addColumn('process_version', 'integer', (c) => c.notNull())
      .addColumn('entered_at', 'bigint', (c) => c.notNull())
      .addColumn('exited_at', 'bigint')
      .addColumn('exit_kind', 'text')
      .addColumn('entered_via', 'text', (c) => c.notNull())
      .addColumn('stall_at', 'bigint')
      .addColumn('stalled_at', 'bigint')
      .addColumn('imported', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('stage_stays_lead').on('stage_stays').columns(['lead_id', 'seq']).execute();
    await sql`create index stage_stays_stall on stage_stays (stall_at) where exited_at is null and stalled_at is null`.execute(
      db,
    );

    await db.schema
      .createTable('tasks')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id'))
      .addColumn('stay_id', 'text', (c) => c.notNull().references('stage_stays.id'))
      .addColumn('template', 'text', (c) => c.notNull())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('assignee_rule', 'text', (c) => c.notNull())
      .addColumn('assignee', 'text')
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('overdue_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('completed_at', 'bigint')
      .addColumn('skipped_at', 'bigint')
      .addColumn('skip_reason', 'text')
      .addColumn('due_fired', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('overdue_fired', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('tasks_lead').on('tasks').columns(['lead_id', 'status']).execute();
    await db.schema.createIndex('tasks_assignee').on('tasks').columns(['assignee', 'status', 'due_at']).execute();
    await sql`create index tasks_due_timer on tasks (due_at) where status = 'open' and due_fired = 0`.execute(db);
    await sql`create index tasks_overdue_timer on tasks (overdue_at) where status = 'open' and overdue_fired = 0`.execute(
      db,
    );

    await db.schema
      .createTable('events')
      .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('process_version', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('events_pk', ['lead_id', 'seq'])
      .execute();

    for (const table of ['run_log', 'activities', 'owner_history', 'field_history'] as const) {
      let t = db.schema
        .createTable(table)
        .addColumn('lead_id', 'text', (c) => c.notNull().references('leads.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull());
      if (table === 'run_log')
        t = t
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('rule', 'text')
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('inputs', 'text');
      if (table === 'activities')
        t = t
          .addColumn('stay_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('actor', 'text');
      if (table === 'owner_history')
        t = t
          .addColumn('from_owner', 'text')
          .addColumn('to_owner', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('rule', 'text');
      if (table === 'field_history')
        t = t
          .addColumn('field', 'text', (c) => c.notNull())
          .addColumn('old_value', 'text')
          .addColumn('new_value', 'text');
      await t.addPrimaryKeyConstraint(`${table}_pk`, ['lead_id', 'seq', 'idx']).execute();
    }

    await db.schema
      .createTable('outbox')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('lead_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('outbox_pending').on('outbox').columns(['status', 'next_attempt_at']).execute();

    await db.schema
      .createTable('routing_load')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('open_leads', 'integer', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('routing_counts')
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('routed', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('routing_counts_pk', ['user_id', 'period'])
      .execute();
    await db.schema
      .createTable('routing_cursors')
      .addColumn('scope', 'text', (c) => c.primaryKey())
      .addColumn('state', 'text', (c) => c.notNull())
      .execute();
  },
};

/** Data in and out: imported leads keyed by their source record, accounts, import runs, audit, suppressions. */
const dataInAndOut: Migration = {
  async up(db: Any) {
    for (const col of ['company', 'phone', 'import_source', 'source_id'])
      await db.schema.alterTable('leads').addColumn(col, 'text').execute();
    // Re-importing a file updates the leads it created: the source's record id is the key.
    await db.schema
      .createIndex('leads_source_record')
      .on('leads')
      .columns(['import_source', 'source_id'])
      .unique()
      .execute();

    await db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('sector', 'text')
      .addColumn('year_established', 'integer')
      .addColumn('revenue_minor', 'bigint')
      .addColumn('employees', 'integer')
      .addColumn('location', 'text')
      .addColumn('parent', 'text')
      .addColumn('import_source', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('products')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('series', 'text')
      .addColumn('list_price_minor', 'bigint')
      .addColumn('import_source', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('import_runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('checksum', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('options', 'text', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint')
      .addColumn('rows_read', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rows_written', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('rows_skipped', 'integer', (c) => c.notNull().defaultTo(0))
      // The last data line committed: a resumed run skips up to here.
      .addColumn('checkpoint_line', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('summary', 'text')
      .execute();

    // Scratch space for a validation pass (duplicate record ids), written in a rolled-back transaction.
    await db.schema
      .createTable('import_seen')
      .addColumn('source_id', 'text', (c) => c.notNull())
      .addColumn('line', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('import_seen_id').on('import_seen').columns(['source_id']).execute();

    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('target', 'text')
      .addColumn('details', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at']).execute();

    // Erased contacts: automation never writes to a hashed address again.
    await db.schema
      .createTable('suppressions')
      .addColumn('email_hash', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
  },
};

/** Measuring: quotas per rep or team and period, and immutable forecast snapshots. */
const forecasting: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('quotas')
      // 'user' or 'team', and its id
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('subject', 'text', (c) => c.notNull())
      // A period key: 2026-11 (month), 2026-Q4 (quarter), 2026 (year)
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('amount_minor', 'bigint', (c) => c.notNull())
      .addColumn('set_by', 'text')
      .addColumn('set_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('quotas_pk', ['scope', 'subject', 'period'])
      .execute();

    // One row per snapshot and owner (owner '' is the organisation's total); never updated.
    await db.schema
      .createTable('forecast_snapshots')
      .addColumn('snapshot_id', 'text', (c) => c.notNull())
      .addColumn('period', 'text', (c) => c.notNull())
      .addColumn('period_from', 'bigint', (c) => c.notNull())
      .addColumn('period_to', 'bigint', (c) => c.notNull())
      .addColumn('pipeline', 'text', (c) => c.notNull())
      .addColumn('taken_at', 'bigint', (c) => c.notNull())
      // 'period_start' (by the scheduler) or 'on_demand'
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('won_minor', 'bigint', (c) => c.notNull())
      .addColumn('weighted_minor', 'bigint', (c) => c.notNull())
      .addColumn('forecast_minor', 'bigint', (c) => c.notNull())
      .addColumn('open_leads', 'integer', (c) => c.notNull())
      .addColumn('without_close_date', 'integer', (c) => c.notNull())
      // Forecast by category (pipeline, best_case, commit) as JSON
      .addColumn('by_category', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('forecast_snapshots_pk', ['snapshot_id', 'owner'])
      .execute();
    await db.schema
      .createIndex('forecast_snapshots_period')
      .on('forecast_snapshots')
      .columns(['period', 'kind', 'taken_at'])
      .execute();
  },
};

/** Reports read stays, tasks and activities by time, and erasure finds a contact by address. */
const reportIndexes: Migration = {
  async up(db: Any) {
    await db.schema.createIndex('stage_stays_exited').on('stage_stays').columns(['exited_at']).execute();
    await db.schema.createIndex('stage_stays_entered').on('stage_stays').columns(['entered_at']).execute();
    await db.schema.createIndex('tasks_due').on('tasks').columns(['due_at']).execute();
    await db.schema.createIndex('activities_at').on('activities').columns(['at']).execute();
    await sql`create index leads_contact_email on leads (lower(trim(email)))`.execute(db);
  },
};

/**
 * The server: people who sign in (with a role and, for reps and managers, the process user id they
 * act as), their sessions and API tokens (only hashes are stored), failed logins for throttling,
 * idempotency keys, and one-time setup tokens.
 */
const server: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('members')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('password_hash', 'text')
      .addColumn('can_edit_process', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
      .execute();
    await db.schema
      .createTable('sessions')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
      .addColumn('csrf_token', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_member').on('sessions').columns(['member_id']).execute();
    await db.schema
      .createTable('api_tokens')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('member_id', 'text', (c) => c.notNull().references('members.id'))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scopes', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .addColumn('last_used_at', 'bigint')
      .execute();
    await db.schema
      .createTable('login_failures')
      .addColumn('email', 'text', (c) => c.notNull())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('login_failures_email').on('login_failures').columns(['email', 'at']).execute();
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('request_hash', 'text', (c) => c.notNull())
      // 'running' while the first request is in flight, then 'done'
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('status_code', 'integer')
      .addColumn('headers', 'text')
      .addColumn('body', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['scope', 'key'])
      .execute();
    await db.schema.createIndex('idempotency_keys_created').on('idempotency_keys').columns(['created_at']).execute();
    await db.schema
      .createTable('setup_tokens')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('used_at', 'bigint')
      .execute();
    await db.schema.createIndex('leads_owner').on('leads').columns(['owner', 'created_at']).execute();
  },
};

/** Each login attempt gets an id, so an attempt recorded before its password check can be taken back. */
const loginAttemptIds: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('login_failures').addColumn('id', 'text').execute();
  },
};

/**
 * Reports at a million leads: covering indexes for the lookups the report queries make per lead
 * (its stays by pipeline and stage index, for the furthest stage, the first entry beyond a stage
 * and the last entry into the ask stage), closed leads by status and close time, and tasks by
 * completion time. See bench/README.md (`bench/reports.ts`).
 */
const reportSpeed: Migration = {
  async up(db: Any) {
    await db.schema
      .createIndex('stage_stays_lead_stage')
      .on('stage_stays')
      .columns(['lead_id', 'pipeline', 'stage_index', 'entered_at', 'stage'])
      .execute();
    // Stays entered or left in a period, with what the reports group them by: the single-column
    // indexes of 0004 are prefixes of these and go.
    await db.schema.dropIndex('stage_stays_entered').execute();
    await db.schema
      .createIndex('stage_stays_entered')
      .on('stage_stays')
      .columns(['entered_at', 'lead_id', 'pipeline', 'stage', 'stage_index'])
      .execute();
    await db.schema.dropIndex('stage_stays_exited').execute();
    await db.schema
      .createIndex('stage_stays_exited')
      .on('stage_stays')
      .columns(['exited_at', 'lead_id', 'pipeline', 'stage', 'stage_index', 'exit_kind', 'entered_at'])
      .execute();
    await db.schema.createIndex('leads_closed').on('leads').columns(['status', 'closed_at']).execute();
    await db.schema.createIndex('tasks_completed').on('tasks').columns(['completed_at']).execute();
  },
};

/**
 * What became of each delivery: when it was last tried, and what the far side said when it
 * took the row (an SMTP message id, a Mailchimp outcome, a webhook's status), so an admin
 * looking at the outbox sees more than "sent".
 */
const outboxOutcomes: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('outbox').addColumn('last_attempt_at', 'bigint').execute();
    await db.schema.alterTable('outbox').addColumn('detail', 'text').execute();
  },
};

/**
 * Every lead's reach computed from its stays, the definition the engine and the import keep
 * incrementally (lead-reach.ts); a test compares the two.
 */
export async function fillLeadReach(db: QueryExecutorProvider): Promise<void> {
  await sql`update leads set
    furthest_index = (select max(s.stage_index) from stage_stays s
      where s.lead_id = leads.id and s.pipeline = leads.pipeline),
    other_pipelines = case when exists (select 1 from stage_stays s
      where s.lead_id = leads.id and s.pipeline <> leads.pipeline) then 1 else 0 end`.execute(db);
}

/** The closed-leads index's key as 0009 made it: status and close time, then owner and id. */
const CLOSED_KEY = ['status', 'closed_at', 'owner', 'id'];
/** What the lead-level reports read of a lead: its status, dimensions, value and times. */
const LEAD_FACTS = [
  'status',
  'owner',
  'pipeline',
  'process_version',
  'value_minor',
  'created_at',
  'closed_at',
  'product',
  'territory',
  'source',
  'furthest_index',
  'other_pipelines',
];

/**
 * Closed leads by status and close time, with the owner and id the reports group and join by, so
 * win rate, cycle, forecast and calibration read the index alone instead of one lead row (about
 * 1.3 KB) per closed lead. Same number of indexes for the engine to keep up.
 */
const closedLeadsCovering: Migration = {
  async up(db: Any) {
    await db.schema.dropIndex('leads_closed').execute();
    await db.schema.createIndex('leads_closed').on('leads').columns(['status', 'closed_at', 'owner', 'id']).execute();
  },
};

/**
 * The lead-level reports (win rate, deal size, cycle, quota, forecast accuracy, ask to decision,
 * and the stage win rates behind calibration and the historical forecast) read leads closed, or
 * created, in a period and group them by owner, team, pipeline, product, territory, source or a
 * time bucket. Both indexes carry every column those queries read, so a report scans one index
 * range instead of fetching a 1.3 KB lead row per lead: at 1,000,000 leads cycle went from 410 to
 * 126 ms, quota from 117 to 16 (bench/README.md). Among them how far the lead got
 * (`furthest_index`, `other_pipelines`; see lead-reach.ts), kept by the engine and the import,
 * filled here from the stays. The engine sets only the lead columns an event changed, so an event
 * that changes none of these leaves both indexes alone.
 */
const leadFactsCovering: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('leads').addColumn('furthest_index', 'integer').execute();
    await db.schema
      .alterTable('leads')
      .addColumn('other_pipelines', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await fillLeadReach(db);
    await db.schema.dropIndex('leads_closed').execute();
    await db.schema
      .createIndex('leads_closed')
      .on('leads')
      .columns([...CLOSED_KEY, ...LEAD_FACTS.filter((c) => !CLOSED_KEY.includes(c))])
      .execute();
    await db.schema
      .createIndex('leads_created')
      .on('leads')
      .columns(['created_at', ...LEAD_FACTS.filter((c) => c !== 'created_at')])
      .execute();
  },
};

/** What the created-in-period (cohort) queries read besides the creation time. */
const COHORT_FACTS = ['status', 'owner', 'pipeline', 'process_version', 'product', 'territory', 'source'];

/**
 * 0010's covering indexes held every lead, open ones too, so on PostgreSQL each update of an open
 * lead that could not be HOT (a stage change) wrote two wide index entries more, and the engine
 * there lost about a fifth of its speed. The closed leads' facts move to an index of closed leads
 * only, which an open lead's write never touches; leads_closed is again 0009's, for the reports'
 * lookups of open leads by status; leads_created keeps only what the cohort queries read.
 */
const closedLeadFactsOnly: Migration = {
  async up(db: Any) {
    await db.schema.dropIndex('leads_closed').execute();
    await db.schema.createIndex('leads_closed').on('leads').columns(CLOSED_KEY).execute();
    await db.schema
      .createIndex('leads_closed_facts')
      .on('leads')
      .columns([...CLOSED_KEY, ...LEAD_FACTS.filter((c) => !CLOSED_KEY.includes(c))])
      .where(sql.ref('closed_at'), 'is not', null)
      .execute();
    await db.schema.dropIndex('leads_created').execute();
    await db.schema
      .createIndex('leads_created')
      .on('leads')
      .columns(['created_at', ...COHORT_FACTS])
      .execute();
  },
};

/**
 * Adoption's figures at a million leads (bench/README.md, ninth session):
 * - `tasks_due_facts` replaces `tasks_due` with what the on-time rule reads (assignee, status,
 *   completion and skip times, and the lead for a task without an assignee), so the tasks due in a
 *   period come from one index range instead of a task row each: 1.5 to 0.4 s on SQLite. The engine
 *   already rewrites a task's entries when it completes or skips it (`tasks_lead` holds its status).
 * - `owner_history_handovers` holds only the rows that end an earlier owner's span (a previous
 *   owner is set), so the leads handed over in a period are found without reading every lead's first
 *   assignment; the engine writes one entry per reassignment.
 */
const adoptionIndexes: Migration = {
  async up(db: Any) {
    await db.schema.dropIndex('tasks_due').execute();
    await db.schema
      .createIndex('tasks_due_facts')
      .on('tasks')
      .columns(['due_at', 'assignee', 'status', 'completed_at', 'skipped_at', 'lead_id'])
      .execute();
    await db.schema
      .createIndex('owner_history_handovers')
      .on('owner_history')
      .column('at')
      .where(sql.ref('from_owner'), 'is not', null)
      .execute();
  },
};

/**
 * Each stage's ended stays by end time, for the median stay behind the funnel's default stall
 * threshold (a year of one stage's stays; reports/funnel.ts). Partial, so the engine adds an entry
 * only when a stay ends, and led by the stage, so that no query without a condition on both the stage
 * and the end time can use it: SQLite has no statistics here (the product never runs ANALYZE) and
 * once chose a pipeline-led version of this index for a scan it made three times slower.
 */
const stallMedianIndex: Migration = {
  async up(db: Any) {
    await db.schema
      .createIndex('stage_stays_done')
      .on('stage_stays')
      .columns(['stage', 'pipeline', 'exited_at', 'entered_at'])
      .where(sql.ref('exited_at'), 'is not', null)
      .execute();
  },
};

/**
 * The engine now copies the contact's company and phone from a lead's fields into their columns,
 * as it does name and email; before, only imports wrote them. Leads made by the API or the CLI
 * get them from their fields here, so filters and exports see them.
 */
const contactColumns: Migration = {
  async up(db: Any) {
    // Text values only, as the engine copies them (leadColumns).
    const field = (key: string) =>
      db.getExecutor().adapter instanceof PostgresAdapter
        ? sql`case when json_typeof(cast(fields as json) -> ${key}) = 'string' then nullif(cast(fields as json) ->> ${key}, '') end`
        : sql`case when json_type(fields, ${`$.${key}`}) = 'text' then nullif(json_extract(fields, ${`$.${key}`}), '') end`;
    await sql`update leads set company = coalesce(company, ${field('company')}), phone = coalesce(phone, ${field('phone')})
      where company is null or phone is null`.execute(db);
  },
};

/**
 * Accounts are the companies on leads (store/accounts.ts), matched by `lower(trim(company))`: this
 * index holds that key with the owner (a rep's or manager's reach), status and value the figures
 * sum, so a page of accounts reads one index range instead of grouping every lead. An entry changes
 * only when a lead's company, owner, status or value does (owner and status are in other indexes
 * already), so the engine's other writes (tasks, activities) stay HOT on PostgreSQL. Both databases
 * index the expression as written; queries must spell it the same way. (PostgreSQL already has an
 * `accounts_name_key`: the unique constraint on the exact name.)
 */
const accountKeys: Migration = {
  async up(db: Any) {
    await sql`create index leads_company_key on leads (lower(trim(company)), owner, status, value_minor)`.execute(db);
    await sql`create index accounts_name_folded on accounts (lower(trim(name)))`.execute(db);
  },
};

/**
 * A lead's expected_close typed as a date alone (CLI, API, event files) was kept as typed and its
 * column set to UTC midnight, the previous day in the organisation's zone west of UTC. It now means
 * that day in the organisation's zone, kept with the zone's offset (docs/process.md, Expected
 * close): leads written before get their field and column rewritten here, in the zone of the
 * process version each runs under. A time without an offset is read on that zone's clock; one
 * with an offset keeps its instant, shown in the zone (an import's field is already so: untouched).
 */
const closeDatesInZone: Migration = {
  async up(db: Any) {
    const zones = new Map<number, string>();
    const versions = await sql<{ version: number; definition: string }>`
      select version, definition from process_versions`.execute(db);
    for (const v of versions.rows)
      zones.set(Number(v.version), (JSON.parse(v.definition) as Process).organisation.timezone);
    // Pages in key order, each resuming after the last key seen, so memory stays flat.
    for (let after = ''; ;) {
      const page = await sql<{ id: string; process_version: number; fields: string }>`
        select id, process_version, fields from leads
        where id > ${after} and expected_close is not null order by id limit 2000`.execute(db);
      for (const lead of page.rows) {
        const fields = JSON.parse(lead.fields) as Record<string, unknown>;
        const typed = fields['expected_close'];
        const zone = zones.get(Number(lead.process_version));
        if (typeof typed !== 'string' || zone === undefined) continue;
        const kept = closeDateField(typed, zone);
        if (kept === typed) continue;
        fields['expected_close'] = kept;
        await sql`update leads set fields = ${JSON.stringify(fields)}, expected_close = ${Date.parse(kept)}
          where id = ${lead.id}`.execute(db);
      }
      const last = page.rows.at(-1);
      if (!last) break;
      after = last.id;
    }
  },
};

/**
 * A lead's last change, for clients that sync by `updated_since` (GET /leads, export): a page of
 * changes reads one index range instead of every lead (21 ms to 4 ms a page at 20,000 leads; the
 * scan grows with the table). Every lead write moves its entry; the engine benchmark measured no
 * difference beyond its noise on either database (bench/README.md, thirteenth session).
 */
const leadsUpdated: Migration = {
  async up(db: Any) {
    await db.schema.createIndex('leads_updated').on('leads').columns(['updated_at', 'id']).execute();
  },
};

/**
 * When an imported lead came into Stageflow: its open stay is history before then and live after,
 * so adoption counts it as an open lead (neglected when nobody works it) from that moment on. Leads
 * imported before this migration get their first Stageflow event's time, else their last write's:
 * an upper bound of the import, so their open time is never counted from before it.
 */
const leadImportedAt: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('leads').addColumn('imported_at', 'bigint').execute();
    await sql`update leads set imported_at = coalesce((select min(e.at) from events e where e.lead_id = leads.id), updated_at)
      where import_source is not null`.execute(db);
  },
};

/**
 * The foreign key from tasks to their stay had no index: deleting a stay (a re-import replacing a
 * lead's rebuilt history, a lead deleted) made both databases scan every task for each stay to
 * check nothing referred to it. A 2,000-row re-import into the demo (125,000 tasks) took 80 s
 * against 6.7 s for the first import; with the index, 4.8 s.
 */
const taskStayIndex: Migration = {
  async up(db: Any) {
    await db.schema.createIndex('tasks_stay').on('tasks').column('stay_id').execute();
  },
};

/**
 * A per-installation secret for contact hashes. The suppression list, audit entries and erased
 * contacts' pseudonyms held the unkeyed SHA-256 of the address, which anyone who guesses the
 * address can recompute. They become HMAC-SHA-256 of that SHA-256 with this secret, so the hashes
 * already stored convert in place (the addresses are gone): every suppressed address stays
 * suppressed, audit entries keep naming the same person, and the pseudonyms already written
 * (erased- and the old hash's first 10 hex digits) become the new ones.
 */
const contactHashKey: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('installation_secrets')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    const secret = randomBytes(32);
    await sql`insert into installation_secrets (name, value, created_at)
      values (${CONTACT_HASH_KEY}, ${secret.toString('base64url')}, ${Date.now()})`.execute(db);
    const rekey = (legacy: string): string => keyedHash(secret, legacy);
    const suppressed = await sql<{ email_hash: string }>`select email_hash from suppressions`.execute(db);
    for (const { email_hash } of suppressed.rows)
      await sql`update suppressions set email_hash = ${rekey(email_hash)} where email_hash = ${email_hash}`.execute(db);
    const audited = await sql<{ id: string; target: string | null; details: string }>`
      select id, target, details from audit_log where action in ('contact.erase', 'contact.export')`.execute(db);
    for (const a of audited.rows) {
      const details = JSON.parse(a.details) as { email_hash?: unknown };
      if (typeof details.email_hash === 'string') details.email_hash = rekey(details.email_hash);
      await sql`update audit_log set target = ${a.target === null ? null : rekey(a.target)},
        details = ${JSON.stringify(details)} where id = ${a.id}`.execute(db);
    }
    const renamed = new Map(suppressed.rows.map((r) => [pseudonymOf(r.email_hash), pseudonymOf(rekey(r.email_hash))]));
    if (renamed.size > 0) await renamePseudonyms(db, renamed);
  },
};

/** Where an erase, an import or a lead delete wrote a pseudonym, by table: its key and the text columns. */
const PSEUDONYM_COLUMNS: { table: string; key: string[]; columns: string[] }[] = [
  { table: 'leads', key: ['id'], columns: ['name', 'company', 'fields', 'close_reason', 'error'] },
  { table: 'events', key: ['lead_id', 'seq'], columns: ['payload'] },
  { table: 'field_history', key: ['lead_id', 'seq', 'idx'], columns: ['old_value', 'new_value'] },
  { table: 'run_log', key: ['lead_id', 'seq', 'idx'], columns: ['message', 'inputs'] },
  { table: 'outbox', key: ['id'], columns: ['payload', 'detail', 'last_error'] },
  { table: 'audit_log', key: ['id'], columns: ['details'] },
];

/**
 * Pseudonyms written before 0020 were the unkeyed hash's first 10 hex digits: each one that a
 * suppressed hash explains becomes the keyed pseudonym of the same person, wherever it was written.
 * One scan per table, for rows that hold any pseudonym at all.
 */
async function renamePseudonyms(db: Any, renamed: ReadonlyMap<string, string>): Promise<void> {
  const rename = (text: string | null): string | null =>
    text === null ? null : text.replace(/erased-[0-9a-f]{10}/g, (p) => renamed.get(p) ?? p);
  for (const { table, key, columns } of PSEUDONYM_COLUMNS) {
    const anyPseudonym = sql.join(
      columns.map((c) => sql`${sql.ref(c)} like ${'%erased-%'}`),
      sql` or `,
    );
    const rows = await sql<Record<string, string | number | null>>`
      select ${sql.join([...key, ...columns].map((c) => sql.ref(c)))} from ${sql.table(table)} where ${anyPseudonym}`.execute(
      db,
    );
    for (const row of rows.rows) {
      const changed = columns.filter((c) => {
        const v = row[c];
        return typeof v === 'string' && rename(v) !== v;
      });
      if (changed.length === 0) continue;
      const set = sql.join(changed.map((c) => sql`${sql.ref(c)} = ${rename(row[c] as string)}`));
      const where = sql.join(
        key.map((k) => sql`${sql.ref(k)} = ${row[k]}`),
        sql` and `,
      );
      await sql`update ${sql.table(table)} set ${set} where ${where}`.execute(db);
    }
  }
}

/**
 * A contact's erasure and export also find the leads whose email was their address before it was
 * changed (a successor at the company, a fixed typo), by the email rows of field history. Partial
 * indexes on the value as written there (JSON text: quotes and spaces trimmed, lowercased) keep
 * that lookup to one index seek; without them it read every field change of every lead.
 */
const fieldHistoryEmails: Migration = {
  async up(db: Any) {
    for (const column of ['old_value', 'new_value'] as const)
      await sql`create index ${sql.raw(`field_history_email_${column.slice(0, 3)}`)} on field_history
        (lower(trim(${sql.ref(column)}, ' "'))) where field = 'email'`.execute(db);
  },
};

/**
 * A forecast snapshot records, like the forecast report, the open leads whose expected_close passed
 * before the period (in no forecast from it on) and their value. Null in snapshots taken before
 * this migration: they did not count them, and 0 would say there were none.
 */
const snapshotPastClose: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('forecast_snapshots').addColumn('past_close_date', 'integer').execute();
    await db.schema.alterTable('forecast_snapshots').addColumn('past_close_value_minor', 'bigint').execute();
  },
};

/**
 * The outbox had no index by lead: reading one lead's messages (a contact's export and erase, a
 * lead delete) read every message ever queued. The contact's deleted leads, whose messages the
 * export and erase also look at, are found by their `lead.deleted` audit entries and then through
 * this index.
 */
const outboxLeadIndex: Migration = {
  async up(db: Any) {
    await db.schema.createIndex('outbox_lead').on('outbox').column('lead_id').execute();
  },
};

/**
 * Mail kept as an .eml file while SMTP_URL was unset was recorded 'sent', so once SMTP was
 * configured nothing could send it (the worker never takes up a sent row, `outbox retry` refused it
 * as delivered). Such rows get a status of their own, 'kept', which `outbox retry` queues again.
 * Matched by the detail the mail deliverer wrote (KEPT_PREFIX then, spelled out: a migration must
 * not change with the code).
 */
const outboxKept: Migration = {
  async up(db: Any) {
    const prefix = 'not sent (SMTP_URL is unset): kept as ';
    await sql`update outbox set status = 'kept'
      where status = 'sent' and substr(detail, 1, ${prefix.length}) = ${prefix}`.execute(db);
  },
};

/**
 * Tasks a person adds to a lead (task.added) are told from the process's stage tasks: the adoption
 * report's on-time completion is over process tasks only. Every task so far came from the process.
 * `tasks_due_facts` gains the column, so that report still reads its tasks from the index alone.
 */
const adHocTasks: Migration = {
  async up(db: Any) {
    await db.schema
      .alterTable('tasks')
      .addColumn('ad_hoc', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('tasks').addColumn('note', 'text').execute();
    await db.schema.dropIndex('tasks_due_facts').execute();
    await db.schema
      .createIndex('tasks_due_facts')
      .on('tasks')
      .columns(['due_at', 'assignee', 'status', 'completed_at', 'skipped_at', 'lead_id', 'ad_hoc'])
      .execute();
  },
};

/**
 * Remembered opt-outs (store/opt-outs.ts): an address that opted out of marketing mail, as its
 * keyed contact hash, so a lead created later with it starts opted out. Leads opted out today are
 * remembered from the start (the hash needs the installation's secret, so it is taken here).
 */
const optOuts: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('opt_outs')
      .addColumn('email_hash', 'text', (c) => c.primaryKey())
      .addColumn('at', 'bigint', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .execute();
    const row = await sql<{ value: string }>`
      select value from installation_secrets where name = ${CONTACT_HASH_KEY}`.execute(db);
    const secret = Buffer.from(row.rows[0]?.value ?? '', 'base64url');
    // The opt-out as consent.ts read it when this was written (a migration must not change with the code).
    const yes = new Set(['true', 'yes', 'y', '1', 'on']);
    for (let after = ''; ;) {
      const page = await sql<{ id: string; fields: string; created_at: number }>`
        select id, fields, created_at from leads where id > ${after} order by id limit 2000`.execute(db);
      for (const lead of page.rows) {
        const fields = JSON.parse(lead.fields) as Record<string, unknown>;
        const email = fields['email'];
        if (typeof email !== 'string' || email.trim() === '') continue;
        const said = String(fields['unsubscribed'] ?? '');
        if (!yes.has(said.trim().toLowerCase())) continue;
        // When it was set, if the field history says; else when the lead came in with it.
        const set = await sql<{ at: number | null }>`select max(at) as at from field_history
          where lead_id = ${lead.id} and field = 'unsubscribed'`.execute(db);
        const at = Number(set.rows[0]?.at ?? lead.created_at);
        await sql`insert into opt_outs (email_hash, at, source)
          values (${keyedHash(secret, legacyEmailHash(email))}, ${at}, 'an earlier lead')
          on conflict (email_hash) do nothing`.execute(db);
      }
      const last = page.rows.at(-1);
      if (!last) break;
      after = last.id;
    }
  },
};

/**
 * Availability overrides (store/availability.ts): a person's active flag, out-of-office periods,
 * capacity and working hours as set through the API, kept apart from the process versions so
 * that changing them re-versions no lead. One row per person; the single `availability_changes`
 * row counts every change, so an engine caching the process in another process of the same
 * database sees a change by reading one number.
 */
const userAvailability: Migration = {
  async up(db: Any) {
    await db.schema
      .createTable('user_availability')
      .addColumn('user_id', 'text', (c) => c.primaryKey())
      .addColumn('overrides', 'text', (c) => c.notNull())
      .addColumn('changed_at', 'bigint', (c) => c.notNull())
      .addColumn('changed_by', 'text')
      .execute();
    await db.schema
      .createTable('availability_changes')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .execute();
    await sql`insert into availability_changes (id, revision) values (1, 0)`.execute(db);
  },
};

/**
 * Activity ids (domain/lead.ts activityId): a person corrects or deletes one activity by its id.
 * Rows written before get the id their (lead, seq, idx) key gives in the first series; a lead's
 * earlier series' rows were deleted with their lead, so no id is given twice.
 */
const activityIds: Migration = {
  async up(db: Any) {
    await db.schema.alterTable('activities').addColumn('id', 'text').execute();
    await sql`update activities set id = lead_id || ':' || cast(seq as text) || '.' || cast(idx as text)`.execute(db);
    await db.schema.createIndex('activities_id').unique().on('activities').column('id').execute();
  },
};

/**
 * A lead's last activity and next open task's due time are read with it on every lead answer and
 * list (and sorted by): one index seek each per lead, the newest activity from the end of
 * (lead_id, at), the earliest open task from (lead_id, status, due_at), which replaces tasks_lead
 * (lead_id, status) as the index of the tasks' foreign key to their lead.
 */
const leadWorkTimes: Migration = {
  async up(db: Any) {
    await db.schema.createIndex('activities_lead_at').on('activities').columns(['lead_id', 'at']).execute();
    await db.schema.dropIndex('tasks_lead').execute();
    await db.schema.createIndex('tasks_lead').on('tasks').columns(['lead_id', 'status', 'due_at']).execute();
  },
};

/**
 * Folded keys (store/lead-keys.ts, docs/ARCHITECTURE.md "Case"): leads are found by company,
 * address and `q` through columns their writers fill in JavaScript, with every letter's case
 * ignored, instead of `lower()`, which SQLite applies to ASCII letters only and PostgreSQL as the
 * server's locale says (ASCII only under C). Plain column indexes replace the expression indexes
 * on lower(trim(…)), so any tool that opens the database can still write it. The backfill uses the
 * writers' own functions, unlike other migrations: a key must equal what the writers compute, and
 * a change to the folding needs a migration that computes them again.
 */
const foldedKeys: Migration = {
  async up(db: Any) {
    for (const column of ['email_key', 'company_key', 'search_key'])
      await db.schema.alterTable('leads').addColumn(column, 'text').execute();
    await db.schema.alterTable('accounts').addColumn('name_key', 'text').execute();
    for (let after = ''; ;) {
      const page = await sql<{
        id: string;
        name: string | null;
        email: string | null;
        company: string | null;
        fields: string;
      }>`
        select id, name, email, company, fields from leads where id > ${after} order by id limit 500`.execute(db);
      const last = page.rows.at(-1);
      if (!last) break;
      // One statement a page; both databases name a VALUES list's columns column1, column2, ...
      const values = page.rows.map((r) => {
        const k = leadKeys({ ...r, fields: JSON.parse(r.fields) as Record<string, unknown> });
        return sql`(${r.id}, ${k.email_key}, ${k.company_key}, ${k.search_key})`;
      });
      await sql`update leads set email_key = v.column2, company_key = v.column3, search_key = v.column4
        from (values ${sql.join(values)}) as v where leads.id = v.column1`.execute(db);
      after = last.id;
    }
    const records = await sql<{ id: string; name: string }>`select id, name from accounts`.execute(db);
    for (const r of records.rows)
      await sql`update accounts set name_key = ${nameKey(r.name) ?? ''} where id = ${r.id}`.execute(db);
    await sql`drop index leads_company_key`.execute(db);
    await sql`create index leads_company_key on leads (company_key, owner, status, value_minor)`.execute(db);
    await sql`drop index leads_contact_email`.execute(db);
    await sql`create index leads_contact_email on leads (email_key)`.execute(db);
    await sql`drop index accounts_name_folded`.execute(db);
    await sql`create index accounts_name_folded on accounts (name_key)`.execute(db);
  },
};

export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_data_in_and_out': dataInAndOut,
  '0003_forecasting': forecasting,
  '0004_report_indexes': reportIndexes,
  '0005_server': server,
  '0006_login_attempt_ids': loginAttemptIds,
  '0007_report_speed': reportSpeed,
  '0008_outbox_outcomes': outboxOutcomes,
  '0009_closed_leads_covering': closedLeadsCovering,
  '0010_lead_facts_covering': leadFactsCovering,
  '0011_closed_lead_facts_only': closedLeadFactsOnly,
  '0012_adoption_indexes': adoptionIndexes,
  '0013_stall_median_index': stallMedianIndex,
  '0014_contact_columns': contactColumns,
  '0015_account_keys': accountKeys,
  '0016_close_dates_in_zone': closeDatesInZone,
  '0017_leads_updated': leadsUpdated,
  '0018_lead_imported_at': leadImportedAt,
  '0019_task_stay_index': taskStayIndex,
  '0020_contact_hash_key': contactHashKey,
  '0021_field_history_emails': fieldHistoryEmails,
  '0022_snapshot_past_close': snapshotPastClose,
  '0023_outbox_lead': outboxLeadIndex,
  '0024_outbox_kept': outboxKept,
  '0025_ad_hoc_tasks': adHocTasks,
  '0026_opt_outs': optOuts,
  '0027_user_availability': userAvailability,
  '0028_activity_ids': activityIds,
  '0029_folded_keys': foldedKeys,
  '0030_lead_work_times': leadWorkTimes,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};
