import type { Tx } from './db.js';

/**
 * Forecast snapshots: one row per snapshot and owner, owner '' being the organisation's total.
 * Insert-only: a snapshot is the record of what was forecast at a moment, so nothing here updates
 * or deletes. Money is in minor units; `byCategory` holds the weighted sums per forecast category.
 */

export type SnapshotKind = 'period_start' | 'on_demand';

export interface SnapshotFigures {
  owner: string;
  wonMinor: number;
  weightedMinor: number;
  forecastMinor: number;
  openLeads: number;
  withoutCloseDate: number;
  byCategory: Record<string, number>;
  /** Open leads whose expected_close passed before the period, and their value; null in older snapshots. */
  pastCloseDate: number | null;
  pastCloseValueMinor: number | null;
}

export interface SnapshotHeader {
  snapshotId: string;
  period: string;
  periodFrom: number;
  periodTo: number;
  /** '' for every pipeline. */
  pipeline: string;
  takenAt: number;
  kind: SnapshotKind;
}

export type SnapshotRow = SnapshotHeader & SnapshotFigures;

/**
 * Writes a snapshot's rows. The total row goes first and a second snapshot with the same id is
 * refused by the primary key without error: the caller learns from the result (false) that it
 * already exists, which is how a period's one 'period_start' snapshot stays one under concurrent ticks.
 */
export async function insertSnapshot(
  tx: Tx,
  header: SnapshotHeader,
  rows: readonly SnapshotFigures[],
): Promise<boolean> {
  const values = rows.map((r) => ({
    snapshot_id: header.snapshotId,
    period: header.period,
    period_from: header.periodFrom,
    period_to: header.periodTo,
    pipeline: header.pipeline,
    taken_at: header.takenAt,
    kind: header.kind,
    owner: r.owner,
    won_minor: r.wonMinor,
    weighted_minor: r.weightedMinor,
    forecast_minor: r.forecastMinor,
    open_leads: r.openLeads,
    without_close_date: r.withoutCloseDate,
    by_category: JSON.stringify(r.byCategory),
    past_close_date: r.pastCloseDate,
    past_close_value_minor: r.pastCloseValueMinor,
  }));
  const [total, ...reps] = values;
  if (total === undefined) return false;
  const first = await tx
    .insertInto('forecast_snapshots')
    .values(total)
    .onConflict((oc) => oc.columns(['snapshot_id', 'owner']).doNothing())
    .executeTakeFirst();
  if (Number(first.numInsertedOrUpdatedRows ?? 0) === 0) return false;
  for (let i = 0; i < reps.length; i += 500)
    await tx
      .insertInto('forecast_snapshots')
      .values(reps.slice(i, i + 500))
      .execute();
  return true;
}

type Raw = {
  snapshot_id: string;
  period: string;
  period_from: number;
  period_to: number;
  pipeline: string;
  taken_at: number;
  kind: string;
  owner: string;
  won_minor: number;
  weighted_minor: number;
  forecast_minor: number;
  open_leads: number;
  without_close_date: number;
  by_category: string;
  past_close_date: number | null;
  past_close_value_minor: number | null;
};

function fromRow(r: Raw): SnapshotRow {
  return {
    snapshotId: r.snapshot_id,
    period: r.period,
    periodFrom: Number(r.period_from),
    periodTo: Number(r.period_to),
    pipeline: r.pipeline,
    takenAt: Number(r.taken_at),
    kind: r.kind === 'period_start' ? 'period_start' : 'on_demand',
    owner: r.owner,
    wonMinor: Number(r.won_minor),
    weightedMinor: Number(r.weighted_minor),
    forecastMinor: Number(r.forecast_minor),
    openLeads: Number(r.open_leads),
    withoutCloseDate: Number(r.without_close_date),
    byCategory: JSON.parse(r.by_category) as Record<string, number>,
    pastCloseDate: r.past_close_date === null ? null : Number(r.past_close_date),
    pastCloseValueMinor: r.past_close_value_minor === null ? null : Number(r.past_close_value_minor),
  };
}

/** Every row of the snapshots of these periods (all periods when none given), oldest first, totals first. */
export async function listSnapshots(
  tx: Tx,
  filter: { periods?: readonly string[]; kind?: SnapshotKind; owner?: string } = {},
): Promise<SnapshotRow[]> {
  if (filter.periods !== undefined && filter.periods.length === 0) return [];
  let q = tx.selectFrom('forecast_snapshots').selectAll();
  if (filter.periods !== undefined) q = q.where('period', 'in', filter.periods);
  if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
  if (filter.owner !== undefined) q = q.where('owner', '=', filter.owner);
  const rows = await q.orderBy('period').orderBy('taken_at').orderBy('snapshot_id').orderBy('owner').execute();
  return rows.map(fromRow);
}

/** Whether the period already has a snapshot of this kind (for all pipelines). */
export async function hasSnapshot(tx: Tx, period: string, kind: SnapshotKind): Promise<boolean> {
  const row = await tx
    .selectFrom('forecast_snapshots')
    .select('snapshot_id')
    .where('period', '=', period)
    .where('kind', '=', kind)
    .where('pipeline', '=', '')
    .where('owner', '=', '')
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
