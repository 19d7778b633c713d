import { describe as describeCondition } from '../domain/conditions.js';
import type { LogEntry } from '../domain/decide.js';
import type { LeadState } from '../domain/lead.js';
import type { Process } from '../domain/process-schema.js';
import {
  goalChecklist,
  goalFacts,
  requiredFields,
  stagePlace,
  type RequiredFields,
} from '../domain/stage-checklist.js';
import type { Store } from '../store/db.js';
import { loadLeads } from '../store/leads.js';
import { processVersion } from '../store/processes.js';
import { findLead, leadStays, listTasks, type LeadRecord, type StayRecord, type TaskRecord } from '../store/queries.js';
import { CliError } from './errors.js';
import { formatPairs, formatTime, iso, table } from './output.js';

/** A lead as people read it: where it is, who has it, what is left to do, and how it got there. */

export interface LeadPage {
  lead: LeadRecord;
  openTasks: TaskRecord[];
  stays: StayRecord[];
  /** The process version the lead follows, for stage names, goal and guidance. */
  process: Process | null;
  /** The lead's working state, whose facts the goal checklist is judged on. */
  state: LeadState | null;
}

export async function loadLeadPage(store: Store, id: string): Promise<LeadPage> {
  const lead = await findLead(store.db, id);
  if (!lead) throw new CliError(`lead "${id}" does not exist [unknown_lead]`);
  const [openTasks, stays, stored, loaded] = await Promise.all([
    listTasks(store.db, { lead: id, status: 'open', limit: 1000 }),
    leadStays(store.db, id),
    processVersion(store.db, lead.processVersion),
    loadLeads(store.db, [id], false),
  ]);
  return { lead, openTasks, stays, process: stored?.process ?? null, state: loaded.get(id)?.state ?? null };
}

export function zoneOf(page: LeadPage): string {
  return page.process?.organisation.timezone ?? 'UTC';
}

function stageOf(page: LeadPage): { pipelineName: string; name: string; index: number; count: number } | null {
  const place = page.process ? stagePlace(page.process, page.lead.pipeline, page.lead.stage) : null;
  if (!place) return null;
  return { pipelineName: place.pipeline.name, name: place.stage.name, index: place.index, count: place.count };
}

/** What the lead still needs: the goal as a checklist, and the fields a strict stage holds it for. */
function checklistLines(page: LeadPage): string[] {
  const { lead, state } = page;
  const place = page.process ? stagePlace(page.process, lead.pipeline, lead.stage) : null;
  if (!place || !state || lead.status !== 'open') return [];
  const out: string[] = [];
  if (place.stage.goal) {
    out.push('  goal checklist');
    for (const item of goalChecklist(place.stage.goal, goalFacts(state)))
      out.push(`    ${'  '.repeat(item.depth)}${item.met ? '✓' : '✗'} ${item.text}`);
  }
  const fieldList = (r: RequiredFields) => r.fields.map((f) => `${f.field} ${f.set ? '✓' : '✗'}`).join(', ');
  if (place.stage.strict && place.stage.required_fields.length > 0)
    out.push(`  to leave this strict stage  ${fieldList(requiredFields(place.stage, lead.fields))}`);
  const next = place.next;
  if (next?.strict && next.required_fields.length > 0)
    out.push(`  next stage ${next.id} is strict, to leave it  ${fieldList(requiredFields(next, lead.fields))}`);
  return out;
}

export function taskRows(tasks: readonly TaskRecord[], zone: string): string[][] {
  return tasks.map((t) => [
    t.id,
    t.title,
    `(${t.kind})`,
    t.assignee ?? '(unassigned)',
    `due ${formatTime(t.dueAt, zone)}`,
  ]);
}

export function renderLead(page: LeadPage, opts: { full: boolean }): string[] {
  const { lead } = page;
  const zone = zoneOf(page);
  const stage = stageOf(page);
  const pl = page.process?.pipelines.find((p) => p.id === lead.pipeline);
  const stageDef = pl?.stages.find((s) => s.id === lead.stage);
  const status =
    lead.status === 'open'
      ? 'open'
      : `${lead.status} ${formatTime(lead.closedAt, zone)}${lead.closeReason ? ` (${lead.closeReason})` : ''}`;
  const rows: string[][] = [
    ['pipeline', stage ? `${lead.pipeline} · ${stage.pipelineName}` : lead.pipeline],
    [
      'stage',
      `${stage ? `${lead.stage} · ${stage.name} (${stage.index + 1}/${stage.count})` : lead.stage}, since ${formatTime(lead.stageEnteredAt, zone)}`,
    ],
    ['status', status],
    ['owner', lead.owner ?? '(none)'],
    ['fields', Object.keys(lead.fields).length > 0 ? formatPairs(lead.fields) : '(none)'],
  ];
  if (lead.status === 'open' && stageDef?.goal) rows.push(['goal', describeCondition(stageDef.goal)]);
  if (opts.full) rows.push(['process', `version ${lead.processVersion}`]);
  if (lead.error) rows.push(['error', lead.error]);
  const out = [`${lead.id}${lead.name ? `  ${lead.name}` : ''}`, ...table(rows, '  ')];
  if (opts.full && stageDef?.guidance) {
    out.push('  guidance');
    for (const line of stageDef.guidance.trim().split('\n')) out.push(`    ${line}`);
  }
  if (opts.full) out.push(...checklistLines(page));
  if (page.openTasks.length === 0) out.push('  open tasks  (none)');
  else out.push('  open tasks', ...table(taskRows(page.openTasks, zone), '    '));
  if (opts.full) {
    out.push('  stays');
    const stays = page.stays.map((s) => [
      String(s.seq),
      `${s.pipeline}/${s.stage}`,
      formatTime(s.enteredAt, zone),
      '->',
      s.exitedAt === null ? 'now' : formatTime(s.exitedAt, zone),
      s.exit ?? '',
      `via ${s.via}${s.stalledAt === null ? '' : `, stalled ${formatTime(s.stalledAt, zone)}`}`,
    ]);
    out.push(...table(stays, '    '));
  }
  return out;
}

/** What the rules did with the event just submitted, one line each. */
export function renderLog(log: readonly LogEntry[]): string[] {
  if (log.length === 0) return [];
  return [
    '  what happened',
    ...table(
      log.map((l) => [l.kind, l.message]),
      '    ',
    ),
  ];
}

export function leadJson(page: LeadPage): Record<string, unknown> {
  const { lead } = page;
  return {
    ...lead,
    stageEnteredAt: iso(lead.stageEnteredAt),
    createdAt: iso(lead.createdAt),
    closedAt: iso(lead.closedAt),
    updatedAt: iso(lead.updatedAt),
    openTasks: page.openTasks.map(taskJson),
    stays: page.stays.map((s) => ({
      ...s,
      enteredAt: iso(s.enteredAt),
      exitedAt: iso(s.exitedAt),
      stalledAt: iso(s.stalledAt),
    })),
  };
}

export function taskJson(t: TaskRecord): Record<string, unknown> {
  return {
    ...t,
    dueAt: iso(t.dueAt),
    overdueAt: iso(t.overdueAt),
    createdAt: iso(t.createdAt),
    completedAt: iso(t.completedAt),
    skippedAt: iso(t.skippedAt),
  };
}
