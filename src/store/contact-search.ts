import { sql, type SqlBool } from 'kysely';
import type { Tx } from './db.js';
import { searchPattern } from './lead-keys.js';

/**
 * Contacts as the API lists them: the people behind leads, one per address (its email_key: case
 * and spaces ignored, as erasure matches them), with the latest name, phone and company any of their leads
 * holds and how many leads they have. Only leads within the caller's reach count.
 */

export interface ContactSummary {
  email: string;
  name: string | null;
  phone: string | null;
  company: string | null;
  leads: number;
  openLeads: number;
  lastActivityAt: number;
}

export async function searchContacts(
  db: Tx,
  s: { q?: string | undefined; reach: readonly string[] | null; limit: number; after?: string | undefined },
): Promise<ContactSummary[]> {
  const key = sql<string>`email_key`;
  let q = db
    .selectFrom('leads')
    .select([
      key.as('email'),
      sql<string | null>`max(name)`.as('name'),
      sql<string | null>`max(phone)`.as('phone'),
      sql<string | null>`max(company)`.as('company'),
      sql<number>`count(*)`.as('leads'),
      sql<number>`sum(case when status = 'open' then 1 else 0 end)`.as('open_leads'),
      sql<number>`max(updated_at)`.as('last_at'),
    ])
    .where('email', 'is not', null)
    .where(sql<SqlBool>`trim(email) <> ''`);
  if (s.reach !== null) q = s.reach.length === 0 ? q.where(sql<SqlBool>`1 = 0`) : q.where('owner', 'in', s.reach);
  const text = s.q?.trim();
  // Name, email, company and the person's "first last" name, folded, as the lead search reads them.
  if (text) q = q.where(sql<SqlBool>`search_key like ${searchPattern(text)} escape '\\'`);
  if (s.after !== undefined) q = q.where(key, '>', s.after);
  const rows = await q.groupBy(key).orderBy(key).limit(s.limit).execute();
  return rows.map((r) => ({
    email: r.email,
    name: r.name,
    phone: r.phone,
    company: r.company,
    leads: Number(r.leads),
    openLeads: Number(r.open_leads),
    lastActivityAt: Number(r.last_at),
  }));
}
