/** An outbox row as delivery sees it: one side effect, its payload and how often it was tried. */
export interface OutboxItem {
  /** The effect's idempotency key: stable across retries, so receivers can de-duplicate. */
  id: string;
  lead: string;
  kind: string;
  payload: Record<string, unknown>;
  /** Tries before this one. */
  attempts: number;
  createdAt: number;
}
