/**
 * How names are compared without regard to letter case, the same in every language: the one
 * folding behind a lead's company and search keys (store/lead-keys.ts), computed here and never by
 * a database, so SQLite (whose lower() folds ASCII only) and PostgreSQL (whose lower() follows the
 * server's locale, ASCII only under C) find the same rows, and a value always matches itself.
 *
 * NFKC first, so a precomposed "Ö" and "O" with a combining diaeresis, or a full-width "Ａ" and
 * "A", are one letter; then JavaScript's locale-independent case mappings (lower, upper, lower again),
 * which is what Unicode's full case folding does for nearly every letter and what lower case alone
 * misses for some people meet in names:
 * - ß and ẞ fold to "ss", so "STRASSE" finds "Straße" (its upper case is "SS");
 * - ı (dotless small i) folds to "i" by way of "I", and İ (dotted capital I), whose lower case is
 *   "i" with a combining dot above, to "i": without knowing the language a name was typed in,
 *   "IŞIK" (typed on a keyboard without Turkish casing) and "Işık" must meet, and "İSTANBUL" and
 *   "istanbul", so the Turkish pairs I/ı and İ/i are not kept apart ("ışık" also finds "Işık";
 *   ş and s stay two letters, so "ISIK" does not);
 * - final sigma ς folds to σ, so a word cut short in a search still matches.
 */
export function foldCase(text: string): string {
  return text
    .normalize('NFKC')
    .toLowerCase() // first, so ẞ becomes ß, whose upper case is "SS"
    .toUpperCase()
    .toLowerCase()
    .replace(/i\u0307/g, 'i')
    .replace(/\u03c2/g, '\u03c3')
    .normalize('NFKC');
}

/** A name as a key: folded, surrounding spaces ignored; null for no name. */
export function nameKey(text: string | null): string | null {
  return text === null ? null : foldCase(text).trim();
}
