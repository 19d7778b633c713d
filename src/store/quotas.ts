import { appendAudit } from './audit.js';
import type { Tx } from './db.js';

/**
 * Quotas: one amount (minor units) per rep or team and period key (2026-11, 2026-Q4). Setting a
 * quota again replaces it: a quota is a target, not history.
 */

export type QuotaScope = 'user' | 'team';

export interface Quota {
  scope: QuotaScope;
  subject: string;
  period: string;
  amountMinor: number;
  setBy: string | null;
  setAt: number;
}

export type QuotaInput = Omit<Quota, 'setAt'>;

export async function setQuota(tx: Tx, quota: QuotaInput, at: number): Promise<void> {
  await setQuotas(tx, [quota], at);
}

/**
 * A quota set by someone, with its audit row (the amount before and after) in the same
 * transaction: the CLI and the API both go through here, so no quota changes unrecorded.
 */
export async function setQuotaAudited(tx: Tx, quota: QuotaInput, at: number): Promise<void> {
  const before = await tx
    .selectFrom('quotas')
    .select('amount_minor')
    .where('scope', '=', quota.scope)
    .where('subject', '=', quota.subject)
    .where('period', '=', quota.period)
    .executeTakeFirst();
  await setQuota(tx, quota, at);
  await appendAudit(
    tx,
    {
      actor: quota.setBy ?? 'unknown',
      action: 'quota.set',
      target: `${quota.scope}:${quota.subject}:${quota.period}`,
      details: {
        scope: quota.scope,
        subject: quota.subject,
        period: quota.period,
        amount: quota.amountMinor / 100,
        previous: before ? Number(before.amount_minor) / 100 : null,
      },
    },
    at,
  );
}

/** A file of quotas, all or nothing, recorded as one audit row. */
export async function importQuotasAudited(
  tx: Tx,
  quotas: readonly QuotaInput[],
  by: string | null,
  at: number,
): Promise<void> {
  await setQuotas(tx, quotas, at);
  await appendAudit(
    tx,
    {
      actor: by ?? 'unknown',
      action: 'quota.import',
      target: null,
      details: { quotas: quotas.length, periods: [...new Set(quotas.map((q) => q.period))].sort() },
    },
    at,
  );
}

/** Writes several quotas in one statement (the caller's transaction makes a file import all-or-nothing). */
export async function setQuotas(tx: Tx, quotas: readonly QuotaInput[], at: number): Promise<void> {
  // Chunks keep a large file under SQLite's limit on bound parameters.
  for (let i = 0; i < quotas.length; i += 500) await upsert(tx, quotas.slice(i, i + 500), at);
}

async function upsert(tx: Tx, quotas: readonly QuotaInput[], at: number): Promise<void> {
  await tx
    .insertInto('quotas')
    .values(
      quotas.map((q) => ({
        scope: q.scope,
        subject: q.subject,
        period: q.period,
        amount_minor: q.amountMinor,
        set_by: q.setBy,
        set_at: at,
      })),
    )
    .onConflict((oc) =>
      oc.columns(['scope', 'subject', 'period']).doUpdateSet((eb) => ({
        amount_minor: eb.ref('excluded.amount_minor'),
        set_by: eb.ref('excluded.set_by'),
        set_at: eb.ref('excluded.set_at'),
      })),
    )
    .execute();
}

export async function listQuotas(tx: Tx, filter: { period?: string; scope?: QuotaScope } = {}): Promise<Quota[]> {
  let q = tx.selectFrom('quotas').selectAll();
  if (filter.period !== undefined) q = q.where('period', '=', filter.period);
  if (filter.scope !== undefined) q = q.where('scope', '=', filter.scope);
  const rows = await q.orderBy('period').orderBy('scope').orderBy('subject').execute();
  return rows.map((r) => ({
    scope: r.scope === 'team' ? 'team' : 'user',
    subject: r.subject,
    period: r.period,
    amountMinor: Number(r.amount_minor),
    setBy: r.set_by,
    setAt: Number(r.set_at),
  }));
}
