import { DateTime } from 'luxon';

/** Plain-text output helpers: aligned tables and readable times. No colours, so output pipes cleanly. */

export function print(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(data: unknown): void {
  print(JSON.stringify(data, null, 2));
}

/**
 * Pads every column to its widest cell, so rows line up in a terminal. Columns marked in `right`
 * (numbers, in reports) are right-aligned, so their digits line up; the others are left-aligned
 * and the last of them is not padded.
 */
export function table(rows: readonly (readonly string[])[], indent = '', right: readonly boolean[] = []): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) =>
          right[i] === true ? cell.padStart(widths[i] ?? 0) : i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0),
        )
        .join('  ')
        .trimEnd(),
  );
}

/** A time in the organisation's zone with its abbreviation, e.g. `2026-03-09 09:00 +01:00`. */
export function formatTime(ms: number | null, zone: string): string {
  if (ms === null) return '-';
  return DateTime.fromMillis(ms, { zone }).toFormat('yyyy-MM-dd HH:mm ZZ');
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** `k=v` pairs for a small record, values as compact JSON unless they are plain words. */
export function formatPairs(record: Readonly<Record<string, unknown>>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /^[\w@.:/#+-]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}
