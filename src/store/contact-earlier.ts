import type { ContactLeadRow } from './contact.js';
import { quotesAddress } from './contact.js';
import { keptFile, KEPT_MAIL_ERASED } from './contact-kept-mail.js';
import { addressErasure, cancelUndelivered, currentSeriesRows, type PlannedErasure } from './contact-outbox.js';
import { ErasureScrubber, isPersonNameKey } from './contact-scrub.js';
import type { Tx } from './db.js';
import { leadKeys } from './lead-keys.js';
import { updatedAtNoEarlierThan } from './leads.js';
import { isCompanyKey, isPersonalKey, normaliseEmail } from './personal-data.js';
import type { FieldHistoryTable, OutboxTable } from './schema.js';

/**
 * A contact's earlier leads: leads whose email was their address and is now another (a successor
 * at the company, a typo fixed). Their rows hold both people's data, so the erase replaces only
 * the person's values there (the address, and the personal values the lead had while the address
 * was its email) and leaves the lead's current contact as they are.
 */

type Json = Record<string, unknown>;
const parse = (text: string): Json => JSON.parse(text) as Json;

const addressOf = (json: string | null): string | null => {
  if (json === null) return null;
  const v: unknown = JSON.parse(json);
  return typeof v === 'string' ? normaliseEmail(v) : null;
};

/** When the lead's email was the address, by the sequence numbers of its events. */
export class AddressPeriods {
  private readonly changes: { seq: number; to: string | null }[];
  private readonly initial: string | null;

  /** `holds`: the lead's email now, which it has always had if no history row changed it (an import). */
  constructor(
    history: readonly FieldHistoryTable[],
    private readonly email: string,
    holds: string | null = null,
  ) {
    const rows = history.filter((h) => h.field === 'email').sort((a, b) => a.seq - b.seq || a.idx - b.idx);
    // An imported lead's first address has no row of its own: it is the first change's old value.
    this.initial = rows.length > 0 ? addressOf(rows[0]!.old_value) : holds === null ? null : normaliseEmail(holds);
    this.changes = rows.map((h) => ({ seq: h.seq, to: addressOf(h.new_value) }));
  }

  private after(seq: number): string | null {
    let current = this.initial;
    for (const c of this.changes) {
      if (c.seq > seq) break;
      current = c.to;
    }
    return current;
  }

  /** The address was the lead's email once event `seq` was handled. */
  heldAfter(seq: number): boolean {
    return this.after(seq) === this.email;
  }

  /** The address was the lead's email when event `seq` arrived. */
  heldBefore(seq: number): boolean {
    return this.after(seq - 1) === this.email;
  }

  /** Event `seq` happened while the address was the lead's (on either side of it). */
  heldAround(seq: number): boolean {
    return this.heldBefore(seq) || this.heldAfter(seq);
  }
}

/**
 * The seq an outbox row was queued by: ids are `lead:seq:index:kind` (list erasures have their
 * own). Only meaningful for rows of the lead's current series (contact-outbox.ts).
 */
export function outboxSeq(row: Pick<OutboxTable, 'id' | 'lead_id'>): number | null {
  const rest = row.id.startsWith(`${row.lead_id}:`) ? row.id.slice(row.lead_id.length + 1) : null;
  const seq = rest === null ? NaN : Number(rest.split(':')[0]);
  return Number.isInteger(seq) ? seq : null;
}

/** What the lead holds now for its current contact and company: never the erased person's to replace. */
function currentValues(lead: ContactLeadRow): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' || typeof v === 'number') out.add(String(v).trim().toLowerCase());
  };
  [lead.name, lead.email, lead.phone, lead.company].forEach(add);
  for (const [k, v] of Object.entries(parse(lead.fields))) if (isPersonalKey(k) || isCompanyKey(k)) add(v);
  return out;
}

/**
 * The person's values on an earlier lead: the address, the personal field values the lead had
 * while the address was its email (history's new values after, old values before), and the
 * personal values of the messages queued to the address; minus what the lead holds now, which
 * is its current contact's. `names` are those a company may be whole to be the person.
 */
export function earlierValues(
  lead: ContactLeadRow,
  history: readonly FieldHistoryTable[],
  outbox: readonly OutboxTable[],
  email: string,
): { known: string[]; names: string[] } {
  const periods = new AddressPeriods(history, email);
  const current = currentValues(lead);
  const known = new Set<string>([email]);
  const names = new Set<string>([email]);
  const take = (key: string, v: unknown): void => {
    if (typeof v !== 'string' && typeof v !== 'number') return;
    const s = String(v);
    if (current.has(s.trim().toLowerCase())) return;
    known.add(s);
    if (isPersonNameKey(key)) names.add(s);
  };
  for (const h of history) {
    if (!isPersonalKey(h.field)) continue;
    if (h.new_value !== null && periods.heldAfter(h.seq)) take(h.field, JSON.parse(h.new_value));
    if (h.old_value !== null && periods.heldBefore(h.seq)) take(h.field, JSON.parse(h.old_value));
  }
  for (const o of outbox) {
    if (!quotesAddress(o.payload, email)) continue;
    for (const [k, v] of Object.entries(parse(o.payload))) if (isPersonalKey(k)) take(k, v);
  }
  return { known: [...known], names: [...names] };
}

export interface EarlierErasure {
  cancelled: number;
  erasures: PlannedErasure[];
  /** Kept .eml files of the person's messages there, to delete once the erase has committed. */
  keptFiles: string[];
}

/**
 * Replaces the person's values in an earlier lead's rows: lead fields, close reason and error
 * (the lead's name, email and phone are its current contact's and stay), event payloads, field
 * history, run log, activity notes, outbox. Notes written while the address was the lead's are
 * free text about the person and go. The messages queued to the address are the person's: those
 * not delivered are cancelled, all are pseudonymised like the person's own. A list erasure is
 * planned for every list a message subscribed the address to.
 */
