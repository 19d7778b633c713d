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
