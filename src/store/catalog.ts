import { sql } from 'kysely';
import { nameKey } from '../domain/text-key.js';
import type { Tx } from './db.js';
import type { AccountsTable, ProductsTable } from './schema.js';

/** Companies and products that exports bring along, upserted by name. */

/** An imported company record: its key is the store's to fold (nameKey), as for a lead's company. */
export type AccountRecord = Omit<AccountsTable, 'name_key'>;

export async function upsertAccounts(tx: Tx, records: readonly AccountRecord[]): Promise<void> {
  const rows = records.map((r): AccountsTable => ({ ...r, name_key: nameKey(r.name) ?? '' }));
  for (let i = 0; i < rows.length; i += 1000)
    await tx
      .insertInto('accounts')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          sector: sql`excluded.sector`,
          year_established: sql`excluded.year_established`,
          revenue_minor: sql`excluded.revenue_minor`,
          employees: sql`excluded.employees`,
          location: sql`excluded.location`,
          parent: sql`excluded.parent`,
          import_source: sql`excluded.import_source`,
          updated_at: sql`excluded.updated_at`,
        }),
      )
      .execute();
}

export async function upsertProducts(tx: Tx, rows: readonly ProductsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 1000)
    await tx
      .insertInto('products')
      .values(rows.slice(i, i + 1000))
      .onConflict((oc) =>
        oc.column('name').doUpdateSet({
          series: sql`excluded.series`,
          list_price_minor: sql`excluded.list_price_minor`,
          import_source: sql`excluded.import_source`,
          updated_at: sql`excluded.updated_at`,
        }),
      )
      .execute();
}
