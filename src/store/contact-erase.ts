import { appendAudit } from './audit.js';
import {
  checkEmail,
  contactLeads,
  contactNotFound,
  deletedLeadMessages,
  earlierContactLeads,
  mentioningLeads,
  type ContactLeadRow,
} from './contact.js';
import { eraseFromEarlierLead } from './contact-earlier.js';
import { deleteKeptFiles, keptFile, KEPT_MAIL_ERASED } from './contact-kept-mail.js';
import {
  addressErasure,
  cancelUndelivered,
  currentSeriesRows,
  LIST_ERASE,
  type ListErasure,
  type PlannedErasure,
} from './contact-outbox.js';
import { ErasureScrubber, isPersonNameKey } from './contact-scrub.js';
import { withTransaction, type Store, type Tx } from './db.js';
import { contactKeys } from './contact-keys.js';
import { isCompanyKey, isPersonalKey, isPseudonym } from './personal-data.js';
import { leadKeys } from './lead-keys.js';
import { updatedAtNoEarlierThan } from './leads.js';
import type { OutboxTable } from './schema.js';
import { rememberedOptOut } from './opt-outs.js';
import { isSuppressed, suppress } from './suppressions.js';

/**
 * Erasing a contact (a right-to-erasure request), in one transaction: the person's data in every
 * lead with their address is pseudonymised, wherever Stageflow copied it (lead row and fields,
 * event payloads, field history, run log, outbox payloads; activity notes are dropped); their
 * values are replaced in the rows of leads that had their address earlier (contact-earlier.ts)
 * and in deleted leads' messages to the address; their undelivered effects are cancelled; a
 * permanent delete is queued for every mailing list they were put on; and the address's hash is
 * suppressed so automation never writes to it again.
 * Business figures (value, stages, owner, dates, tasks) stay, so reports do not change.
 * docs/privacy.md says exactly what changes.
 */

export { LIST_ERASE, type ListErasure };

export interface EraseResult {
  emailHash: string;
  pseudonym: string;
  /** Leads pseudonymised by this call. */
  leads: string[];
  /** Leads whose email was the address earlier and is now someone else's: the person's values replaced there. */
  earlierLeads: string[];
  /** Other people's leads that quoted the address (a field, the close reason, a note): the person's values replaced there. */
  mentioningLeads: string[];
  /** Messages of deleted leads that quoted the address, now pseudonymised. */
  deletedLeadMessages: number;
  /** Undelivered outbox rows of the person (on all those leads) now cancelled. */
  cancelled: number;
  /** `list.erase` rows queued by this call (none when an earlier erase already queued them). */
  listErasures: ListErasure[];
  /** No lead had the address any more, and it was already suppressed: nothing was left to do. */
  alreadyErased: boolean;
  /** Kept .eml files (mail written to MAIL_DIR while SMTP was off) of the person's messages, deleted. */
  keptFiles: number;
  /** Kept files that could not be deleted, each with the reason: still on disk, to delete by hand. */
  keptFilesLeft: string[];
}

type Json = Record<string, unknown>;
const parse = (text: string): Json => JSON.parse(text) as Json;

/**
 * Every personal value of the contact that Stageflow may have copied into free text (`known`),
 * and those a company may be whole to be the person (`names`: addresses and name fields of the
 * person, not a lead's `name`, which is often the deal's title and its company's name).
 */
function knownValues(
  email: string,
  leads: readonly ContactLeadRow[],
  history: readonly { field: string; old_value: string | null; new_value: string | null }[],
  outbox: readonly OutboxTable[],
): { known: Set<string>; names: Set<string> } {
  const known = new Set<string>([email]);
  const names = new Set<string>([email]);
  const add = (key: string, v: unknown): void => {
    if (typeof v !== 'string' && typeof v !== 'number') return;
    known.add(String(v));
    if (isPersonNameKey(key) || (typeof v === 'string' && v.includes('@'))) names.add(String(v));
  };
  const addPersonal = (obj: Json): void => {
    for (const [k, v] of Object.entries(obj)) if (isPersonalKey(k)) add(k, v);
  };
  for (const l of leads) {
    add('name', l.name);
    add('email', l.email);
    add('phone', l.phone);
    addPersonal(parse(l.fields));
  }
  // Earlier values too: an address corrected last month is still the person's.
  for (const h of history)
    if (isPersonalKey(h.field)) for (const v of [h.old_value, h.new_value]) if (v !== null) add(h.field, JSON.parse(v));
  for (const o of outbox) addPersonal(parse(o.payload));
  return { known, names };
}

