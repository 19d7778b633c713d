import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { foldCase, nameKey } from '../domain/text-key.js';
import type { Tx } from './db.js';
import type { AccountsTable } from './schema.js';

/**
 * Accounts: one per company that appears on a lead, whoever made the lead (the engine copies the
 * contact's company into `leads.company`, imports write it), merged with the company record an
 * import brought along (Maven's accounts.csv) of the same name. Names match with every letter's
 * case and surrounding spaces ignored: the key is the name folded in JavaScript (domain/text-key.ts
 * nameKey), which the writers keep in `leads.company_key` and `accounts.name_key` (migration 0029)
 * and leads_company_key holds, so a page of accounts reads one index range. A caller limited to
 * some owners sees the accounts with at least one of those owners' leads, with figures over those
 * leads only.
 */

/** The key of a lead's company: the column leads_company_key leads with. */
const leadKey = sql<string>`company_key`;
/** The key of an imported company record. */
const recordKey = sql<string>`name_key`;

/** An account without an imported record is named by its key: `company:acme corp`. */
export const COMPANY_ID_PREFIX = 'company:';

export interface AccountOwner {
  id: string;
  leads: number;
}

export interface AccountFigures {
  leads: number;
  openLeads: number;
  wonLeads: number;
  lostLeads: number;
  /** Sum of the open leads' values, minor units of the organisation's currency. */
  pipelineMinor: number;
  wonMinor: number;
  /** The latest change to any of the leads (epoch ms), null without leads. */
  lastActivityAt: number | null;
  owners: AccountOwner[];
}

export interface Account {
  /** The imported record's id, or `company:` and the key. */
  id: string;
  key: string;
  name: string;
  record: AccountsTable | null;
  figures: AccountFigures;
}

export interface AccountSearch {
  /** The owners whose leads the caller sees; null for all (then imported records without leads show too). */
  reach: readonly string[] | null;
  q?: string | undefined;
  after?: string | undefined;
  limit: number;
}

const NO_FIGURES: AccountFigures = {
  leads: 0,
  openLeads: 0,
  wonLeads: 0,
  lostLeads: 0,
  pipelineMinor: 0,
  wonMinor: 0,
  lastActivityAt: null,
  owners: [],
};

/** A page of accounts by key (the database's order, so cursors agree with it). */
export async function accountPage(db: Tx, s: AccountSearch): Promise<Account[]> {
  const keys = await pageKeys(db, s);
  return accountsOf(db, keys, s.reach);
}

/**
 * One account by id, within reach: null when no such account exists or none of its leads is in
 * reach (an imported record without leads is the admin's only). `company:` ids are matched with
 * case and surrounding spaces ignored, like the names.
 */
export async function findAccount(db: Tx, id: string, reach: readonly string[] | null): Promise<Account | null> {
  const key = await keyOfId(db, id);
  if (key === null) return null;
  const [account] = await accountsOf(db, [key], reach);
  if (!account) return null;
  if (account.figures.leads === 0 && (reach !== null || account.record === null)) return null;
  return account;
}

/** The key an account id names: an imported record's, or the name after `company:`, folded as names are. */
export async function keyOfId(db: Tx, id: string): Promise<string | null> {
  if (id.startsWith(COMPANY_ID_PREFIX)) {
    const k = nameKey(id.slice(COMPANY_ID_PREFIX.length)) ?? '';
    return k === '' ? null : k;
  }
  const row = await db.selectFrom('accounts').select(recordKey.as('k')).where('id', '=', id).executeTakeFirst();
  return row?.k ?? null;
}

function reachFilter(reach: readonly string[] | null): RawBuilder<SqlBool> {
  if (reach === null) return sql<SqlBool>`1 = 1`;
  if (reach.length === 0) return sql<SqlBool>`1 = 0`;
  return sql<SqlBool>`owner in (${sql.join(reach.map((o) => sql`${o}`))})`;
}

