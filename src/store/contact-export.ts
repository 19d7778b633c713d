import { appendAudit } from './audit.js';
import {
  checkEmail,
  contactLeads,
  contactNotFound,
  deletedLeadMessages,
  earlierContactLeads,
  mentioningLeads,
  quotesAddress,
  type ContactLeadRow,
} from './contact.js';
import { AddressPeriods, outboxSeq } from './contact-earlier.js';
import { keptMessage } from './contact-kept-mail.js';
import { currentContactRows } from './contact-predecessor.js';
import { currentSeriesRows } from './contact-outbox.js';
import { withTransaction, type Store, type Tx } from './db.js';
import { presentActivity, presentLead, presentStay, presentTask, type ExportRow, type ExportValue } from './export.js';
import { contactKeys } from './contact-keys.js';
import type { OutboxTable } from './schema.js';
import { rememberedOptOut } from './opt-outs.js';
import { isSuppressed } from './suppressions.js';

/**
 * A contact's data export (a subject access request): everything Stageflow holds about one
 * person, as one machine-readable JSON document. Lead by lead: the lead's columns and fields, its
 * stage stays, tasks, activities, the event log with payloads, field and owner history, the run
 * log and the outbox rows queued for it; and whether the address is on the suppression list.
 * Also what the person left elsewhere: on leads whose email was their address earlier (now
 * someone else's), the rows from while it was, and the messages to the address; and the messages
 * of deleted leads that quote the address.
 */

export const CONTACT_EXPORT_FORMAT = 'stageflow.contact-export/1';

export type ContactLeadExport = ExportRow & {
  lists: string[];
  stays: ExportRow[];
  tasks: ExportRow[];
  activities: ExportRow[];
  events: ExportRow[];
  field_history: ExportRow[];
  owner_history: ExportRow[];
  run_log: ExportRow[];
  outbox: ExportRow[];
};

/**
 * A lead whose email was the address earlier and is now another person's: only the rows from
 * while the address was its email, and the messages queued to the address, not the lead's
 * current contact's data.
 */
export type EarlierLeadExport = {
  id: string;
  address_held: 'earlier';
  events: ExportRow[];
  field_history: ExportRow[];
  run_log: ExportRow[];
  activities: ExportRow[];
  outbox: ExportRow[];
};

/**
 * Another person's lead that quotes the address (a cc field, the close reason, an activity note):
 * only what quotes it, not the lead's own contact's data.
 */
export type MentioningLeadExport = {
  id: string;
  address_held: 'mentioned';
  /** The lead's fields whose value quotes the address. */
  fields: ExportRow;
  close_reason: string | null;
  events: ExportRow[];
  field_history: ExportRow[];
  run_log: ExportRow[];
  activities: ExportRow[];
  outbox: ExportRow[];
};

