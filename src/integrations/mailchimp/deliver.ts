import type { Deliverer, DeliveryContext, DeliveryResult, OutboxItem } from '../delivery.js';
import { sameAddress, subscriberHash } from '../../store/personal-data.js';
import type { CallOutcome, MailchimpClient } from './client.js';

/**
 * Mailing-list effects, delivered to Mailchimp: `list.subscribe`, `list.unsubscribe` (automations)
 * and `list.erase` (a contact's erasure). A process names its lists (`trial-nurture`); the
 * MAILCHIMP_LISTS setting maps each name to a Mailchimp audience id.
 *
 * A row is delivered against the lead as it stands now, not as it stood when queued, so rows that
 * arrive out of order (a subscribe retried after the unsubscribe that followed it) cannot leave a
 * customer on a nurture list: a subscribe whose lead has since left the list, or an unsubscribe
 * whose lead is back on it, is done without a call.
 *
 * Subscribing sends `status_if_new: subscribed` only: someone unsubscribed in Mailchimp stays
 * unsubscribed, whatever a stage says, and the rep is told so on the lead. Mailchimp's final refusals (a forgotten address, a member in
 * compliance state, an invalid address) are not retried: the row is dead and the refusal is logged
 * on the lead as a `mailing_list` activity, so the rep sees why the contact gets no nurture mail.
 */

export const LIST_KINDS = ['list.subscribe', 'list.unsubscribe', 'list.erase'] as const;
export const LIST_ACTIVITY = 'mailing_list';

export interface MailchimpDelivererOptions {
  client: MailchimpClient;
  /** Process list name → Mailchimp audience (list) id. */
  lists: ReadonlyMap<string, string>;
}

export function mailchimpDeliverer(o: MailchimpDelivererOptions): Deliverer {
  return async (item, ctx) => {
    const list = str(item.payload['list']);
    if (!list) return { status: 'dead', error: `${item.kind} row has no list` };
    const audience = o.lists.get(list);
    if (!audience) {
      return {
        status: 'dead',
        error: `list "${list}" has no Mailchimp audience: add ${list}=<audience id> to MAILCHIMP_LISTS and replay`,
      };
    }
    switch (item.kind) {
      case 'list.subscribe':
        return subscribe(o.client, audience, list, item, ctx);
      case 'list.unsubscribe':
        return unsubscribe(o.client, audience, list, item, ctx);
      case 'list.erase':
        return erase(o.client, audience, list, item);
      default:
        return { status: 'dead', error: `the Mailchimp deliverer does not handle ${item.kind}` };
    }
  };
}

async function subscribe(
  client: MailchimpClient,
  audience: string,
  list: string,
  item: OutboxItem,
  ctx: DeliveryContext,
): Promise<DeliveryResult> {
  const email = str(item.payload['email']);
  if (!email) return { status: 'dead', error: 'list.subscribe row has no email' };
  if (!ctx.lead) return { status: 'sent', detail: 'not sent: the lead no longer exists' };
  if (!ctx.lead.lists.includes(list)) return { status: 'sent', detail: `not sent: the lead has left ${list} since` };
  if (!sameAddress(ctx.lead.fields['email'], email)) {
    return { status: 'sent', detail: 'not sent: the lead has another address since' };
  }
  const mergeFields: Record<string, string> = {};
  const first = str(item.payload['firstName']);
  const last = str(item.payload['lastName']);
  if (first) mergeFields['FNAME'] = first;
  if (last) mergeFields['LNAME'] = last;

  const put = await client.upsertMember(audience, email, { statusIfNew: 'subscribed', mergeFields });
  if (put.kind !== 'done') return refusal(put, `subscribe the contact to ${list}`);
  const kept = keptOff(put.memberStatus, list);
  if (kept) return kept;
  const tags = Array.isArray(item.payload['tags'])
    ? item.payload['tags'].filter((t): t is string => typeof t === 'string' && t !== '')
    : [];
  if (tags.length === 0) return { status: 'sent', detail: `subscribed to ${list}` };
  const tagged = await client.setTags(
    audience,
    subscriberHash(email),
    tags.map((name) => ({ name, active: true })),
  );
  // A retry repeats the PUT too, which is an idempotent upsert.
  if (tagged.kind !== 'done') return refusal(tagged, `tag the contact on ${list}`);
  return { status: 'sent', detail: `subscribed to ${list}, tagged ${tags.join(', ')}` };
}

