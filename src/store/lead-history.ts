import type { FieldValue } from '../domain/conditions.js';
import type { Actor } from '../domain/events.js';
import type { Tx } from './db.js';

/**
 * A lead's field and owner changes, newest first, as the engine recorded them (field_history and
 * owner_history, with the actor of the event that made each change). Values are read as stored: an
 * erased contact's are already pseudonymised there (docs/privacy.md).
 */

interface ChangeBase {
  seq: number;
  idx: number;
  at: number;
  /** Who sent the event that made the change; null for a change no event records. */
  actor: Actor | null;
}

export interface FieldChange extends ChangeBase {
  kind: 'field';
  field: string;
  from: FieldValue;
  to: FieldValue;
}

export interface OwnerChange extends ChangeBase {
  kind: 'owner';
  from: string | null;
  to: string;
  /** Why: manual, routing, a handover, …; `rule` names the assignment rule that chose the owner. */
  reason: string;
  rule: string | null;
}

export type LeadChange = FieldChange | OwnerChange;

/**
 * The order of the history: event seq, then owner changes after field changes within one event (a
 * field edit re-routes the lead), then each table's own idx; all descending, newest first.
 */
const KIND_RANK = { field: 0, owner: 1 } as const;

export type ChangeKey = readonly [seq: number, kind: number, idx: number];

export function changeKey(c: LeadChange): ChangeKey {
  return [c.seq, KIND_RANK[c.kind], c.idx];
}

function olderThan(a: ChangeKey, b: ChangeKey): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] as number) < (b[i] as number);
  return false;
}

/** Up to `limit` changes older than `before`, newest first: each table read by its key, then merged. */
export async function leadHistory(
  db: Tx,
  lead: string,
  page: { before?: ChangeKey | undefined; limit: number },
): Promise<LeadChange[]> {
  const before = page.before;
  let fq = db
    .selectFrom('field_history as h')
    .leftJoin('events as e', (j) => j.onRef('e.lead_id', '=', 'h.lead_id').onRef('e.seq', '=', 'h.seq'))
    .select(['h.seq', 'h.idx', 'h.at', 'h.field', 'h.old_value', 'h.new_value', 'e.actor'])
    .where('h.lead_id', '=', lead);
  let oq = db
    .selectFrom('owner_history as h')
    .leftJoin('events as e', (j) => j.onRef('e.lead_id', '=', 'h.lead_id').onRef('e.seq', '=', 'h.seq'))
    .select(['h.seq', 'h.idx', 'h.at', 'h.from_owner', 'h.to_owner', 'h.reason', 'h.rule', 'e.actor'])
    .where('h.lead_id', '=', lead);
  if (before !== undefined) {
    // Each table holds one rank: a row is older than the cursor by its seq alone, or, in the
    // cursor's own event, by rank and then idx.
    const [seq, rank, idx] = before;
    fq = fq.where((eb) =>
      rank > KIND_RANK.field
        ? eb('h.seq', '<=', seq)
        : eb.or([eb('h.seq', '<', seq), eb.and([eb('h.seq', '=', seq), eb('h.idx', '<', idx)])]),
    );
    oq = oq.where((eb) =>
      rank < KIND_RANK.owner
        ? eb('h.seq', '<', seq)
        : eb.or([eb('h.seq', '<', seq), eb.and([eb('h.seq', '=', seq), eb('h.idx', '<', idx)])]),
    );
  }
  const [fields, owners] = await Promise.all([
    fq.orderBy('h.seq', 'desc').orderBy('h.idx', 'desc').limit(page.limit).execute(),
    oq.orderBy('h.seq', 'desc').orderBy('h.idx', 'desc').limit(page.limit).execute(),
  ]);
  const changes: LeadChange[] = [
    ...fields.map((r): FieldChange => ({
      kind: 'field',
      seq: r.seq,
      idx: r.idx,
      at: Number(r.at),
      actor: actorOf(r.actor),
      field: r.field,
      from: valueOf(r.old_value),
      to: valueOf(r.new_value),
    })),
    ...owners.map((r): OwnerChange => ({
      kind: 'owner',
      seq: r.seq,
      idx: r.idx,
      at: Number(r.at),
      actor: actorOf(r.actor),
      from: r.from_owner,
      to: r.to_owner,
      reason: r.reason,
      rule: r.rule,
    })),
  ];
  return changes.sort((a, b) => (olderThan(changeKey(a), changeKey(b)) ? 1 : -1)).slice(0, page.limit);
}

function actorOf(raw: string | null): Actor | null {
  return raw === null ? null : (JSON.parse(raw) as Actor);
}

/** Values are stored as JSON text, so 12000 and "12000" stay apart. */
function valueOf(raw: string | null): FieldValue {
  return raw === null ? null : (JSON.parse(raw) as FieldValue);
}