function likeOf(q: string | undefined): string | null {
  if (!q) return null;
  return `%${foldCase(q.trim()).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The page's keys: the companies on leads in reach after the cursor, and for an unlimited caller
 * the imported records' too, each side limited before the union so both read an index range.
 */
async function pageKeys(db: Tx, s: AccountSearch): Promise<string[]> {
  const after = s.after ?? '';
  const like = likeOf(s.q);
  const leadSide = sql`select distinct ${leadKey} as k from leads
    where ${leadKey} > ${after} and ${reachFilter(s.reach)}
    ${like === null ? sql`` : sql`and ${leadKey} like ${like} escape '\\'`}
    order by k limit ${s.limit}`;
  if (s.reach !== null) {
    const r = await sql<{ k: string }>`${leadSide}`.execute(db);
    return r.rows.map((row) => row.k);
  }
  const recordSide = sql`select ${recordKey} as k from accounts
    where ${recordKey} > ${after}
    ${like === null ? sql`` : sql`and ${recordKey} like ${like} escape '\\'`}
    order by k limit ${s.limit}`;
  const r = await sql<{ k: string }>`select k from (${leadSide}) as l
    union select k from (${recordSide}) as a order by k limit ${s.limit}`.execute(db);
  return r.rows.map((row) => row.k);
}

interface FigureRow {
  k: string;
  name: string;
  leads: number | string;
  open_leads: number | string;
  won_leads: number | string;
  lost_leads: number | string;
  pipeline_minor: number | string | null;
  won_minor: number | string | null;
  last_at: number | string | null;
}

/** The accounts of these keys, in this order: figures over the leads in reach, owners, the imported record. */
async function accountsOf(db: Tx, keys: readonly string[], reach: readonly string[] | null): Promise<Account[]> {
  if (keys.length === 0) return [];
  const inKeys = sql.join(keys.map((k) => sql`${k}`));
  const [figures, owners, records] = await Promise.all([
    sql<FigureRow>`select ${leadKey} as k, max(trim(company)) as name, count(*) as leads,
        sum(case when status = 'open' then 1 else 0 end) as open_leads,
        sum(case when status = 'won' then 1 else 0 end) as won_leads,
        sum(case when status = 'lost' then 1 else 0 end) as lost_leads,
        sum(case when status = 'open' then value_minor else 0 end) as pipeline_minor,
        sum(case when status = 'won' then value_minor else 0 end) as won_minor,
        max(updated_at) as last_at
      from leads where ${leadKey} in (${inKeys}) and ${reachFilter(reach)} group by ${leadKey}`.execute(db),
    sql<{ k: string; owner: string | null; n: number | string }>`select ${leadKey} as k, owner, count(*) as n
      from leads where ${leadKey} in (${inKeys}) and ${reachFilter(reach)} group by ${leadKey}, owner`.execute(db),
    sql<AccountsTable & { k: string }>`select accounts.*, ${recordKey} as k from accounts
      where ${recordKey} in (${inKeys}) order by id`.execute(db),
  ]);
  const byKey = new Map(figures.rows.map((r) => [r.k, r]));
  const ownersByKey = new Map<string, AccountOwner[]>();
  for (const o of owners.rows) {
    if (o.owner === null) continue;
    const list = ownersByKey.get(o.k) ?? [];
    list.push({ id: o.owner, leads: Number(o.n) });
    ownersByKey.set(o.k, list);
  }
  // Two imported records of one name (different spellings, different imports): the first id is the account.
  const recordByKey = new Map<string, AccountsTable>();
  for (const { k, ...record } of records.rows) if (!recordByKey.has(k)) recordByKey.set(k, record);
  return keys.flatMap((key): Account[] => {
    const f = byKey.get(key);
    const record = recordByKey.get(key) ?? null;
    if (!f && !record) return [];
    const name = record?.name ?? f?.name ?? key;
    return [
      {
        id: record?.id ?? `${COMPANY_ID_PREFIX}${key}`,
        key,
        name,
        record,
        figures: f
          ? {
              leads: Number(f.leads),
              openLeads: Number(f.open_leads),
              wonLeads: Number(f.won_leads),
              lostLeads: Number(f.lost_leads),
              pipelineMinor: Number(f.pipeline_minor ?? 0),
              wonMinor: Number(f.won_minor ?? 0),
              lastActivityAt: f.last_at === null ? null : Number(f.last_at),
              owners: (ownersByKey.get(key) ?? []).sort((a, b) => b.leads - a.leads || (a.id < b.id ? -1 : 1)),
            }
          : NO_FIGURES,
      },
    ];
  });
}
