import { z } from 'zod';
import { Problem } from './problem.js';
import { cursorSchema, decodeCursor, encodeCursor, limitSchema } from './routes/shared.js';

/**
 * Cursor pagination for every list, the way /leads does it: `limit` and `cursor` in, `items` and
 * `nextCursor` out. A cursor is the sort key of the last record seen (a keyset position, never an
 * offset), and every key ends in something unique, so a page never skips or repeats a record
 * while others write, even when many rows share a timestamp.
 */

/** The query fields of a paged list; spread them into the route's querystring object. */
export const pageQuery = { limit: limitSchema, cursor: cursorSchema };

export interface PageAnswer<T> {
  items: T[];
  nextCursor: string | null;
}

/** A sort key: compared element by element; the last element must be unique within the list. */
export type SortKey = readonly (string | number)[];

const keyCursor = z.object({ k: z.array(z.union([z.string(), z.number()])).min(1) }).strict();

export function compareKeys(a: SortKey, b: SortKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    // Mixed types cannot occur within one list's key; ordering them by type keeps the compare total.
    if (typeof x !== typeof y) return typeof x === 'number' ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/** The position a cursor names, or undefined for the first page (400 for a cursor we did not give out). */
export function cursorKey(raw: string | undefined): SortKey | undefined {
  return decodeCursor(raw, keyCursor)?.k;
}

type KindOf<K> = K extends 'string' ? string : number;

/**
 * The position a cursor names as a typed tuple, for lists whose store query takes the key apart;
 * a cursor of another shape (another list's) is a 400 like any forged one.
 */
export function cursorTuple<const K extends readonly ('string' | 'number')[]>(
  raw: string | undefined,
  kinds: K,
): { -readonly [I in keyof K]: KindOf<K[I]> } | undefined {
  const key = cursorKey(raw);
  if (key === undefined) return undefined;
  if (key.length !== kinds.length || key.some((v, i) => typeof v !== kinds[i]))
    throw new Problem('validation-failed', 'cursor is not one this list gave out', {
      errors: [{ field: 'query.cursor', message: 'not a cursor from a previous page of this list' }],
    });
  return key as unknown as { -readonly [I in keyof K]: KindOf<K[I]> };
}

/**
 * A page from rows read with `limit + 1` in key order (by the store, after the cursor's position):
 * the extra row only says that another page exists.
 */
export function pageFromRows<R, T>(
  rows: readonly R[],
  limit: number,
  keyOf: (r: R) => SortKey,
  present: (r: R) => T,
): PageAnswer<T> {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(present),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor({ k: [...keyOf(last)] }) : null,
  };
}

/**
 * A page of a list read whole (one lead's history, the people of a process, an organisation's
 * quotas): sorted by key here, then the same keyset step as a query would take.
 */
export function pageOfAll<R, T>(
  all: readonly R[],
  query: { limit: number; cursor?: string | undefined },
  keyOf: (r: R) => SortKey,
  present: (r: R) => T,
): PageAnswer<T> {
  const after = cursorKey(query.cursor);
  const sorted = all
    .map((r) => ({ r, k: keyOf(r) }))
    .sort((a, b) => compareKeys(a.k, b.k))
    .filter((e) => after === undefined || compareKeys(e.k, after) > 0);
  return pageFromRows(
    sorted.slice(0, query.limit + 1),
    query.limit,
    (e) => e.k,
    (e) => present(e.r),
  );
}
