import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { normaliseEmail } from './personal-data.js';
import type { LeadRow } from './export.js';
import type { OutboxTable } from './schema.js';
import { leadSeries, rowSeries } from './contact-outbox.js';

/**
 * A contact is a person identified by their email address: every lead whose `email` is that
 * address, compared without case or surrounding spaces. Data exports and erasure start here, and
 * also reach what the person left elsewhere: leads whose email was their address before it was
 * changed (earlier leads), and the outbox rows of deleted leads that quote the address.
 */

/** A request the store refuses: not an address, or an address it knows nothing about. */
export class ContactError extends Error {
  constructor(
    readonly code: 'invalid_email' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'ContactError';
  }
}

export function contactNotFound(email: string): ContactError {
  return new ContactError('not_found', `no lead has the email address ${email}, and it was never erased`);
}

export type ContactLeadRow = LeadRow;

/**
 * The contact's lead rows, oldest id first. `lock` (PostgreSQL) takes the rows' locks so an erase
 * and an engine batch on the same lead run one after the other. The index `leads_contact_email`
 * on email_key (the address as normaliseEmail makes it, kept by the lead's writers) answers it.
 */
export async function contactLeads(tx: Tx, email: string, lock: boolean): Promise<ContactLeadRow[]> {
  const q = tx.selectFrom('leads').selectAll().where('email_key', '=', normaliseEmail(email)).orderBy('id');
  return (lock ? q.forUpdate() : q).execute();
}

/**
 * The leads whose `email` field once held the address and holds another now (a successor at the
 * company, a typo fixed), oldest id first; `current` are the contact's own leads, left out. Found
 * by the email rows of field history, through the partial indexes of migration 0021 (the
 * expression here must stay the one indexed there). An imported lead has no history of its first
 * address, only the row that changed it: hence old values as well as new ones.
 */
export async function earlierContactLeads(
  tx: Tx,
  email: string,
  current: readonly string[],
  lock: boolean,
): Promise<ContactLeadRow[]> {
  const ids = await addressHistoryQuery(tx, email).execute();
  const others = ids.map((r) => r.lead_id).filter((id) => !current.includes(id));
  if (others.length === 0) return [];
  const q = tx.selectFrom('leads').selectAll().where('id', 'in', others).orderBy('id');
  return (lock ? q.forUpdate() : q).execute();
}

