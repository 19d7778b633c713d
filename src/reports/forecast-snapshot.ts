import { randomUUID } from 'node:crypto';
import { withTransaction, type Store } from '../store/db.js';
import {
  hasSnapshot,
  insertSnapshot,
  type SnapshotFigures,
  type SnapshotHeader,
  type SnapshotKind,
} from '../store/forecast-snapshots.js';
import { latestProcess } from '../store/processes.js';
import { computeForecast, type ForecastFigures } from './forecast-model.js';
import { periodOfKey } from './period.js';

/**
 * Records the forecast of a period (METRICS.md §5 "Snapshot"): the organisation's total (owner '')
 * and one row per rep, every user of the process included (a rep with nothing forecast gets
 * zeros, so a later accuracy check sees F = 0 rather than "no snapshot"). All pipelines.
 * A 'period_start' snapshot has the id `period_start:KEY`, so the primary key keeps it to one per
 * period even when two ticks race; on-demand snapshots are as many as asked for.
 */

export class SnapshotError extends Error {}

export interface SnapshotResult {
  /** False when the period already had its 'period_start' snapshot (nothing was written). */
  taken: boolean;
  header: SnapshotHeader;
  rows: SnapshotFigures[];
}

export async function takeForecastSnapshot(
  store: Store,
  periodKey: string,
  kind: SnapshotKind,
  at: number,
): Promise<SnapshotResult> {
  const current = await latestProcess(store.db);
  if (!current) throw new SnapshotError('no process has been applied yet: run `stageflow process apply FILE` first');
  const process = current.process;
  const period = periodOfKey(periodKey, process.organisation.timezone);
  if (!period) throw new SnapshotError(`"${periodKey}" is not a period key (a month 2026-11 or a quarter 2026-Q4)`);
  const header: SnapshotHeader = {
    snapshotId: kind === 'period_start' ? `period_start:${periodKey}` : `on_demand:${periodKey}:${at}:${randomUUID()}`,
    period: periodKey,
    periodFrom: period.from,
    periodTo: period.to,
    pipeline: '',
    takenAt: at,
    kind,
  };
  return withTransaction(store, async (tx) => {
    if (kind === 'period_start' && (await hasSnapshot(tx, periodKey, 'period_start')))
      return { taken: false, header, rows: [] };
    const scope = {
      dialect: store.dialect,
      from: period.from,
      to: period.to,
      by: 'owner' as const,
      pipeline: null,
      buckets: [],
      teams: [],
      owners: null,
    };
    const f = await computeForecast(tx, scope, process, at);
    const byOwner = new Map(f.groups.filter((g) => g.key !== '').map((g) => [g.key, g]));
    const owners = [...new Set([...process.users.map((u) => u.id), ...byOwner.keys()])].sort();
    const rows = [
      figures('', f.total),
      ...owners.map((o) => {
        const g = byOwner.get(o);
        return g ? figures(o, g) : zero(o);
      }),
    ];
    const taken = await insertSnapshot(tx, header, rows);
    return { taken, header, rows: taken ? rows : [] };
  });
}

function figures(owner: string, f: ForecastFigures): SnapshotFigures {
  // Whole minor units already (each lead's weighted value is rounded to the cent); the rounding
  // here only keeps a float's noise out of an integer column.
  return {
    owner,
    wonMinor: Math.round(f.wonMinor),
    weightedMinor: Math.round(f.weightedMinor),
    forecastMinor: Math.round(f.wonMinor + f.weightedMinor),
    openLeads: f.openLeads,
    withoutCloseDate: f.withoutCloseDate,
    byCategory: {
      commit: Math.round(f.byCategory.commit),
      best_case: Math.round(f.byCategory.best_case),
      pipeline: Math.round(f.byCategory.pipeline),
    },
    pastCloseDate: f.pastCloseDate,
    pastCloseValueMinor: Math.round(f.pastCloseValueMinor),
  };
}

function zero(owner: string): SnapshotFigures {
  return {
    owner,
    wonMinor: 0,
    weightedMinor: 0,
    forecastMinor: 0,
    openLeads: 0,
    withoutCloseDate: 0,
    byCategory: { commit: 0, best_case: 0, pipeline: 0 },
    pastCloseDate: 0,
    pastCloseValueMinor: 0,
  };
}

const money = (minor: number): number => Math.round(minor) / 100;

/** A snapshot's figures for one owner as the CLI and the API both print them (names as in the reports). */
export function snapshotFiguresJson(r: SnapshotFigures): Record<string, string | number | null> {
  return {
    owner: r.owner === '' ? null : r.owner,
    won: money(r.wonMinor),
    weighted: money(r.weightedMinor),
    forecast: money(r.forecastMinor),
    open_leads: r.openLeads,
    without_close_date: r.withoutCloseDate,
    past_close_date: r.pastCloseDate,
    past_close_value: r.pastCloseValueMinor === null ? null : money(r.pastCloseValueMinor),
    weighted_commit: money(r.byCategory['commit'] ?? 0),
    weighted_best_case: money(r.byCategory['best_case'] ?? 0),
    weighted_pipeline: money(r.byCategory['pipeline'] ?? 0),
  };
}

/**
 * A snapshot's rows as seen by someone limited to some reps (a manager's reach, --team): those reps'
 * rows, led by a total (owner '') summed from them. The stored total is the organisation's and
 * would tell them other teams' figures.
 */
export function snapshotRowsWithin(
  rows: readonly SnapshotFigures[],
  includes: (owner: string) => boolean,
): SnapshotFigures[] {
  const reps = rows.filter((r) => r.owner !== '' && includes(r.owner));
  const total: SnapshotFigures = {
    owner: '',
    wonMinor: 0,
    weightedMinor: 0,
    forecastMinor: 0,
    openLeads: 0,
    withoutCloseDate: 0,
    byCategory: {},
    pastCloseDate: 0,
    pastCloseValueMinor: 0,
  };
  for (const r of reps) {
    total.wonMinor += r.wonMinor;
    total.weightedMinor += r.weightedMinor;
    total.forecastMinor += r.forecastMinor;
    total.openLeads += r.openLeads;
    total.withoutCloseDate += r.withoutCloseDate;
    // Unknown for one rep (a snapshot older than the figure) is unknown for the sum.
    total.pastCloseDate =
      total.pastCloseDate === null || r.pastCloseDate === null ? null : total.pastCloseDate + r.pastCloseDate;
    total.pastCloseValueMinor =
      total.pastCloseValueMinor === null || r.pastCloseValueMinor === null
        ? null
        : total.pastCloseValueMinor + r.pastCloseValueMinor;
    for (const [category, minor] of Object.entries(r.byCategory))
      total.byCategory[category] = (total.byCategory[category] ?? 0) + minor;
  }
  return [total, ...reps];
}
