import type { Mapping } from './mapping.js';
import type { ImportProblem } from './record.js';
import { swappedSeparators } from './values.js';

/**
 * What a file says about itself as a whole, where one cell cannot: whether "12.500 €" is twelve and
 * a half or twelve thousand five hundred, whether "03/04/2025" is 4 March or 3 April. While the
 * records are checked, the first cell of each telling kind is kept; after the check, `decide` reads
 * the column one way for the whole file (and the check runs again that way), or leaves the
 * ambiguous cells as errors. A user's mapping that gives the numbers or the date formats is taken
 * as said: nothing is guessed for it.
 */

/** What the import may still decide from the file's content. */
export interface Guesses {
  numbers: boolean;
  /** Month-first date formats whose file may turn out to be day-first. */
  dates: boolean;
  /** The day-first date the dates were switched for: a month-first date now means the file mixes both. */
  dayFirst: Sample | null;
  delimiter: boolean;
}

export const NO_GUESSES: Guesses = { numbers: false, dates: false, dayFirst: null, delimiter: false };

/** A cell that tells: where it is and what it says. */
export interface Sample {
  line: number;
  column: string;
  text: string;
}

/** The first cell of each telling kind met while reading. */
export class ColumnEvidence {
  /** "12.500": reads with either separator. */
  ambiguousNumber: Sample | null = null;
  /** Reads only with the mapping's separators ("1,250.50", "12.5"). */
  asMappedNumber: Sample | null = null;
  /** Reads only with "." and "," swapped ("1.250.000", "3,5"). */
  swappedNumber: Sample | null = null;
  /** Reads only with day and month swapped ("15/02/2025" against M/d/yyyy). */
  swappedDate: Sample | null = null;
}

/** Which the user's mapping (as written, before defaults) leaves to be guessed. */
export function guessesFor(mapping: Mapping, given: Record<string, unknown> | null): Guesses {
  const dates = given?.['dates'];
  const formatsGiven = typeof dates === 'object' && dates !== null && 'formats' in dates;
  return {
    numbers: !(given && 'numbers' in given) && swappedSeparators(mapping.numbers) !== null,
    dates: !formatsGiven && mapping.dates.formats.some((f) => swapDayMonth(f) !== f),
    dayFirst: null,
    delimiter: !(given && 'delimiter' in given),
  };
}

/**
 * A numeric format with day and month swapped (`M/d/yyyy h:mm a` and `d/M/yyyy h:mm a`); any other
 * format (ISO, year first, month names) as it is.
 */
export function swapDayMonth(format: string): string {
  const m = /^(M{1,2}|d{1,2})([^A-Za-z])(M{1,2}|d{1,2})(?=[^A-Za-z]yyyy)/.exec(format);
  if (!m || m[1]![0] === m[3]![0]) return format;
  const swap = (t: string): string => (t[0] === 'M' ? 'd' : 'M').repeat(t.length);
  return `${swap(m[1]!)}${m[2]!}${swap(m[3]!)}${format.slice(m[0].length)}`;
}

/** Some dates read only month first, others only day first: no order reads the file. */
export class MixedDateOrder extends Error {}

export interface Decision {
  mapping: Mapping;
  guesses: Guesses;
  warnings: ImportProblem[];
}

/** How to read the file again, if its evidence decides something; null if nothing changes. */
export function decide(mapping: Mapping, guesses: Guesses, ev: ColumnEvidence, file: string): Decision | null {
  let next = mapping;
  let g = guesses;
  const warnings: ImportProblem[] = [];
  const warn = (s: Sample, message: string): void => {
    warnings.push({ file, line: s.line, column: s.column, message, severity: 'warning' });
  };
  const swapped = swappedSeparators(mapping.numbers);
  if (guesses.numbers && swapped) {
    if (ev.swappedNumber && !ev.asMappedNumber) {
      next = { ...next, numbers: swapped };
      g = { ...g, numbers: false };
      warn(
        ev.swappedNumber,
        `amounts read with "${swapped.decimal}" for decimals and "${swapped.thousands}" for thousands, ` +
          `as "${ev.swappedNumber.text}" shows` +
          (ev.ambiguousNumber ? ` (so "${ev.ambiguousNumber.text}" on line ${ev.ambiguousNumber.line} too)` : ''),
      );
    } else if (ev.ambiguousNumber && ev.asMappedNumber && !ev.swappedNumber) {
      g = { ...g, numbers: false };
      warn(
        ev.asMappedNumber,
        `amounts read with "${mapping.numbers.decimal}" for decimals, as "${ev.asMappedNumber.text}" shows ` +
          `(so "${ev.ambiguousNumber.text}" on line ${ev.ambiguousNumber.line} too)`,
      );
    }
  }
  if (guesses.dates && ev.swappedDate) {
    const dayFirst = guesses.dayFirst;
    if (dayFirst) {
      const monthFirst = ev.swappedDate;
      throw new MixedDateOrder(
        `${file}: the dates are day first on some lines ("${dayFirst.text}", line ${dayFirst.line}, ${dayFirst.column}) ` +
          `and month first on others ("${monthFirst.text}", line ${monthFirst.line}, ${monthFirst.column}): ` +
          'fix the file so that all are written one way, and name that way in a mapping (dates: { formats: [...] })',
      );
    }
    const formats = mapping.dates.formats.map(swapDayMonth);
    next = { ...next, dates: { ...next.dates, formats } };
    g = { ...g, dayFirst: ev.swappedDate };
    warn(
      ev.swappedDate,
      `dates read day first (${formats.filter((f, i) => f !== mapping.dates.formats[i]).join(' or ')}), ` +
        `as "${ev.swappedDate.text}" shows`,
    );
  }
  return warnings.length > 0 ? { mapping: next, guesses: g, warnings } : null;
}
