import { periodKey } from '../reports/period.js';
import { takeForecastSnapshot } from '../reports/forecast-snapshot.js';
import type { Store } from '../store/db.js';
import { hasSnapshot } from '../store/forecast-snapshots.js';
import { latestProcess } from '../store/processes.js';

/**
 * The scheduler's part in forecasting (METRICS.md §5): each month and quarter gets its
 * 'period_start' snapshot on the first tick inside it. A tick that comes late still takes it (its
 * taken_at shows how late); periods that passed without any tick get none, since the past cannot
 * be forecast after the fact. Idempotent: a period already recorded is left alone.
 */
export async function takePeriodStartSnapshots(store: Store, now: number): Promise<string[]> {
  const current = await latestProcess(store.db);
  if (!current) return [];
  const zone = current.process.organisation.timezone;
  const taken: string[] = [];
  for (const unit of ['month', 'quarter'] as const) {
    const key = periodKey(now, unit, zone);
    if (await hasSnapshot(store.db, key, 'period_start')) continue;
    const r = await takeForecastSnapshot(store, key, 'period_start', now);
    if (r.taken) taken.push(key);
  }
  return taken;
}
