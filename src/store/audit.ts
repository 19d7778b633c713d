import { randomUUID } from 'node:crypto';
import type { Tx } from './db.js';

/**
 * The audit log: append-only rows of who did what to which record. Callers pass details that are
 * safe to keep forever: never a password, token or secret, and for personal data only ids.
 */

export interface AuditEntry {
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
}

export async function appendAudit(tx: Tx, entry: AuditEntry, at: number): Promise<void> {
  await tx
    .insertInto('audit_log')
    .values({
      id: randomUUID(),
      at,
      actor: entry.actor,
      action: entry.action,
      target: entry.target,
      details: JSON.stringify(entry.details),
    })
    .execute();
}

export interface AuditRow extends AuditEntry {
  id: string;
  at: number;
}

export async function listAudit(
  tx: Tx,
  filter: {
    action?: string;
    target?: string;
    limit?: number;
    /** Keyset position: rows after this one in the list's order (newest first, then id). */
    after?: { at: number; id: string } | undefined;
  } = {},
): Promise<AuditRow[]> {
  let q = tx.selectFrom('audit_log').selectAll();
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.target) q = q.where('target', '=', filter.target);
  const after = filter.after;
  if (after)
    q = q.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '>', after.id)])]));
  const rows = await q
    .orderBy('at', 'desc')
    .orderBy('id')
    .limit(filter.limit ?? 100)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
  }));
}
