import type { Fields } from '../domain/conditions.js';
import type { Deliverer, LeadSnapshot } from '../integrations/delivery.js';
import type { Store } from '../store/db.js';
import { findLeadRow } from '../store/lead-search.js';
import { claimDue, recordFailure, recordSent, type Recorded } from '../store/outbox-delivery.js';
import { latestProcess } from '../store/processes.js';

/**
 * One round of outbox delivery: claim the due rows of the kinds we have a deliverer for, deliver
 * a few at a time, record each outcome. Kinds without a deliverer (mailing lists and enrichment,
 * until their clients exist) stay pending in the outbox, untouched and visible to admins.
 */

export interface DeliveryOptions {
  deliverers: ReadonlyMap<string, Deliverer>;
  now: () => number;
  random?: () => number;
  /** Rows claimed per round. */
  batch?: number;
  /** Deliveries in flight at once (each is a network call). */
  concurrency?: number;
}

export type RoundTally = Record<Recorded, number>;

export async function deliverOnce(store: Store, o: DeliveryOptions): Promise<RoundTally> {
  const tally: RoundTally = { sent: 0, failed: 0, dead: 0 };
  const now = o.now();
  const items = await claimDue(store, [...o.deliverers.keys()], now, o.batch ?? 50);
  if (items.length === 0) return tally;
  const process = (await latestProcess(store.db))?.process;
  const random = o.random ?? Math.random;
  let next = 0;
  const work = async (): Promise<void> => {
    for (let item = items[next++]; item; item = items[next++]) {
      const deliver = o.deliverers.get(item.kind);
      let recorded: Recorded;
      if (!deliver || !process) {
        recorded = await recordFailure(store, item, 'no process or deliverer', false, o.now(), random);
      } else {
        const lead = await findLeadRow(store.db, item.lead);
        const snapshot: LeadSnapshot | null = lead
          ? {
              id: lead.id,
              fields: JSON.parse(lead.fields) as Fields,
              owner: lead.owner,
              pipeline: lead.pipeline,
              stage: lead.stage,
              status: lead.status,
            }
          : null;
        let result;
        try {
          result = await deliver(item, { process, lead: snapshot, now: o.now() });
        } catch (e) {
          // A deliverer is supposed to answer, not throw; a throw is treated as worth a retry.
          result = { status: 'retry' as const, error: `deliverer failed: ${(e as Error).message}` };
        }
        if (result.status === 'sent') {
          await recordSent(store, item.id);
          recorded = 'sent';
        } else recorded = await recordFailure(store, item, result.error, result.status === 'dead', o.now(), random);
      }
      tally[recorded]++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, items.length) }, work));
  return tally;
}