async function unsubscribe(
  client: MailchimpClient,
  audience: string,
  list: string,
  item: OutboxItem,
  ctx: DeliveryContext,
): Promise<DeliveryResult> {
  const email = str(item.payload['email']);
  if (!email) return { status: 'dead', error: 'list.unsubscribe row has no email' };
  if (ctx.lead?.lists.includes(list) && sameAddress(ctx.lead.fields['email'], email)) {
    return { status: 'sent', detail: `not sent: the lead is on ${list} again` };
  }
  const out = await client.setStatus(audience, subscriberHash(email), 'unsubscribed');
  if (out.kind === 'absent') {
    const missing = await missingAudience(client, audience, list);
    return missing ?? { status: 'sent', detail: `not a member of ${list}: nothing to unsubscribe` };
  }
  if (out.kind !== 'done') return refusal(out, `unsubscribe the contact from ${list}`);
  return { status: 'sent', detail: `unsubscribed from ${list}` };
}

async function erase(
  client: MailchimpClient,
  audience: string,
  list: string,
  item: OutboxItem,
): Promise<DeliveryResult> {
  // Erase rows carry the subscriber hash, never the address, which is gone by now.
  const hash = str(item.payload['email_hash']);
  if (!hash || !/^[0-9a-f]{32}$/.test(hash)) return { status: 'dead', error: 'list.erase row has no subscriber hash' };
  const out = await client.deletePermanently(audience, hash);
  if (out.kind === 'absent') {
    // Recording an erase as done when it hit a mistyped audience would be a privacy failure.
    const missing = await missingAudience(client, audience, list);
    return missing ?? { status: 'sent', detail: 'not a member: nothing to erase' };
  }
  if (out.kind !== 'done') return refusal(out, 'erase the contact', false);
  return { status: 'sent', detail: 'permanently deleted' };
}

/**
 * A member Mailchimp keeps off the list whatever we ask: someone unsubscribed stays so (whether
 * they opted out or an earlier automation took them off, which Mailchimp does not tell apart), and
 * a cleaned address bounced. Either way the rep is told on the lead's timeline.
 */
function keptOff(memberStatus: string | null, list: string): DeliveryResult | null {
  const why =
    memberStatus === 'unsubscribed'
      ? 'the contact is unsubscribed there'
      : memberStatus === 'cleaned'
        ? 'the address bounced (cleaned)'
        : null;
  if (!why) return null;
  return {
    status: 'sent',
    detail: `Mailchimp keeps the contact off ${list}: ${why}; left as is`,
    followUp: { activity: { kind: LIST_ACTIVITY, note: `Mailchimp keeps the contact off ${list}: ${why}` } },
  };
}

/** After a 404 on a member: null when the audience exists (so the member does not), else why not. */
async function missingAudience(
  client: MailchimpClient,
  audience: string,
  list: string,
): Promise<DeliveryResult | null> {
  const found = await client.audience(audience);
  if (found.kind === 'done') return null;
  if (found.kind === 'retry') return { status: 'retry', error: found.error };
  return {
    status: 'dead',
    error: `Mailchimp has no audience ${audience} (MAILCHIMP_LISTS maps ${list} to it): fix the mapping and replay`,
  };
}

/** A call that did not succeed: retried, or dead with the refusal logged on the lead. */
function refusal(out: Exclude<CallOutcome, { kind: 'done' }>, what: string, logOnLead = true): DeliveryResult {
  if (out.kind === 'retry') return { status: 'retry', error: out.error };
  if (out.kind === 'absent') return { status: 'dead', error: out.error };
  // Refusals about the member (400) belong on the lead; a bad key or a missing list is the admin's.
  const aboutMember = out.status === 400;
  return {
    status: 'dead',
    error: out.error,
    ...(logOnLead && aboutMember
      ? { followUp: { activity: { kind: LIST_ACTIVITY, note: `Mailchimp refused to ${what}: ${out.title}` } } }
      : {}),
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}
