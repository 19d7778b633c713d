import type { ApiToken } from '../store/api-tokens.js';
import type { Member } from '../store/members.js';
import { authChangeCount } from '../store/auth-changes.js';

/** How long a looked-up token is trusted without reading it again, in real milliseconds. */
export const TOKEN_CACHE_MS = 1000;
const MAX_ENTRIES = 10_000;

interface Entry {
  token: ApiToken;
  member: Member;
  /** performance.now() when it was read, and the auth change count before the read began. */
  readAt: number;
  changes: number;
}

/**
 * API tokens as last read from the database, by secret hash, so an integration's burst of
 * requests does not look its token and member up once per request (a quarter of the server's
 * CPU per created lead). An entry is dropped after TOKEN_CACHE_MS, or at once when this process
 * changed a token or member since it was read; the caller still checks revocation, expiry and
 * the member's status on every request against the entry. Real time, not the app's clock: this
 * bounds staleness, it is not a business rule.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Reads in flight: requests that miss together (on PostgreSQL, a burst after each expiry) share one. */
  private readonly reading = new Map<string, { changes: number; entry: Promise<Entry | null> }>();

  /**
   * The entry for `hash`, read with `read` on a miss. A miss joins a read already in flight for
   * the same hash unless a token or member changed since that read began.
   */
  lookup(hash: string, read: () => Promise<{ token: ApiToken; member: Member } | null>): Promise<Entry | null> {
    const cached = this.get(hash);
    if (cached) return Promise.resolve(cached);
    const changes = authChangeCount();
    const inFlight = this.reading.get(hash);
    if (inFlight?.changes === changes) return inFlight.entry;
    const readAt = performance.now();
    const entry = read()
      .then((r) => {
        if (!r) return null;
        // A read that a change overlapped answers its own requests but is not kept.
        if (changes === authChangeCount()) this.set(hash, r.token, r.member, changes, readAt);
        return { ...r, readAt, changes };
      })
      .finally(() => {
        if (this.reading.get(hash)?.entry === entry) this.reading.delete(hash);
      });
    this.reading.set(hash, { changes, entry });
    return entry;
  }

  get(hash: string): Entry | undefined {
    const e = this.entries.get(hash);
    if (!e) return undefined;
    if (e.changes !== authChangeCount() || performance.now() - e.readAt >= TOKEN_CACHE_MS) {
      this.entries.delete(hash);
      return undefined;
    }
    return e;
  }

  /** `changes` is authChangeCount() taken before the read, so a change racing the read voids it. */
  set(hash: string, token: ApiToken, member: Member, changes: number, readAt: number): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, { token, member, readAt, changes });
  }
}
