import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { normaliseEmail } from './personal-data.js';
import type { LeadRow } from './export.js';
import type { OutboxTable } from './schema.js';

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
 * and an engine batch on the same lead run one after the other. The expression index
 * `leads_contact_email` on lower(trim(email)) answers the lookup.
 */
export async function contactLeads(tx: Tx, email: string, lock: boolean): Promise<ContactLeadRow[]> {
  const q = tx
    .selectFrom('leads')
    .selectAll()
    .where((eb) => eb(eb.fn<string>('lower', [eb.fn<string>('trim', ['email'])]), '=', normaliseEmail(email)))
    .orderBy('id');
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
 * Other people's leads that quote the address now: in a field (a `work_email` or `cc` field, a
 * note field), the close reason, or an activity's note; `exclude` are the contact's own and
 * earlier leads. Oldest id first. Found by scanning leads and activities with LIKE (an erase or
 * an access request is rare, and no index answers "contains"), each candidate then checked as
 * quotesAddress does, so joann@zed.test is not taken for ann@zed.test.
 */
export async function mentioningLeads(
  tx: Tx,
  email: string,
  exclude: readonly string[],
  lock: boolean,
): Promise<ContactLeadRow[]> {
  const like = containsPattern(email);
  const contains = (column: string) => sql<SqlBool>`lower(${sql.ref(column)}) like ${like} escape '\\'`;
  const [inLeads, inNotes] = await Promise.all([
    tx
      .selectFrom('leads')
      .select('id')
      .where((eb) => eb.or([contains('fields'), contains('close_reason')]))
      .execute(),
    tx.selectFrom('activities').select(['lead_id', 'note']).where(contains('note')).execute(),
  ]);
  const noted = new Set(inNotes.filter((a) => a.note !== null && quotesAddress(a.note, email)).map((a) => a.lead_id));
  const candidates = [...new Set([...inLeads.map((l) => l.id), ...noted])].filter((id) => !exclude.includes(id));
  if (candidates.length === 0) return [];
  const q = tx.selectFrom('leads').selectAll().where('id', 'in', candidates).orderBy('id');
  const rows = await (lock ? q.forUpdate() : q).execute();
  return rows.filter(
    (l) => noted.has(l.id) || quotesAddress(l.fields, email) || quotesAddress(l.close_reason ?? '', email),
  );
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
 * Outbox rows of deleted leads whose payload quotes the address: a deleted lead's delivered and
 * cancelled messages are kept as delivery history. The deleted leads are those of `lead.deleted`
 * audit entries (their target is the lead id) that no lead row has any more; their messages are
 * read through the outbox's lead index (migration 0023), never by reading the whole outbox.
 */
export function deletedLeadMessagesQuery(tx: Tx, email: string) {
  const like = containsPattern(email);
  return tx
    .selectFrom('outbox')
    .selectAll()
    .where('lead_id', 'in', (eb) =>
      eb.selectFrom('audit_log').select('target').where('action', '=', 'lead.deleted').where('target', 'is not', null),
    )
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('leads').select('leads.id').whereRef('leads.id', '=', 'outbox.lead_id'))),
    )
    .where(sql<SqlBool>`lower(payload) like ${like} escape '\\'`)
    .orderBy('created_at')
    .orderBy('id');
}

export async function deletedLeadMessages(tx: Tx, email: string): Promise<OutboxTable[]> {
  const rows = await deletedLeadMessagesQuery(tx, email).execute();
  return rows.filter((r) => quotesAddress(r.payload, email));
}

/** An address worth looking up: something before and after one @. */
export function checkEmail(email: string): string {
  const norm = normaliseEmail(email);
  if (!/^[^@\s]+@[^@\s]+$/.test(norm))
    throw new ContactError('invalid_email', `${JSON.stringify(email)} is not an email address`);
  return norm;
}
