import { AddressPeriods } from './contact-earlier.js';
import { ErasureScrubber } from './contact-scrub.js';
import type { ContactLeadRow } from './contact.js';
import type { ExportRow } from './export.js';
import { isPersonalKey } from './personal-data.js';
import type { FieldHistoryTable } from './schema.js';

/**
 * A contact's own lead may have been someone else's before the address became its email (a
 * successor at the company took the lead over, a typo was fixed): its rows from then are the
 * previous contact's, and an access request must not hand them out (GDPR Art. 15(4)). The mirror
 * of the earlier leads' rule (contact-earlier.ts), on the same address periods.
 */

/**
 * What a value from before the address became the lead's becomes in the export to it. Neutral: it
 * may be a successor's predecessor or the same person's corrected address; either way it is
 * exported to that address (as an earlier lead), not to this one.
 */
export const BEFORE_THIS_ADDRESS = '(before this address)';

/** The personal values the lead had while the address was not its email, minus those it had while it was, or has now. */
function previousValues(
  lead: ContactLeadRow,
  history: readonly FieldHistoryTable[],
  periods: AddressPeriods,
): string[] {
  const theirs = new Set<string>();
  // As written (the scrubber matches most values as written), keyed without case or spaces.
  const others = new Map<string, string>();
  const key = (v: string | number): string => String(v).trim().toLowerCase();
  const add = (held: boolean, json: string | null): void => {
    if (json === null) return;
    const v: unknown = JSON.parse(json);
    if (typeof v !== 'string' && typeof v !== 'number') return;
    if (held) theirs.add(key(v));
    else others.set(key(v), String(v));
  };
  for (const h of history) {
    if (!isPersonalKey(h.field)) continue;
    add(periods.heldAfter(h.seq), h.new_value);
    add(periods.heldBefore(h.seq), h.old_value);
  }
  for (const v of [lead.name, lead.email, lead.phone]) if (v !== null) theirs.add(key(v));
  for (const [k, v] of Object.entries(JSON.parse(lead.fields) as Record<string, unknown>))
    if (isPersonalKey(k) && (typeof v === 'string' || typeof v === 'number')) theirs.add(key(v));
  return [...others].filter(([k]) => !theirs.has(k)).map(([, v]) => v);
}

export interface CurrentContactRows {
  events: ExportRow[];
  field_history: ExportRow[];
  run_log: ExportRow[];
  activities: ExportRow[];
  outbox: ExportRow[];
}

/**
 * Of the lead's rows, those from after the address became its email (rows are placed by their
 * event's seq; a message by the seq that queued it, `seqOf`), with the previous contact's personal
 * values in them (an unsubscribe of the old address, a field's old value) replaced by
 * BEFORE_THIS_ADDRESS. A lead that always had the address is returned as it is.
 */
export function currentContactRows(
  lead: ContactLeadRow,
  history: readonly FieldHistoryTable[],
  email: string,
  rows: CurrentContactRows,
  seqOf: (outboxRow: ExportRow) => number | null,
): CurrentContactRows {
  const periods = new AddressPeriods(history, email, lead.email);
  const previous = previousValues(lead, history, periods);
  const scrubber = new ErasureScrubber(BEFORE_THIS_ADDRESS, previous, []);
  const held = (r: ExportRow, seq: number | null): boolean => seq === null || periods.heldAfter(seq);
  const keep = (list: ExportRow[], seq: (r: ExportRow) => number | null): ExportRow[] =>
    list
      .filter((r) => held(r, seq(r)))
      .map((r) => (previous.length === 0 ? r : (scrubber.values(r, false) as ExportRow)));
  const bySeq = (r: ExportRow): number => Number(r['seq']);
  return {
    events: keep(rows.events, bySeq),
    field_history: keep(rows.field_history, bySeq),
    run_log: keep(rows.run_log, bySeq),
    activities: keep(rows.activities, bySeq),
    outbox: keep(rows.outbox, seqOf),
  };
}