/**
 * One permanent delete per lead and list the contact was put on: the lists the lead is on now,
 * and every list a subscribe or unsubscribe was ever queued for (an unsubscribed member is still
 * kept by Mailchimp). Each carries the subscriber hash of the address that was used, never the
 * address; the id is the idempotency key, so a second erase queues nothing new. Planned from the
 * person's own rows only (`outbox` holds their leads' current series and the deleted leads'
 * messages that quote the address), so another person on the same lead id is never erased.
 */
function listErasures(
  email: string,
  leads: readonly ContactLeadRow[],
  outbox: readonly OutboxTable[],
): PlannedErasure[] {
  const out = new Map<string, PlannedErasure>();
  const add = (lead: string, list: string, address: string): void => {
    const planned = addressErasure(lead, list, address);
    out.set(planned.row.id, planned);
  };
  for (const l of leads) {
    const lists = (parse(l.state)['lists'] as string[] | undefined) ?? [];
    for (const list of lists) add(l.id, list, email);
  }
  for (const o of outbox) {
    if (o.kind !== 'list.subscribe' && o.kind !== 'list.unsubscribe') continue;
    const p = parse(o.payload);
    // A row an earlier erase pseudonymised is that person's, whose own erasure is queued already.
    if (typeof p['list'] === 'string' && typeof p['email'] === 'string' && !isPseudonym(p['email']))
      add(o.lead_id, p['list'], p['email'].trim().toLowerCase());
  }
  return [...out.values()];
}

async function pseudonymiseLeads(
  tx: Tx,
  leads: readonly ContactLeadRow[],
  s: ErasureScrubber,
  now: number,
): Promise<void> {
  for (const l of leads) {
    const state = parse(l.state);
    // The member is deleted from every list below; automation must not think the lead is still on one.
    state['lists'] = [];
    if (Array.isArray(state['tasks'])) state['tasks'] = state['tasks'].map((t: unknown) => personalTaskScrubbed(t, s));
    const contact = {
      name: l.name === null ? null : s.pseudonym,
      email: null,
      company: l.company === null ? null : String(s.company(l.company)),
      fields: s.liveFields(parse(l.fields)),
    };
    await tx
      .updateTable('leads')
      .set((eb) => ({
        ...contact,
        phone: null,
        fields: JSON.stringify(contact.fields),
        // Found by what it holds now: the erased name and address leave the search key too.
        ...leadKeys(contact),
        state: JSON.stringify(state),
        close_reason: l.close_reason === null ? null : s.reason(l.close_reason),
        error: l.error === null ? null : s.text(l.error),
        // A new version: an engine batch that loaded the lead before this erase loses its race
        // and decides again on the erased row, instead of writing the old fields back.
        version: eb('version', '+', 1),
        updated_at: updatedAtNoEarlierThan(now),
      }))
      .where('id', '=', l.id)
      .execute();
  }
}

/**
 * A task a person added was written by them about the person ("Call Jane back", a note): its
 * title loses the person's values and its note goes, as an activity's note. A stage's task is the
 * process's text.
 */
function personalTaskScrubbed(t: unknown, s: ErasureScrubber): unknown {
  if (t === null || typeof t !== 'object' || (t as { adHoc?: unknown }).adHoc !== true) return t;
  const task = t as { title?: unknown };
  return { ...task, title: typeof task.title === 'string' ? s.text(task.title) : task.title, note: null };
}

