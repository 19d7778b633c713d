import { describe as describeCondition } from '../domain/conditions.js';
import type { LogEntry } from '../domain/decide.js';
import type { Process } from '../domain/process-schema.js';
import type { Store } from '../store/db.js';
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
}

export async function loadLeadPage(store: Store, id: string): Promise<LeadPage> {
  const lead = await findLead(store.db, id);
  if (!lead) throw new CliError(`lead "${id}" does not exist [unknown_lead]`);
  const [openTasks, stays, stored] = await Promise.all([
    listTasks(store.db, { lead: id, status: 'open', limit: 1000 }),
    leadStays(store.db, id),
    processVersion(store.db, lead.processVersion),
  ]);
  return { lead, openTasks, stays, process: stored?.process ?? null };
}

export function zoneOf(page: LeadPage): string {
  return page.process?.organisation.timezone ?? 'UTC';
}

function stageOf(page: LeadPage): { pipelineName: string; name: string; index: number; count: number } | null {
  const pl = page.process?.pipelines.find((p) => p.id === page.lead.pipeline);
  const index = pl?.stages.findIndex((s) => s.id === page.lead.stage) ?? -1;
  const stage = pl?.stages[index];
  if (!pl || !stage) return null;
  return { pipelineName: pl.name, name: stage.name, index, count: pl.stages.length };
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
