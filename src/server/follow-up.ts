import type { Fields } from '../domain/conditions.js';
import type { LeadEvent } from '../domain/events.js';
import type { Engine } from '../engine/engine.js';
import { BOUNCE_ACTIVITY, bounceNote } from '../engine/opt-out.js';
import type { FollowUp, OutboxItem } from '../integrations/delivery.js';
import { findLeadRow } from '../store/lead-search.js';
import { BOUNCED_FIELD } from '../store/outbox-delivery.js';
import { sameAddress } from '../store/personal-data.js';

/**
 * What a delivery learned, written to its lead through the engine like any other change: enriched
 * fields as `lead.updated`, an outside system's refusal as a logged activity. The actor is the
 * system, named by the effect kind, so the timeline says where the change came from. A hard bounce
 * is both: the bounced address in BOUNCED_FIELD, then a note for the rep.
 *
 * A delivery can take minutes, and the lead may change meanwhile: its contact erased, its address
 * corrected. So the lead is read again here, the address checked on that reading, and the write
 * applied only over the version read (If-Match, as the API does); if the lead moved on in between,
 * it is read and checked again. Fields learned about an address the lead no longer has are dropped.
 */

const ATTEMPTS = 5;
export { BOUNCE_ACTIVITY };

export function followUpApplier(engine: Engine, now: () => number) {
  const apply = async (item: OutboxItem, followUp: FollowUp): Promise<string> => {
    if ('bounced' in followUp) {
      // The field first: it is what stops further mail, even if the lead is closed to activities.
      const { email, note } = followUp.bounced;
      const marked = await apply(item, { fields: { [BOUNCED_FIELD]: email }, email });
      if (marked !== 'saved on the lead') return `address not marked bounced: ${marked}`;
      const logged = await apply(item, { activity: { kind: BOUNCE_ACTIVITY, note: bounceNote(note) } });
      return logged === 'logged on the lead'
        ? 'address marked bounced on the lead'
        : `address marked bounced; ${logged}`;
    }
    const actor = { kind: 'system' as const, id: item.kind };
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const lead = await findLeadRow(engine.store.db, item.lead);
      if (!lead) return 'not saved: the lead is gone';
      let event: LeadEvent;
      if ('activity' in followUp) {
        event = { type: 'activity.logged', lead: lead.id, ...followUp.activity, actor };
      } else {
        const fields = JSON.parse(lead.fields) as Fields;
        if (followUp.email !== undefined && !sameAddress(fields['email'], followUp.email))
          return 'not saved: the lead has another address by now';
        if (Object.keys(followUp.fields).length === 0) return 'nothing to save';
        event = { type: 'lead.updated', lead: lead.id, fields: followUp.fields, actor };
      }
      const out = await engine.handle(event, now(), lead.version);
      if (out.ok) return 'activity' in followUp ? 'logged on the lead' : 'saved on the lead';
      if (out.error.code !== 'stale_version') return `not saved on the lead: ${out.error.message}`;
    }
    return `not saved: the lead kept changing (${ATTEMPTS} tries)`;
  };
  return apply;
}
