import { round } from './figures.js';

/**
 * METRICS.md §5 accuracy of one period: with actual A and start-of-period forecast F,
 * bias = (F - A) / A and accuracy = max(0, 1 - |F - A| / A), both null when there is no snapshot
 * (`no_snapshot`) or A = 0 (`no_actual`): a period with nothing won cannot be scored relatively.
 * error = F - A in minor units (null without a snapshot) is always there, so a forecast that won
 * nothing still shows what it over-forecast.
 */

export interface AccuracyFigures {
  /** F - A, minor units; null without a snapshot. */
  error: number | null;
  bias: number | null;
  accuracy: number | null;
  nullReason: 'no_snapshot' | 'no_actual' | null;
}

export function accuracyOf(actual: number, forecast: number | null): AccuracyFigures {
  if (forecast === null) return { error: null, bias: null, accuracy: null, nullReason: 'no_snapshot' };
  const error = forecast - actual;
  if (actual === 0) return { error, bias: null, accuracy: null, nullReason: 'no_actual' };
  return {
    error,
    bias: (forecast - actual) / actual,
    accuracy: Math.max(0, 1 - Math.abs(forecast - actual) / actual),
    nullReason: null,
  };
}

/** The plain mean of the scored values (every period weighs the same), rounded; null for none. */
export function meanOf(values: readonly (number | null)[]): number | null {
  const xs = values.filter((x): x is number => x !== null);
  return xs.length === 0 ? null : round(xs.reduce((a, b) => a + b, 0) / xs.length, 4);
}
