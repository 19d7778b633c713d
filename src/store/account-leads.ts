import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { WORK_TIME_COLUMNS, type LeadRow } from './lead-search.js';

/**
 * The leads of one account (its key, as accounts.ts computes it) within the caller's reach, newest
 * first, a keyset page at a time: created time then id, so leads created in the same millisecond
 * neither repeat nor go missing between pages.
 */

export interface AccountLeadSearch {
  key: string;
  reach: readonly string[] | null;
  status?: 'open' | 'won' | 'lost' | undefined;
  limit: number;
  after?: { createdAt: number; id: string } | undefined;
}

export async function accountLeads(
  db: Tx,
  s: AccountLeadSearch,
): Promise<{ rows: LeadRow[]; next: { createdAt: number; id: string } | null }> {
  // Through leads_company_key, led by the company's key.
  let q = db.selectFrom('leads').selectAll().select(WORK_TIME_COLUMNS).where('company_key', '=', s.key);
  if (s.reach !== null) q = s.reach.length === 0 ? q.where(sql<SqlBool>`1 = 0`) : q.where('owner', 'in', s.reach);
  if (s.status) q = q.where('status', '=', s.status);
  if (s.after) {
    const { createdAt, id } = s.after;
    q = q.where(sql<SqlBool>`(created_at < ${createdAt} or (created_at = ${createdAt} and id < ${id}))`);
  }
  const rows = (await q
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(s.limit + 1)
    .execute()) as LeadRow[];
  const page = rows.slice(0, s.limit);
  const last = page[page.length - 1];
  return {
    rows: page,
    next: rows.length > s.limit && last ? { createdAt: Number(last.created_at), id: last.id } : null,
  };
}
