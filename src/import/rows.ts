import type { Actor } from '../domain/events.js';
import { leadRow } from '../store/leads.js';
import type { ImportedLeadRows } from '../store/import-writer.js';
import type { PlannedLead } from './plan.js';

/** A planned lead as the rows the store writes: the lead, its rebuilt stays, the import event, the first owner. */
export function importedRows(
  plan: PlannedLead,
  ctx: { source: string; file: string; now: number; actor: Actor },
): ImportedLeadRows {
  const s = plan.state;
  return {
    lead: {
      ...leadRow(s, 1, ctx.now),
      company: plan.company,
      phone: plan.phone,
      import_source: ctx.source,
      source_id: plan.sourceId,
    },
    stays: plan.stays.map((st) => ({
      id: st.id,
      lead_id: s.id,
      seq: st.seq,
      pipeline: s.pipeline,
      stage: st.stage,
      stage_index: st.stageIndex,
      process_version: s.processVersion,
      entered_at: st.enteredAt,
      exited_at: st.exitedAt,
      exit_kind: st.exitKind,
      entered_via: 'import',
      stall_at: st.exitedAt === null ? s.stay.stallAt : null,
      stalled_at: null,
      imported: 1,
    })),
    event: {
      lead_id: s.id,
      seq: 1,
      type: 'lead.imported',
      at: ctx.now,
      actor: JSON.stringify(ctx.actor),
      payload: JSON.stringify({
        type: 'lead.imported',
        source: ctx.source,
        source_id: plan.sourceId,
        file: ctx.file,
        line: plan.line,
      }),
      process_version: s.processVersion,
    },
    owner:
      s.owner === null
        ? null
        : {
            lead_id: s.id,
            seq: 1,
            idx: 0,
            at: s.createdAt,
            from_owner: null,
            to_owner: s.owner,
            reason: 'import',
            rule: null,
          },
  };
}