async function scrubPersonalTasks(tx: Tx, ids: readonly string[], s: ErasureScrubber): Promise<void> {
  const rows = await tx
    .selectFrom('tasks')
    .select(['id', 'title'])
    .where('lead_id', 'in', ids)
    .where('ad_hoc', '=', 1)
    .execute();
  for (const r of rows)
    await tx
      .updateTable('tasks')
      .set({ title: s.text(r.title), note: null })
      .where('id', '=', r.id)
      .execute();
}

async function scrubEvents(tx: Tx, ids: readonly string[], s: ErasureScrubber): Promise<void> {
  const rows = await tx
    .selectFrom('events')
    .select(['lead_id', 'seq', 'payload'])
    .where('lead_id', 'in', ids)
    .execute();
  for (const r of rows) {
    const payload = JSON.stringify(s.json(parse(r.payload), false));
    if (payload !== r.payload)
      await tx
        .updateTable('events')
        .set({ payload })
        .where('lead_id', '=', r.lead_id)
        .where('seq', '=', r.seq)
        .execute();
  }
}

async function scrubFieldHistory(
  tx: Tx,
  rows: readonly {
    lead_id: string;
    seq: number;
    idx: number;
    field: string;
    old_value: string | null;
    new_value: string | null;
  }[],
  s: ErasureScrubber,
): Promise<void> {
  // A personal field's values are replaced whole, keeping whether it was set; the company is kept;
  // other values only lose known text.
  const scrub = (field: string, v: string | null): string | null => {
    if (v === null) return null;
    const value: unknown = JSON.parse(v);
    if (isCompanyKey(field)) return JSON.stringify(s.company(value));
    return JSON.stringify(isPersonalKey(field) ? s.historyValue(value) : s.json(value, false));
  };
  for (const r of rows) {
    const old_value = scrub(r.field, r.old_value);
    const new_value = scrub(r.field, r.new_value);
    if (old_value !== r.old_value || new_value !== r.new_value)
      await tx
        .updateTable('field_history')
        .set({ old_value, new_value })
        .where('lead_id', '=', r.lead_id)
        .where('seq', '=', r.seq)
        .where('idx', '=', r.idx)
        .execute();
  }
}

async function scrubRunLog(tx: Tx, ids: readonly string[], s: ErasureScrubber): Promise<void> {
  const rows = await tx
    .selectFrom('run_log')
    .select(['lead_id', 'seq', 'idx', 'message', 'inputs'])
    .where('lead_id', 'in', ids)
    .execute();
  for (const r of rows) {
    const message = s.text(r.message);
    const inputs = r.inputs === null ? null : JSON.stringify(s.json(parse(r.inputs), false));
    if (message !== r.message || inputs !== r.inputs)
      await tx
        .updateTable('run_log')
        .set({ message, inputs })
        .where('lead_id', '=', r.lead_id)
        .where('seq', '=', r.seq)
        .where('idx', '=', r.idx)
        .execute();
  }
}

/**
 * Forgets the API's stored answers (kept 25 hours so a retried request gets the same one) that
 * quote the contact's address: a replay after the erase would hand their data back. Only their
 * address marks an answer as theirs (a lead's answer carries its contact's email); a name or a
 * deal title may be another customer's too, whose retries must still be answered. Such a request,
 * retried, runs again.
 */
async function forgetStoredAnswers(tx: Tx, s: ErasureScrubber): Promise<number> {
  const rows = await tx.selectFrom('idempotency_keys').select(['scope', 'key', 'body', 'headers']).execute();
  const quoting = rows.filter(
    (r) => (r.body !== null && s.quotesAddress(r.body)) || (r.headers !== null && s.quotesAddress(r.headers)),
  );
  for (const r of quoting)
    await tx.deleteFrom('idempotency_keys').where('scope', '=', r.scope).where('key', '=', r.key).execute();
  return quoting.length;
}

/**
 * Scrubs every payload of the person's rows (their leads' current series and the deleted leads'
 * messages to the address), delivered ones included, then cancels what was not delivered yet.
 * A kept message's detail says its file is gone; the files are returned, to delete once the
 * transaction has committed.
 */
