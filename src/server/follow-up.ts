import type { Engine } from '../engine/engine.js';
import type { FollowUp, LeadSnapshot, OutboxItem } from '../integrations/delivery.js';
import { sameAddress } from '../store/personal-data.js';

/**
 * What a delivery learned, written to its lead through the engine like any other change: enriched
 * fields as `lead.updated`, an outside system's refusal as a logged activity. The actor is the
 * system, named by the effect kind, so the timeline says where the change came from. Fields
 * learned from an address are dropped when the lead has another address by now.
 */
export function followUpApplier(engine: Engine, now: () => number) {
  return async (item: OutboxItem, followUp: FollowUp, lead: LeadSnapshot): Promise<string> => {
    const actor = { kind: 'system' as const, id: item.kind };
    if ('activity' in followUp) {
      const out = await engine.handle(
        { type: 'activity.logged', lead: lead.id, kind: followUp.activity.kind, note: followUp.activity.note, actor },
        now(),
      );
      return out.ok ? 'logged on the lead' : `not logged on the lead: ${out.error.message}`;
    }
    if (followUp.email !== undefined && !sameAddress(lead.fields['email'], followUp.email)) {
      return 'not saved: the lead has another address by now';
    }
    if (Object.keys(followUp.fields).length === 0) return 'nothing to save';
    const out = await engine.handle({ type: 'lead.updated', lead: lead.id, fields: followUp.fields, actor }, now());
    return out.ok ? 'saved on the lead' : `not saved on the lead: ${out.error.message}`;
  };
}