export async function eraseFromEarlierLead(
  tx: Tx,
  lead: ContactLeadRow,
  email: string,
  pseudonym: string,
  now: number,
): Promise<EarlierErasure> {
  const id = lead.id;
  const [history, outbox, events, runLog, activities] = await Promise.all([
    tx.selectFrom('field_history').selectAll().where('lead_id', '=', id).execute(),
    tx
      .selectFrom('outbox')
      .selectAll()
      .where('lead_id', '=', id)
      .execute()
      // Rows of an earlier series are a deleted lead's, whose person is found by their own address.
      .then((rows) => currentSeriesRows(lead, rows)),
    tx.selectFrom('events').select(['seq', 'payload']).where('lead_id', '=', id).execute(),
    tx.selectFrom('run_log').select(['seq', 'idx', 'message', 'inputs']).where('lead_id', '=', id).execute(),
    tx.selectFrom('activities').select(['id', 'seq', 'idx', 'note']).where('lead_id', '=', id).execute(),
  ]);
  const periods = new AddressPeriods(history, email);
  const { known, names } = earlierValues(lead, history, outbox, email);
  const s = new ErasureScrubber(pseudonym, known, names);

  const scrubbed = s.values(parse(lead.fields), false) as Json;
  const fields = JSON.stringify(scrubbed);
  const closeReason = lead.close_reason === null ? null : s.text(lead.close_reason);
  const error = lead.error === null ? null : s.text(lead.error);
  if (fields !== lead.fields || closeReason !== lead.close_reason || error !== lead.error)
    await tx
      .updateTable('leads')
      // A new version, as for the person's own leads: a batch that loaded the old row retries.
      .set((eb) => ({
        fields,
        // The search key reads first_name and last_name, which the erased person's may have been.
        search_key: leadKeys({ ...lead, fields: scrubbed }).search_key,
        close_reason: closeReason,
        error,
        version: eb('version', '+', 1),
        updated_at: updatedAtNoEarlierThan(now),
      }))
      .where('id', '=', id)
      .execute();

  for (const e of events) {
    const payload = JSON.stringify(s.values(parse(e.payload), periods.heldAround(e.seq)));
    if (payload !== e.payload)
      await tx.updateTable('events').set({ payload }).where('lead_id', '=', id).where('seq', '=', e.seq).execute();
  }
  const value = (field: string, v: string | null): string | null => {
    if (v === null) return null;
    const parsed: unknown = JSON.parse(v);
    return JSON.stringify(isCompanyKey(field) ? s.company(parsed) : s.values(parsed, false));
  };
  for (const h of history) {
    const old_value = value(h.field, h.old_value);
    const new_value = value(h.field, h.new_value);
    if (old_value !== h.old_value || new_value !== h.new_value)
      await tx
        .updateTable('field_history')
        .set({ old_value, new_value })
        .where('lead_id', '=', id)
        .where('seq', '=', h.seq)
        .where('idx', '=', h.idx)
        .execute();
  }
  for (const r of runLog) {
    const message = s.text(r.message);
    const inputs = r.inputs === null ? null : JSON.stringify(s.values(parse(r.inputs), false));
    if (message !== r.message || inputs !== r.inputs)
      await tx
        .updateTable('run_log')
        .set({ message, inputs })
        .where('lead_id', '=', id)
        .where('seq', '=', r.seq)
        .where('idx', '=', r.idx)
        .execute();
  }
  // A corrected note was written when it was corrected (activity.updated), maybe while the address was the lead's.
  const corrected = new Map<string, number[]>();
  for (const e of events) {
    const p = parse(e.payload) as { type?: unknown; activity?: unknown };
    if (p.type === 'activity.updated' && typeof p.activity === 'string')
      corrected.set(p.activity, [...(corrected.get(p.activity) ?? []), e.seq]);
  }
  for (const a of activities) {
    if (a.note === null) continue;
    const written = [a.seq, ...(corrected.get(a.id) ?? [])];
    const note = written.some((seq) => periods.heldAround(seq)) ? null : s.text(a.note);
    if (note !== a.note)
      await tx
        .updateTable('activities')
        .set({ note })
        .where('lead_id', '=', id)
        .where('seq', '=', a.seq)
        .where('idx', '=', a.idx)
        .execute();
  }

  const theirs = outbox.filter((o) => quotesAddress(o.payload, email));
  const erasures: PlannedErasure[] = [];
  for (const o of theirs) {
    if (o.kind !== 'list.subscribe' && o.kind !== 'list.unsubscribe') continue;
    const p = parse(o.payload);
    if (typeof p['list'] === 'string') erasures.push(addressErasure(id, p['list'], email));
  }
  const keptFiles: string[] = [];
  for (const o of outbox) {
    const mine = theirs.includes(o);
    const payload = JSON.stringify(mine ? s.json(parse(o.payload), true) : s.values(parse(o.payload), false));
    const kept = mine ? keptFile(o.detail) : null;
    if (kept !== null) keptFiles.push(kept);
    const detail = kept !== null ? KEPT_MAIL_ERASED : o.detail === null ? null : s.text(o.detail);
    const last_error = o.last_error === null ? null : s.text(o.last_error);
    if (payload !== o.payload || detail !== o.detail || last_error !== o.last_error)
      await tx.updateTable('outbox').set({ payload, detail, last_error }).where('id', '=', o.id).execute();
  }
  // After the scrub, so the cancellation's reason is what stays in last_error.
  const cancelled = await cancelUndelivered(
    tx,
    theirs.map((o) => o.id),
    now,
  );
  return { cancelled, erasures, keptFiles };
}
