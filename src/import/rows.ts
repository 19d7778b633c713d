import type { Actor } from '../domain/events.js';
import { leadKeys } from '../store/lead-keys.js';
import { leadRow } from '../store/leads.js';
import { reachAfter } from '../store/lead-reach.js';
import type { ImportedLeadRows } from '../store/import-writer.js';
import type { PlannedLead } from './plan.js';

/**
 * A planned lead as the rows the store writes: the lead and its rebuilt stays. The import itself is
 * not an event of the lead (its seq stays 0); the lead row names the export and record it came from.
 */
export function importedRows(
  plan: PlannedLead,
  ctx: { source: string; file: string; now: number; actor: Actor },
): ImportedLeadRows {
  const s = plan.state;
  // Every rebuilt stay is in the lead's pipeline.
  const reach = reachAfter(
    s.pipeline,
    null,
    plan.stays.map((st) => ({ pipeline: s.pipeline, stage_index: st.stageIndex })),
  );
  const row = leadRow(s, 1, ctx.now, reach);
  return {
    lead: {
      ...row,
      company: plan.company,
      phone: plan.phone,
      // The keys of the company as written here, not as the fields had it.
      ...leadKeys({ name: row.name, email: row.email, company: plan.company, fields: s.fields }),
      import_source: ctx.source,
      source_id: plan.sourceId,
      imported_at: ctx.now,
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
      stalled_at: st.exitedAt === null ? s.stay.stalledAt : null,
      imported: 1,
    })),
  };
}