/** `%address%` for LIKE, with LIKE's own characters escaped (`escape '\\'`). */
function containsPattern(email: string): string {
  return `%${normaliseEmail(email).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * Other people's leads that quote the address, now or earlier: in a field (a `work_email` or `cc`
 * field, a note field), the close reason, an activity's note, or, for a value changed since, an
 * event's payload or a field-history value (every value a field ever held passes through one of
 * them); `exclude` are the contact's own and earlier leads. Oldest id first. Found by scanning
 * with LIKE (an erase or an access request is rare, and no index answers "contains"), each hit
 * then checked as quotesAddress does, so joann@zed.test is not taken for ann@zed.test.
 */
export async function mentioningLeads(
  tx: Tx,
  email: string,
  exclude: readonly string[],
  lock: boolean,
): Promise<ContactLeadRow[]> {
  const like = containsPattern(email);
  const contains = (column: string) => sql<SqlBool>`lower(${sql.ref(column)}) like ${like} escape '\\'`;
  const [inLeads, inNotes, inEvents, inHistory] = await Promise.all([
    tx
      .selectFrom('leads')
      .select(['id', 'fields', 'close_reason'])
      .where((eb) => eb.or([contains('fields'), contains('close_reason')]))
      .execute(),
    tx.selectFrom('activities').select(['lead_id', 'note']).where(contains('note')).execute(),
    tx.selectFrom('events').select(['lead_id', 'payload']).where(contains('payload')).execute(),
    tx
      .selectFrom('field_history')
      .select(['lead_id', 'old_value', 'new_value'])
      .where((eb) => eb.or([contains('old_value'), contains('new_value')]))
      .execute(),
  ]);
  const quoting = (...texts: (string | null)[]): boolean => texts.some((t) => t !== null && quotesAddress(t, email));
  const found = new Set([
    ...inLeads.filter((l) => quoting(l.fields, l.close_reason)).map((l) => l.id),
    ...inNotes.filter((a) => quoting(a.note)).map((a) => a.lead_id),
    ...inEvents.filter((e) => quoting(e.payload)).map((e) => e.lead_id),
    ...inHistory.filter((h) => quoting(h.old_value, h.new_value)).map((h) => h.lead_id),
  ]);
  const candidates = [...found].filter((id) => !exclude.includes(id));
  if (candidates.length === 0) return [];
  const q = tx.selectFrom('leads').selectAll().where('id', 'in', candidates).orderBy('id');
  return (lock ? q.forUpdate() : q).execute();
}

/** The ids of leads whose email history holds the address (old or new value): one index seek per column. */
export function addressHistoryQuery(tx: Tx, email: string) {
  const norm = normaliseEmail(email);
  // Literals, not parameters: each planner matches the partial index's `where` to the query's.
  const held = (column: 'old_value' | 'new_value') =>
    tx
      .selectFrom('field_history')
      .select('lead_id')
      .where(sql<SqlBool>`field = 'email' and lower(trim(${sql.ref(column)}, ' "')) = ${norm}`);
  return held('old_value').union(held('new_value'));
}

/**
 * Whether the text quotes the address: the address itself, in any case, and not as the tail or
 * head of a longer one (ann@zed.test is not quoted by joann@zed.test or ann@zed.test.example).
 */
export function quotesAddress(text: string, email: string): boolean {
  const escaped = normaliseEmail(email).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<![\\w.%+-])${escaped}(?![\\w-]|\\.\\w)`, 'i').test(text);
}

/**
 * Outbox rows of deleted leads whose payload may quote the address (a LIKE match, checked whole by
 * deletedLeadMessages): a deleted lead's delivered and cancelled messages are kept as delivery
 * history. The deleted leads are those of `lead.deleted` audit entries (their target is the lead
 * id); their messages are read through the outbox's lead index (migration 0023), never by reading
 * the whole outbox. A lead created again under such an id is there now, and its own rows too:
 * deletedLeadMessages tells them apart by series.
 */
export function deletedLeadMessagesQuery(tx: Tx, email: string) {
  const like = containsPattern(email);
  return tx
    .selectFrom('outbox')
    .selectAll()
    .where('lead_id', 'in', (eb) =>
      eb.selectFrom('audit_log').select('target').where('action', '=', 'lead.deleted').where('target', 'is not', null),
    )
    .where(sql<SqlBool>`lower(payload) like ${like} escape '\\'`)
    .orderBy('created_at')
    .orderBy('id');
}

/**
 * The deleted leads' messages that quote the address: rows of a lead id no lead has any more, and
 * rows of an earlier series under an id a new lead took (its own rows are its current series:
 * contact-outbox.ts). Those belong to the deleted lead's person, whoever holds the id now.
 */
export async function deletedLeadMessages(tx: Tx, email: string): Promise<OutboxTable[]> {
  const rows = (await deletedLeadMessagesQuery(tx, email).execute()).filter((r) => quotesAddress(r.payload, email));
  const ids = [...new Set(rows.map((r) => r.lead_id))];
  if (ids.length === 0) return [];
  const living = await tx.selectFrom('leads').select(['id', 'state']).where('id', 'in', ids).execute();
  const series = new Map(living.map((l) => [l.id, leadSeries(l.state)]));
  return rows.filter((r) => !series.has(r.lead_id) || rowSeries(r) !== series.get(r.lead_id));
}

/** An address worth looking up: something before and after one @. */
export function checkEmail(email: string): string {
  const norm = normaliseEmail(email);
  if (!/^[^@\s]+@[^@\s]+$/.test(norm))
    throw new ContactError('invalid_email', `${JSON.stringify(email)} is not an email address`);
  return norm;
}
