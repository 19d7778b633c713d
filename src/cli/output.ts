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
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, displayWidth(cell))));
  const pad = (cell: string, i: number): string => ' '.repeat((widths[i] ?? 0) - displayWidth(cell));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (right[i] === true ? pad(cell, i) + cell : i === row.length - 1 ? cell : cell + pad(cell, i)))
        .join('  ')
        .trimEnd(),
  );
}

/** East Asian wide and fullwidth characters (CJK, kana, Hangul, fullwidth forms): two columns in a terminal. */
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{20000}-\u{3FFFD}]/u;
/** Combining marks and zero-width characters take no column of their own. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B-\u200F]/u;

/** Terminal columns a text takes (String.length counts UTF-16 units: 製品 is 2 but takes 4 columns). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += ZERO_WIDTH.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1;
  return width;
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