export interface ContactExport {
  format: typeof CONTACT_EXPORT_FORMAT;
  email: string;
  exported_at: string;
  suppressed: boolean;
  /** The address's remembered opt-out from marketing mail (store/opt-outs.ts): since when and who asked. */
  opted_out: { at: string; source: string } | null;
  leads: ContactLeadExport[];
  earlier_leads: EarlierLeadExport[];
  mentioning_leads: MentioningLeadExport[];
  /** Messages of deleted leads (kept as delivery history) that quote the address. */
  deleted_lead_messages: ExportRow[];
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const parsed = (text: string | null): ExportRow[string] =>
  text === null ? null : (JSON.parse(text) as ExportRow[string]);

function byLead<T extends { lead_id: string }>(
  rows: readonly T[],
  present: (r: T) => ExportRow,
): Map<string, ExportRow[]> {
  const out = new Map<string, ExportRow[]>();
  for (const r of rows) {
    const list = out.get(r.lead_id) ?? [];
    list.push(present(r));
    out.set(r.lead_id, list);
  }
  return out;
}

/**
 * Every row recorded about the leads, by lead. A lead's outbox rows are those of its current
 * series: a lead created again under a deleted lead's id also holds that lead's messages, another
 * person's (found by their own address, as deleted leads' messages).
 */
async function childRows(tx: Tx, leads: readonly { id: string; state: string }[]) {
  if (leads.length === 0) return null;
  const ids = leads.map((l) => l.id);
  const [stays, tasks, activities, events, fields, owners, runLog, outbox] = await Promise.all([
    tx.selectFrom('stage_stays').selectAll().where('lead_id', 'in', ids).orderBy('lead_id').orderBy('seq').execute(),
    tx
      .selectFrom('tasks')
      .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
      .selectAll('tasks')
      .select('stage_stays.stage')
      .where('tasks.lead_id', 'in', ids)
      .orderBy('tasks.created_at')
      .orderBy('tasks.id')
      .execute(),
    tx
      .selectFrom('activities')
      .leftJoin('stage_stays', 'stage_stays.id', 'activities.stay_id')
      .selectAll('activities')
      .select('stage_stays.stage')
      .where('activities.lead_id', 'in', ids)
      .orderBy('activities.seq')
      .orderBy('activities.idx')
      .execute(),
    tx.selectFrom('events').selectAll().where('lead_id', 'in', ids).orderBy('seq').execute(),
    tx.selectFrom('field_history').selectAll().where('lead_id', 'in', ids).orderBy('seq').orderBy('idx').execute(),
    tx.selectFrom('owner_history').selectAll().where('lead_id', 'in', ids).orderBy('seq').orderBy('idx').execute(),
    tx.selectFrom('run_log').selectAll().where('lead_id', 'in', ids).orderBy('seq').orderBy('idx').execute(),
    tx
      .selectFrom('outbox')
      .selectAll()
      .where('lead_id', 'in', ids)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
      .then((rows) => leads.flatMap((l) => currentSeriesRows(l, rows)))
      .then((rows) => Promise.all(rows.map(withKeptMessage))),
  ]);
  return {
    stays: byLead(stays, presentStay),
    tasks: byLead(tasks, presentTask),
    activities: byLead(activities, presentActivity),
    events: byLead(events, (e) => ({
      seq: e.seq,
      type: e.type,
      at: iso(e.at),
      actor: parsed(e.actor),
      payload: parsed(e.payload),
      process_version: e.process_version,
    })),
    field_history: byLead(fields, (f) => ({
      seq: f.seq,
      idx: f.idx,
      at: iso(f.at),
      field: f.field,
      old_value: parsed(f.old_value),
      new_value: parsed(f.new_value),
    })),
    owner_history: byLead(owners, (o) => ({
      seq: o.seq,
      idx: o.idx,
      at: iso(o.at),
      from_owner: o.from_owner,
      to_owner: o.to_owner,
      reason: o.reason,
      rule: o.rule,
    })),
    run_log: byLead(runLog, (l) => ({
      seq: l.seq,
      idx: l.idx,
      at: iso(l.at),
      kind: l.kind,
      rule: l.rule,
      message: l.message,
      inputs: parsed(l.inputs),
    })),
    outbox: byLead(outbox, (o) => o.presented),
  };
}

/** A message row as exported, with the message it was kept as when SMTP was off (`kept_message`, the .eml text). */
async function withKeptMessage(o: OutboxTable): Promise<{ lead_id: string; presented: ExportRow }> {
  const kept = await keptMessage(o.detail);
  return {
    lead_id: o.lead_id,
    presented: kept === null ? presentOutbox(o) : { ...presentOutbox(o), kept_message: kept },
  };
}

function presentOutbox(o: OutboxTable): ExportRow {
  return {
    id: o.id,
    lead_id: o.lead_id,
    kind: o.kind,
    status: o.status,
    attempts: o.attempts,
    created_at: iso(o.created_at),
    next_attempt_at: iso(o.next_attempt_at),
    last_error: o.last_error,
    last_attempt_at: o.last_attempt_at === null ? null : iso(o.last_attempt_at),
    detail: o.detail,
    payload: parsed(o.payload),
  };
}

/** An earlier lead's rows from while the address was its email (by their seq), and the messages to it. */
async function earlierLeadExports(
  tx: Tx,
  leads: readonly ContactLeadRow[],
  email: string,
): Promise<EarlierLeadExport[]> {
  if (leads.length === 0) return [];
  const ids = leads.map((l) => l.id);
  const [children, history] = await Promise.all([
    childRows(tx, leads),
    tx.selectFrom('field_history').selectAll().where('lead_id', 'in', ids).execute(),
  ]);
  return ids.map((id) => {
    const periods = new AddressPeriods(
      history.filter((h) => h.lead_id === id),
      email,
    );
    const held = (rows: Map<string, ExportRow[]> | undefined): ExportRow[] =>
      (rows?.get(id) ?? []).filter((r) => periods.heldAfter(Number(r['seq'])));
    return {
      id,
      address_held: 'earlier' as const,
      events: held(children?.events),
      field_history: held(children?.field_history),
      run_log: held(children?.run_log),
      activities: held(children?.activities),
      outbox: (children?.outbox.get(id) ?? []).filter((o) => {
        const seq = outboxSeq({ id: String(o['id']), lead_id: id });
        return quotesAddress(JSON.stringify(o['payload']), email) || (seq !== null && periods.heldAfter(seq));
      }),
    };
  });
}

const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Of a JSON value, only what quotes the address (objects and arrays pruned to it), or undefined. */
function quotingPart(v: unknown, email: string): ExportValue | undefined {
  if (Array.isArray(v)) {
    const kept = v.map((x) => quotingPart(x, email)).filter((x) => x !== undefined);
    return kept.length > 0 ? kept : undefined;
  }
  if (isJsonObject(v)) {
    const kept = Object.entries(v)
      .map(([k, x]) => [k, quotingPart(x, email)] as const)
      .filter(([, x]) => x !== undefined);
    return kept.length > 0 ? Object.fromEntries(kept) : undefined;
  }
  return typeof v === 'string' && quotesAddress(v, email) ? v : undefined;
}

/** A row's columns that hold content rather than where and when. */
const CONTENT = new Set(['payload', 'inputs', 'old_value', 'new_value', 'note', 'message', 'detail', 'last_error']);

/** What quotes the address on other people's leads, row by row. */
async function mentioningLeadExports(
  tx: Tx,
  leads: readonly ContactLeadRow[],
  email: string,
): Promise<MentioningLeadExport[]> {
  if (leads.length === 0) return [];
  const children = await childRows(tx, leads);
  // A quoting row keeps its own columns (seq, times, field names), but of its content (an event's
  // payload, a message, a field's old and new value) only the parts that quote the address: the
  // rest is the lead's contact's data (a cc changed to a third person's address), not the person's.
  // A kept message is the lead's contact's mail as a whole, so it is left out.
  const prune = (k: string, v: ExportValue): ExportValue =>
    isJsonObject(v) ? (quotingPart(v, email) ?? {}) : CONTENT.has(k) ? (quotingPart(v, email) ?? null) : v;
  const quoting = (rows: Map<string, ExportRow[]> | undefined, id: string): ExportRow[] =>
    (rows?.get(id) ?? [])
      .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'kept_message')))
      .filter((r) => quotesAddress(JSON.stringify(r), email))
      .map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, prune(k, v)])));
  return leads.map((l) => {
    const fields = JSON.parse(l.fields) as ExportRow;
    return {
      id: l.id,
      address_held: 'mentioned' as const,
      fields: Object.fromEntries(
        Object.entries(fields).filter(([, v]) => quotesAddress(JSON.stringify(v ?? null), email)),
      ),
      close_reason: l.close_reason !== null && quotesAddress(l.close_reason, email) ? l.close_reason : null,
      events: quoting(children?.events, l.id),
      field_history: quoting(children?.field_history, l.id),
      run_log: quoting(children?.run_log, l.id),
      activities: quoting(children?.activities, l.id),
      outbox: quoting(children?.outbox, l.id),
    };
  });
}

