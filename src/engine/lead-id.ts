import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

// ulid draws one random byte per character; its default source asks the OS for each byte, which
// cost 5% of a busy server's time. A pool refilled 4 KiB at a time from the same CSPRNG does not.
const pool = Buffer.alloc(4096);
let drawn = pool.length;
function randomUnit(): number {
  if (drawn === pool.length) {
    randomFillSync(pool);
    drawn = 0;
  }
  return (pool[drawn++] ?? 0) / 256;
}

const nextUlid = monotonicFactory(randomUnit);

/**
 * A new lead's id: `L-` and a ULID (Crockford base32, so an id read aloud or copied by hand
 * survives). ULIDs sort by creation time, and increase within a process even within one
 * millisecond, so a new lead's rows land at the end of every index keyed by lead id: a batch of
 * new leads dirties a few pages instead of one page per lead per index, which halved the SQLite
 * commit of a busy server's batches (bench/README.md).
 */
export function newLeadId(now: number = Date.now()): string {
  return `L-${nextUlid(now)}`;
}
