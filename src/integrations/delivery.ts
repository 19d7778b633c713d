import type { OutboxItem } from '../domain/outbox.js';
import type { Process } from '../domain/process-schema.js';

export type { OutboxItem };

/**
 * Delivering the outbox: each kind of side effect has a deliverer, a client of one outside system
 * (mail, webhooks, ...). The worker claims due rows, calls the deliverer, and records what it
 * answered: sent (or kept: written to a file instead, to be sent later); retry later (a timeout, a 5xx, a refused connection), with backoff; or dead (an
 * answer that no retry can change), parked for an admin to see and replay. Deliverers never touch
 * the database: they get the row and the current process, and answer.
 */

export type DeliveryResult =
  | {
      status: 'sent';
      detail?: string;
      followUp?: FollowUp;
      /**
       * Not sent but written where an admin can read it (mail while SMTP_URL is unset): the row is
       * recorded 'kept', not 'sent', so that it can be queued again once it can be sent.
       */
      kept?: true;
    }
  | { status: 'retry'; error: string }
  | { status: 'dead'; error: string; followUp?: FollowUp };

/**
 * What an outcome changes on the lead, which the worker applies through the engine (so it is
 * versioned, gated and on the timeline like any other write): fields learned (enrichment), an
 * activity that records what an outside system said (a mailing list refusing an address for good),
 * or a hard bounce of the contact's address (the worker marks it on the lead and logs the note).
 * Applied only while the lead still exists and, when `email` is given, still has that address.
 */
export type FollowUp =
  | { fields: Record<string, string | number | boolean | null>; email?: string }
  | { activity: { kind: string; note: string } }
  | { bounced: { email: string; note: string } };

/** The lead an effect belongs to, as it stands when the effect is delivered (null if erased). */
export interface LeadSnapshot {
  id: string;
  fields: Record<string, string | number | boolean | null>;
  owner: string | null;
  pipeline: string;
  stage: string;
  status: string;
  /** Mailing lists the process has put the lead on and not taken it off. */
  lists: string[];
}

export interface DeliveryContext {
  /** The current process: users' addresses, managers, email templates. */
  process: Process;
  lead: LeadSnapshot | null;
  now: number;
}

export type Deliverer = (item: OutboxItem, ctx: DeliveryContext) => Promise<DeliveryResult>;
