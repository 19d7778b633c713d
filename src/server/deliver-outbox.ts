import type { Fields } from '../domain/conditions.js';
import type { Process } from '../domain/process-schema.js';
import type { Deliverer, DeliveryResult, FollowUp, LeadSnapshot, OutboxItem } from '../integrations/delivery.js';
import type { Store } from '../store/db.js';
import { findLeadRow } from '../store/lead-search.js';
import {
  claimDue,
  deliveryRefusal,
  recordCancelled,
  recordFailure,
  recordKept,
  recordSent,
  type Recorded,
} from '../store/outbox-delivery.js';
import { latestProcess } from '../store/processes.js';

/**
 * One round of outbox delivery: a few delivery slots each claim a due row of a kind we have a
 * deliverer for, deliver it, record the outcome and the lead's follow-up, and take the next, until
 * nothing is due or the round's budget is spent. Claiming one row at a time keeps every claimed
 * row inside its lease however slow the outside system is (Mailchimp calls may take 120 s).
 * Kinds without a deliverer (mailing lists while Mailchimp is not configured) stay pending in the
 * outbox, untouched and visible to admins.
 */

export interface DeliveryOptions {
  deliverers: ReadonlyMap<string, Deliverer>;
  now: () => number;
  /** Applies what a delivery learned to its lead (through the engine); returns what it did. */
  applyFollowUp?: (item: OutboxItem, followUp: FollowUp) => Promise<string>;
  /** True once the worker is stopping: no new row is claimed. */
  stopping?: () => boolean;
  random?: () => number;
  /** Rows delivered per round at most. */
  batch?: number;
  /** Deliveries in flight at once (each is a network call). */
  concurrency?: number;
  /** Told of every failed try (to be retried) and every row parked dead, for the log. */
  onFailure?: (failure: DeliveryFailure) => void;
}

/** A failed delivery as the log shows it: no payload, and addresses in the error masked. */
export interface DeliveryFailure {
  id: string;
  kind: string;
  outcome: 'failed' | 'dead';
  /** Tries so far, this one included. */
  attempts: number;
  error: string;
}

const ADDRESS = /[^\s<>@"',;:()[\]]+@[^\s<>@"',;:()[\]]+/g;

/** One log line for a failed delivery. */
export function describeFailure(f: DeliveryFailure): string {
  const what =
    f.outcome === 'dead'
      ? `parked as dead after ${f.attempts} ${f.attempts === 1 ? 'try' : 'tries'}`
      : `failed (try ${f.attempts}), will retry`;
  return `delivery of ${f.kind} ${f.id} ${what}: ${f.error}`;
}

/** The error without the contact's (or anyone's) address, which logs must not carry. */
export function maskAddresses(text: string): string {
  return text.replace(ADDRESS, '[address]');
}

/** What became of a claimed row: a delivery's outcome, or cancelled unsent (deliveryRefusal). */
export type Outcome = Recorded | 'cancelled';
export type RoundTally = Record<Outcome, number>;

export async function deliverOnce(store: Store, o: DeliveryOptions): Promise<RoundTally> {
  const tally: RoundTally = { sent: 0, kept: 0, failed: 0, dead: 0, cancelled: 0 };
  const kinds = [...o.deliverers.keys()];
  if (kinds.length === 0) return tally;
  const random = o.random ?? Math.random;
  let budget = o.batch ?? 50;
  let drained = false;
  // Loaded once a round, when the first row is claimed: deliverers read templates and users from it.
  let process: Promise<Process | undefined> | null = null;
  const currentProcess = () => (process ??= latestProcess(store.db).then((v) => v?.process));
  const slot = async (): Promise<void> => {
    while (budget > 0 && !drained && !o.stopping?.()) {
      budget--;
      const [item] = await claimDue(store, kinds, o.now(), 1);
      if (!item) {
        drained = true;
        return;
      }
      tally[await deliverOne(store, item, await currentProcess(), o, random)]++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.concurrency ?? 4) }, slot));
  return tally;
}

async function deliverOne(
  store: Store,
  item: OutboxItem,
  process: Process | undefined,
  o: DeliveryOptions,
  random: () => number,
): Promise<Outcome> {
  const fail = async (error: string, final: boolean): Promise<Outcome> => {
    const outcome = await recordFailure(store, item, error, final, o.now(), random);
    o.onFailure?.({ id: item.id, kind: item.kind, outcome, attempts: item.attempts + 1, error: maskAddresses(error) });
    return outcome;
  };
  const lead = await leadSnapshot(store, item.lead);
  const refusal = await deliveryRefusal(store.db, item, lead);
  if (refusal !== null) {
    await recordCancelled(store, item.id, refusal);
    return 'cancelled';
  }
  const deliver = o.deliverers.get(item.kind);
  if (!deliver || !process) {
    const missing = process ? `no deliverer for ${item.kind} rows` : 'no process has been applied yet';
    return fail(missing, false);
  }
  let result: DeliveryResult;
  try {
    result = await deliver(item, { process, lead, now: o.now() });
  } catch (e) {
    // A deliverer is supposed to answer, not throw; a throw is treated as worth a retry.
    result = { status: 'retry', error: `deliverer failed: ${(e as Error).message}` };
  }
  if (result.status === 'retry') return fail(result.error, false);

  let applied = '';
  if (result.followUp && o.applyFollowUp) {
    try {
      applied = await o.applyFollowUp(item, result.followUp);
    } catch (e) {
      // Delivered, but its result could not be saved: deliver again later (the calls are idempotent).
      const error = `delivered, but recording the result on the lead failed: ${(e as Error).message}`;
      return fail(error, false);
    }
  }
  if (result.status === 'dead') {
    const error = applied ? `${result.error} (${applied})` : result.error;
    return fail(error, true);
  }
  const detail = [result.detail, applied].filter((part) => part !== undefined && part !== '').join('; ');
  if (result.kept === true) {
    await recordKept(store, item.id, detail, o.now());
    return 'kept';
  }
  await recordSent(store, item.id, detail === '' ? null : detail, o.now());
  return 'sent';
}

async function leadSnapshot(store: Store, id: string): Promise<LeadSnapshot | null> {
  const lead = await findLeadRow(store.db, id);
  if (!lead) return null;
  const state = JSON.parse(lead.state) as { lists?: unknown };
  return {
    id: lead.id,
    fields: JSON.parse(lead.fields) as Fields,
    owner: lead.owner,
    pipeline: lead.pipeline,
    stage: lead.stage,
    status: lead.status,
    lists: Array.isArray(state.lists) ? state.lists.filter((l): l is string => typeof l === 'string') : [],
  };
}
