import { presentCloseDate } from '../domain/close-date.js';
import type { Fields } from '../domain/conditions.js';
import type { LeadRow, LeadWorkTimes } from '../store/lead-search.js';
import type { LeadColumns } from '../store/leads.js';
import type { TaskRecord } from '../store/queries.js';
import type { TaskQueueHit } from '../store/task-search.js';

/** The JSON the API answers for each resource: ISO times, money in major units, names as in METRICS.md. */

export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}

export function presentLead(r: LeadRow) {
  return presentLeadWith(r, JSON.parse(r.fields) as Fields);
}

/** A lead from its columns and its fields already parsed (the engine's state of a lead just created). */
export function presentLeadWith(
  r: LeadColumns & Partial<Pick<LeadRow, 'import_source'>> & LeadWorkTimes,
  fields: Fields,
) {
  return {
    id: r.id,
    version: r.version,
    pipeline: r.pipeline,
    stage: r.stage,
    stageEnteredAt: new Date(r.stage_entered_at).toISOString(),
    status: r.status,
    owner: r.owner,
    contact: {
      name: r.name,
      email: r.email,
      phone: r.phone,
      company: r.company,
    },
    value: r.value_minor === null ? null : r.value_minor / 100,
    source: r.source,
    product: r.product,
    territory: r.territory,
    // A calendar day: the instant with the organisation's offset, so it reads as that day there.
    expectedClose: presentCloseDate(r.expected_close, fields['expected_close']),
    fields,
    processVersion: r.process_version,
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
    closedAt: isoOrNull(r.closed_at),
    closeReason: r.close_reason,
    error: r.error,
    importedFrom: r.import_source ?? null,
    lastActivityAt: isoOrNull(r.last_activity_at),
    nextTaskDueAt: isoOrNull(r.next_task_due_at),
  };
}
export type LeadJson = ReturnType<typeof presentLead>;

export function presentTask(t: TaskRecord) {
  return {
    id: t.id,
    lead: t.lead,
    stage: t.stage,
    template: t.template,
    title: t.title,
    kind: t.kind,
    status: t.status,
    assignee: t.assignee,
    dueAt: new Date(t.dueAt).toISOString(),
    overdueAt: new Date(t.overdueAt).toISOString(),
    createdAt: new Date(t.createdAt).toISOString(),
    completedAt: isoOrNull(t.completedAt),
    skippedAt: isoOrNull(t.skippedAt),
    skipReason: t.skipReason,
    adHoc: t.adHoc === true,
    note: t.note ?? null,
  };
}

/**
 * A task in a work queue: the task, and its lead's name, person, company, value and stage name;
 * null when the caller does not reach the lead (a done task of hers on a colleague's lead).
 */
export function presentQueuedTask(t: TaskQueueHit, stageName: string) {
  const l = t.leadSummary;
  return {
    ...presentTask(t),
    leadSummary:
      l === null
        ? null
        : {
            name: l.name,
            person: l.person,
            company: l.company,
            value: l.valueMinor === null ? null : l.valueMinor / 100,
            status: l.status,
            pipeline: l.pipeline,
            stageName,
          },
  };
}

export function etagOf(version: number): string {
  return `"${version}"`;
}
