import { appendAudit } from './audit.js';
import { withTransaction, type Store, type Tx } from './db.js';

/**
 * Deleting a lead made by mistake (a test lead, spam, a duplicate), in one transaction: its rows in
 * every table that refers to it, then the lead. Losing it instead (`lead lose --reason spam`) would
 * count it in win rates and every report. Delivered outbox rows stay (they are delivery history),
 * undelivered ones are cancelled, except a contact erase's mailing-list deletes (`list.erase`), which
 * must still reach the list; the owner's open-lead count drops, so a `max_open` cap frees up;
 * the audit log keeps who deleted what. Contact erase (contact-erase.ts) is the privacy path: it
 * keeps the business figures and removes the person.
 */

/** The tables whose rows belong to one lead, children first (tasks refer to stage stays). */
export const LEAD_TABLES = [
  'tasks',
  'stage_stays',
  'activities',
  'owner_history',
  'field_history',
  'run_log',
  'events',
] as const;
export type LeadTable = (typeof LEAD_TABLES)[number];
export type LeadRowCounts = Record<LeadTable, number>;

/**
 * Outbox states that may still be delivered, as contact erase counts them (a dead row can be
 * replayed, mail kept as a file while SMTP_URL was unset can be queued again).
 */
const UNDELIVERED = ['pending', 'failed', 'dead', 'kept'];
const CANCELLED_BECAUSE = 'cancelled: lead deleted';
/**
 * An erased contact's permanent delete from a mailing list is never cancelled: the person asked to
 * be forgotten, and once it is cancelled nothing can queue it again (the lead that named the list is gone).
 */
const KEPT_KIND = 'list.erase';

export class UnknownLeadError extends Error {
  readonly code = 'unknown_lead';
  constructor(readonly leadId: string) {
    super(`lead "${leadId}" does not exist`);
    this.name = 'UnknownLeadError';
  }
}

export interface LeadDeletion {
  lead: string;
  status: string;
  owner: string | null;
  /** Rows deleted per table, the lead row itself not counted. */
  rows: LeadRowCounts;
  /** Undelivered outbox rows now cancelled. */
  outboxCancelled: number;
  /** Outbox rows left as they were: delivered, already cancelled, being sent right now, or a list erase still to go. */
  outboxKept: number;
  /** The owner whose open-lead count went down (an open lead with an owner), else null. */
  openLoadFreed: string | null;
}

/** What a delete would remove now, for a confirmation prompt: null for an unknown lead. */
export interface LeadDeletionPreview {
  lead: string;
  status: string;
  owner: string | null;
  rows: LeadRowCounts;
  outboxToCancel: number;
}

interface DoomedLead {
  id: string;
  status: string;
  owner: string | null;
  pipeline: string;
  stage: string;
  value_minor: number | null;
  created_at: number;
  import_source: string | null;
  source_id: string | null;
}

async function findDoomedLead(tx: Tx, id: string, lock: boolean): Promise<DoomedLead | null> {
  const q = tx
    .selectFrom('leads')
    .select(['id', 'status', 'owner', 'pipeline', 'stage', 'value_minor', 'created_at', 'import_source', 'source_id'])
    .where('id', '=', id);
  return (await (lock ? q.forUpdate() : q).executeTakeFirst()) ?? null;
}

async function countRows(tx: Tx, id: string): Promise<LeadRowCounts> {
  const counts = await Promise.all(
    LEAD_TABLES.map(async (table) => {
      const r = await tx
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('lead_id', '=', id)
        .executeTakeFirstOrThrow();
      return [table, Number(r.n)] as const;
    }),
  );
  return Object.fromEntries(counts) as LeadRowCounts;
}

export async function previewLeadDeletion(store: Store, id: string): Promise<LeadDeletionPreview | null> {
  const lead = await findDoomedLead(store.db, id, false);
  if (!lead) return null;
  const [rows, outbox] = await Promise.all([
    countRows(store.db, id),
    store.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('lead_id', '=', id)
      .where('status', 'in', UNDELIVERED)
      .where('kind', '!=', KEPT_KIND)
      .executeTakeFirstOrThrow(),
  ]);
  return { lead: id, status: lead.status, owner: lead.owner, rows, outboxToCancel: Number(outbox.n) };
}

async function deleteRows(tx: Tx, id: string): Promise<LeadRowCounts> {
  const rows = {} as LeadRowCounts;
  // One after the other, in this order: the foreign keys need tasks gone before their stays.
  for (const table of LEAD_TABLES) {
    const r = await tx.deleteFrom(table).where('lead_id', '=', id).executeTakeFirst();
    rows[table] = Number(r.numDeletedRows);
  }
  await tx.deleteFrom('leads').where('id', '=', id).execute();
  return rows;
}

/** Cancels what was not delivered (list erasures aside); the rest stays as delivery history. Returns [cancelled, kept]. */
async function settleOutbox(tx: Tx, id: string): Promise<[number, number]> {
  const cancelled = await tx
    .updateTable('outbox')
    .set({ status: 'cancelled', last_error: CANCELLED_BECAUSE })
    .where('lead_id', '=', id)
    .where('status', 'in', UNDELIVERED)
    .where('kind', '!=', KEPT_KIND)
    .executeTakeFirst();
  const all = await tx
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('lead_id', '=', id)
    .executeTakeFirstOrThrow();
  const n = Number(cancelled.numUpdatedRows);
  return [n, Number(all.n) - n];
}

/** An open lead counts towards its owner's open leads (routing_load, see routing.ts): it no longer does. */
async function freeOpenLoad(tx: Tx, lead: DoomedLead): Promise<string | null> {
  if (lead.status !== 'open' || lead.owner === null) return null;
  await tx
    .updateTable('routing_load')
    .set((eb) => ({ open_leads: eb('open_leads', '-', 1) }))
    .where('user_id', '=', lead.owner)
    .execute();
  return lead.owner;
}

/**
 * Deletes the lead and everything that belongs to it. On PostgreSQL the lead row is locked first,
 * so an engine batch racing the delete either ran before it or finds no lead (unknown_lead);
 * SQLite's BEGIN IMMEDIATE already serialises the two.
 */
export async function deleteLead(store: Store, id: string, actor: string, now: number): Promise<LeadDeletion> {
  return withTransaction(store, async (tx) => {
    const lead = await findDoomedLead(tx, id, store.dialect === 'postgres');
    if (!lead) throw new UnknownLeadError(id);
    const rows = await deleteRows(tx, id);
    const [outboxCancelled, outboxKept] = await settleOutbox(tx, id);
    const openLoadFreed = await freeOpenLoad(tx, lead);
    // No name, address or company (a sole trader's company is their name, and erasure never
    // reaches the audit log): an entry is kept forever and holds no personal data (docs/privacy.md).
    await appendAudit(
      tx,
      {
        actor,
        action: 'lead.deleted',
        target: id,
        details: {
          lead: id,
          owner: lead.owner,
          status: lead.status,
          pipeline: lead.pipeline,
          stage: lead.stage,
          value_minor: lead.value_minor,
          created_at: new Date(lead.created_at).toISOString(),
          ...(lead.source_id !== null ? { import_source: lead.import_source, source_id: lead.source_id } : {}),
          rows,
          outbox_cancelled: outboxCancelled,
        },
      },
      now,
    );
    return { lead: id, status: lead.status, owner: lead.owner, rows, outboxCancelled, outboxKept, openLoadFreed };
  });
}
