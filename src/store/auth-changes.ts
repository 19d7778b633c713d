/**
 * A count of changes to who may call the API (a token revoked, a member's role changed or
 * disabled) made by this process. Caches of authenticated callers compare it, so a change made
 * through this process reaches its very next request. A change made by another process (the CLI,
 * another server) is bounded by the caches' own short lifetime instead.
 */
let changes = 0;

export function noteAuthChange(): void {
  changes++;
}

export function authChangeCount(): number {
  return changes;
}