async function settleOutbox(
  tx: Tx,
  rows: readonly OutboxTable[],
  s: ErasureScrubber,
  now: number,
): Promise<{ cancelled: number; keptFiles: string[] }> {
  const keptFiles: string[] = [];
  for (const r of rows) {
    const kept = keptFile(r.detail);
    if (kept !== null) keptFiles.push(kept);
    // An SMTP refusal or a far side's answer can quote the address, so these are scrubbed too.
    const scrubbed = {
      payload: JSON.stringify(s.json(parse(r.payload), true)),
      detail: kept !== null ? KEPT_MAIL_ERASED : r.detail === null ? null : s.text(r.detail),
      last_error: r.last_error === null ? null : s.text(r.last_error),
    };
    if (scrubbed.payload !== r.payload || scrubbed.detail !== r.detail || scrubbed.last_error !== r.last_error)
      await tx.updateTable('outbox').set(scrubbed).where('id', '=', r.id).execute();
  }
  // After the scrub, so the cancellation's reason is what stays in last_error.
  const cancelled = await cancelUndelivered(
    tx,
    rows.map((r) => r.id),
    now,
  );
  return { cancelled, keptFiles };
}

/** Which erasure a row is: its lead, list and hash (rows queued before the hash was in every id had `erase:<lead>:<list>`). */
const erasureKey = (lead: string, list: unknown, hash: unknown): string => JSON.stringify([lead, list, hash]);