/**
 * Reads the contact's data in one transaction, so the document is consistent, and records the
 * request in the audit log (by the address's hash, never the address). An address no lead has
 * and that was never erased nor opted out is refused; an erased one answers with no leads and
 * `suppressed`, one that only opted out with no leads and `opted_out`.
 */
export async function exportContact(store: Store, email: string, actor: string, now: number): Promise<ContactExport> {
  const norm = checkEmail(email);
  return withTransaction(store, async (tx) => {
    const leads = await contactLeads(tx, norm, false);
    const ids = leads.map((l) => l.id);
    const [earlier, orphans, suppressed, optedOut] = await Promise.all([
      earlierContactLeads(tx, norm, ids, false),
      deletedLeadMessages(tx, norm),
      isSuppressed(tx, norm),
      rememberedOptOut(tx, norm),
    ]);
    const earlierIds = earlier.map((l) => l.id);
    const mentioning = await mentioningLeads(tx, norm, [...ids, ...earlierIds], false);
    const holdsNothing = leads.length === 0 && earlier.length === 0 && orphans.length === 0 && mentioning.length === 0;
    if (holdsNothing && !suppressed && !optedOut) throw contactNotFound(norm);
    const [children, history] = await Promise.all([
      childRows(tx, leads),
      ids.length === 0 ? [] : tx.selectFrom('field_history').selectAll().where('lead_id', 'in', ids).execute(),
    ]);
    const of = (m: Map<string, ExportRow[]> | undefined, id: string): ExportRow[] => m?.get(id) ?? [];
    const out: ContactExport = {
      format: CONTACT_EXPORT_FORMAT,
      email: norm,
      exported_at: new Date(now).toISOString(),
      suppressed,
      opted_out: optedOut && { at: new Date(optedOut.at).toISOString(), source: optedOut.source },
      leads: leads.map((l) => {
        // Only the rows from since the address became the lead's: before, it was another person's.
        const theirs = currentContactRows(
          l,
          history.filter((h) => h.lead_id === l.id),
          norm,
          {
            events: of(children?.events, l.id),
            field_history: of(children?.field_history, l.id),
            run_log: of(children?.run_log, l.id),
            activities: of(children?.activities, l.id),
            outbox: of(children?.outbox, l.id),
          },
          (o) => outboxSeq({ id: String(o['id']), lead_id: l.id }),
        );
        return {
          ...presentLead(l),
          lists: (JSON.parse(l.state) as { lists?: string[] }).lists ?? [],
          stays: of(children?.stays, l.id),
          tasks: of(children?.tasks, l.id),
          activities: theirs.activities,
          events: theirs.events,
          field_history: theirs.field_history,
          owner_history: of(children?.owner_history, l.id),
          run_log: theirs.run_log,
          outbox: theirs.outbox,
        };
      }),
      earlier_leads: await earlierLeadExports(tx, earlier, norm),
      mentioning_leads: await mentioningLeadExports(tx, mentioning, norm),
      deleted_lead_messages: (await Promise.all(orphans.map(withKeptMessage))).map((o) => o.presented),
    };
    const hash = (await contactKeys(tx)).hash(norm);
    await appendAudit(
      tx,
      {
        actor,
        action: 'contact.export',
        target: hash,
        details: {
          email_hash: hash,
          leads: ids,
          earlier_leads: earlierIds,
          mentioning_leads: mentioning.map((l) => l.id),
          deleted_lead_messages: orphans.length,
        },
      },
      now,
    );
    return out;
  });
}
