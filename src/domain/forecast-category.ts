import type { FieldValue } from './conditions.js';

/**
 * The lead field `forecast_category`, which the forecast report and every forecast snapshot read.
 * People write it as they say it (`Commit`, `Best case`, `best-case`), so each spelling of a
 * category is read as that category and stored in its canonical form; anything else is refused,
 * since it would silently count as pipeline (docs/reports.md, forecast).
 */

export const FORECAST_FIELD = 'forecast_category';

export const FORECAST_CATEGORIES = ['commit', 'best_case', 'pipeline'] as const;
export type ForecastCategory = (typeof FORECAST_CATEGORIES)[number];

/** The category a value spells; null for a cleared field (null or ''), undefined for anything else. */
export function forecastCategory(v: FieldValue | undefined): ForecastCategory | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') return undefined;
  const text = v
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (text === '') return null;
  return FORECAST_CATEGORIES.find((c) => c === text);
}

export const FORECAST_CATEGORY_PROBLEM = `must be one of ${FORECAST_CATEGORIES.join(', ')} (in any case; "best case" is best_case)`;
