/** Small pure helpers for report figures: a ratio is null when its denominator is zero, never 0 or NaN. */

export function ratio(numerator: number, denominator: number, digits = 4): number | null {
  return denominator === 0 ? null : round(numerator / denominator, digits);
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function roundOrNull(x: number | null | undefined, digits = 2): number | null {
  return x === null || x === undefined || !Number.isFinite(x) ? null : round(x, digits);
}

/** Coefficient of variation (population standard deviation / mean); null for fewer than two values or a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return null;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
  return round(Math.sqrt(variance) / mean, 4);
}

export const DAY_MS = 86_400_000;

/**
 * Days to four decimals (under 9 seconds). The table shows one decimal: from two, it rounded a
 * rounded figure (5.546 to 5.55 to 5.6), and a hand check got 5.5.
 */
export function roundDays(days: number): number {
  return round(days, 4);
}

/** Money in minor units as the major-unit number reports show. */
export function major(minor: number | null): number | null {
  return minor === null ? null : round(minor / 100, 2);
}

/** An amount for a note: `800 EUR`, `1,234.50 EUR`. */
export function moneyText(minor: number, currency: string): string {
  const amount = major(Math.round(minor)) ?? 0;
  const digits = Number.isInteger(amount) ? 0 : 2;
  return `${amount.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
}