async function queueListErasures(tx: Tx, planned: readonly PlannedErasure[], now: number): Promise<ListErasure[]> {
  // One row per id: two subscribes of one lead to one list plan the same erasure.
  const erasures = [...new Map(planned.map((e) => [e.row.id, e])).values()];
  if (erasures.length === 0) return [];
  const existing = await tx
    .selectFrom('outbox')
    .select(['lead_id', 'payload'])
    .where('kind', '=', LIST_ERASE)
    .where('lead_id', 'in', [...new Set(erasures.map((e) => e.row.lead))])
    .execute();
  const taken = new Set(
    existing.map((e) => {
      const p = parse(e.payload);
      return erasureKey(e.lead_id, p['list'], p['email_hash']);
    }),
  );
  const fresh = erasures.filter((e) => !taken.has(erasureKey(e.row.lead, e.row.list, e.hash)));
  if (fresh.length === 0) return [];
  await tx
    .insertInto('outbox')
    .values(
      fresh.map(({ row, hash }) => ({
        id: row.id,
        lead_id: row.lead,
        kind: LIST_ERASE,
        payload: JSON.stringify({ lead: row.lead, list: row.list, email_hash: hash }),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
        last_error: null,
        last_attempt_at: null,
        detail: null,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return fresh.map((e) => e.row);
}

/**
 * Erases the contact with this address. Erasing an address the database holds nothing of and
 * that was never erased is refused (a typo must not look like success); erasing again is
 * harmless: it finds nothing, queues nothing and records the request.
 */
export async function eraseContact(store: Store, email: string, actor: string, now: number): Promise<EraseResult> {
  const norm = checkEmail(email);
  const { result, keptFiles } = await eraseInTransaction(store, norm, actor, now);
  // Only once the erase has committed: a rolled-back erase keeps its rows, and so its files.
  return { ...result, keptFiles: keptFiles.length, keptFilesLeft: await deleteKeptFiles(keptFiles) };
}

async function eraseInTransaction(
  store: Store,
  norm: string,
  actor: string,
  now: number,
): Promise<{ result: Omit<EraseResult, 'keptFiles' | 'keptFilesLeft'>; keptFiles: string[] }> {
  return withTransaction(store, async (tx) => {
    const keys = await contactKeys(tx);
    const hash = keys.hash(norm);
    const pseudonym = keys.pseudonym(norm);
    const lock = store.dialect === 'postgres';
    const leads = await contactLeads(tx, norm, lock);
    const ids = leads.map((l) => l.id);
    const [earlier, orphans, wasSuppressed, optedOut] = await Promise.all([
      earlierContactLeads(tx, norm, ids, lock),
      deletedLeadMessages(tx, norm),
      isSuppressed(tx, norm),
      rememberedOptOut(tx, norm),
    ]);
    const mentioning = await mentioningLeads(tx, norm, [...ids, ...earlier.map((l) => l.id)], lock);
    const holdsNothing = leads.length === 0 && earlier.length === 0 && orphans.length === 0 && mentioning.length === 0;
    // An address known only by its remembered opt-out is erased too: suppressed from then on. The
    // opt-out itself stays (a keyed hash, no personal data in clear), as the suppression does.
    if (holdsNothing && !wasSuppressed && optedOut === null) throw contactNotFound(norm);
    let cancelled = 0;
    let erasures: PlannedErasure[] = [];
    const keptFiles: string[] = [];
    if (ids.length > 0 || orphans.length > 0) {
      const [history, outbox] =
        ids.length === 0
          ? [[], []]
          : await Promise.all([
              tx.selectFrom('field_history').selectAll().where('lead_id', 'in', ids).execute(),
              tx.selectFrom('outbox').selectAll().where('lead_id', 'in', ids).execute(),
            ]);
      // A lead created again under a deleted lead's id holds that lead's messages too, another
      // person's: only its current series is this contact's (the others are found by their address).
      const own = leads.flatMap((l) => currentSeriesRows(l, outbox));
      const rows = [...own, ...orphans];
      const { known, names } = knownValues(norm, leads, history, rows);
      const scrubber = new ErasureScrubber(pseudonym, known, names);
      // Lists are read before the payloads that name them are scrubbed.
      erasures = listErasures(norm, leads, rows);
      await pseudonymiseLeads(tx, leads, scrubber, now);
      if (ids.length > 0) {
        await scrubEvents(tx, ids, scrubber);
        await scrubFieldHistory(tx, history, scrubber);
        await scrubRunLog(tx, ids, scrubber);
        await tx.updateTable('activities').set({ note: null }).where('lead_id', 'in', ids).execute();
        await scrubPersonalTasks(tx, ids, scrubber);
      }
      const settled = await settleOutbox(tx, rows, scrubber, now);
      cancelled = settled.cancelled;
      keptFiles.push(...settled.keptFiles);
      await forgetStoredAnswers(tx, scrubber);
    } else if (earlier.length > 0 || mentioning.length > 0) {
      // A stored answer about an earlier or another lead can quote the address too.
      await forgetStoredAnswers(tx, new ErasureScrubber(pseudonym, [norm], [norm]));
    }
    // Another person's lead that quotes the address (a cc field, a note) is scrubbed as an earlier
    // lead is: only the person's values go, the lead's own contact stays.
    for (const lead of [...earlier, ...mentioning]) {
      const done = await eraseFromEarlierLead(tx, lead, norm, pseudonym, now);
      cancelled += done.cancelled;
      erasures.push(...done.erasures);
      keptFiles.push(...done.keptFiles);
    }
    const queued = await queueListErasures(tx, erasures, now);
    await suppress(tx, hash, 'erased', now);
    const earlierIds = earlier.map((l) => l.id);
    const mentioningIds = mentioning.map((l) => l.id);
    await appendAudit(
      tx,
      {
        actor,
        action: 'contact.erase',
        target: hash,
        details: {
          email_hash: hash,
          leads: ids,
          earlier_leads: earlierIds,
          mentioning_leads: mentioningIds,
          deleted_lead_messages: orphans.length,
          cancelled,
          list_erasures: queued.map((q) => q.id),
          kept_files: keptFiles.length,
          already_erased: holdsNothing && wasSuppressed,
        },
      },
      now,
    );
    const result = {
      emailHash: hash,
      pseudonym,
      leads: ids,
      earlierLeads: earlierIds,
      mentioningLeads: mentioningIds,
      deletedLeadMessages: orphans.length,
      cancelled,
      listErasures: queued,
      alreadyErased: holdsNothing && wasSuppressed,
    };
    return { result, keptFiles };
  });
}
