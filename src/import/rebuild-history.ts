import type { ExitKind } from '../domain/lead.js';
import type { Pipeline } from '../domain/process-schema.js';

/**
 * Rebuilds a deal's stage stays from whatever dates its export kept. Only stages with evidence
 * get a stay: the first stage at creation (when the deal was created before it entered any
 * later stage), each stage with an entry date, and the current stage. Stays run back to back;
 * the last one ends at the close date, as won or lost, or is still open. Every rebuilt stay is
 * marked imported, and stays that ended by a later entry count as `moved` (the export cannot
 * say whether a goal drove it).
 */

export interface RebuiltStay {
  id: string;
  seq: number;
  stage: string;
  stageIndex: number;
  enteredAt: number;
  exitedAt: number | null;
  exitKind: ExitKind | null;
  stallDays: number;
}

export interface RebuildInput {
  leadId: string;
  pipeline: Pipeline;
  /** The stage the deal is in now, or closed in. */
  current: number;
  createdAt: number;
  /** When it entered the current stage, if the export says (Pipedrive "Last stage change"). */
  currentEnteredAt: number | null;
  /** Stage index -> entry time, from per-stage date columns. */
  dated: readonly { index: number; at: number }[];
  closedAt: number | null;
  status: 'open' | 'won' | 'lost';
  processVersion: number;
  stallDays: (index: number) => number;
}

export type RebuildResult = { ok: true; stays: RebuiltStay[]; warnings: string[] } | { ok: false; problems: string[] };

export function rebuildStays(input: RebuildInput): RebuildResult {
  const { pipeline, current, createdAt, closedAt } = input;
  const points = input.dated.filter((d) => d.index !== current || input.currentEnteredAt === null);
  const currentAt =
    input.currentEnteredAt ??
    latest(points.filter((p) => p.index === current)) ??
    Math.max(createdAt, latest(points) ?? createdAt);
  // A later stage entered after the current one means the deal moved back; the export keeps no exit
  // for it, so the current stage's entry is the truth and the later dates are dropped (and said).
  const warnings = points
    .filter((p) => p.index !== current && p.at > currentAt)
    .map((p) => `the date entering ${stageName(pipeline, p.index)} is after the current stage's entry; ignored`);
  const entries = points.filter((p) => p.index !== current && p.at <= currentAt);
  entries.push({ index: current, at: currentAt });
  const first = Math.min(...entries.map((e) => e.at));
  if (createdAt < first && !entries.some((e) => e.index === 0)) entries.push({ index: 0, at: createdAt });
  // Oldest first; on a tie the earlier stage first, so a deal created and moved the same day reads in order.
  entries.sort((a, b) => a.at - b.at || a.index - b.index);

  const problems: string[] = [];
  if (closedAt !== null && closedAt < currentAt)
    problems.push(`closes before it entered ${stageName(pipeline, current)} (${day(currentAt)})`);
  if (problems.length > 0) return { ok: false, problems };

  // Two dates for one stage in a row (a re-entry we cannot see the exit of) collapse into the first.
  const merged = entries.filter((e, i) => i === 0 || entries[i - 1]?.index !== e.index);
  const stays = merged.map((e, i): RebuiltStay => {
    const next = merged[i + 1];
    const closing = next === undefined && input.status !== 'open';
    return {
      id: `${input.leadId}#${i + 1}`,
      seq: i + 1,
      stage: stageId(pipeline, e.index),
      stageIndex: e.index,
      enteredAt: e.at,
      exitedAt: next ? next.at : closing ? closedAt : null,
      exitKind: next ? 'moved' : closing ? (input.status as 'won' | 'lost') : null,
      stallDays: input.stallDays(e.index),
    };
  });
  return { ok: true, stays, warnings };
}

function latest(points: readonly { at: number }[]): number | null {
  return points.length === 0 ? null : Math.max(...points.map((p) => p.at));
}

function stageId(p: Pipeline, i: number): string {
  return p.stages[i]?.id ?? String(i);
}

function stageName(p: Pipeline, i: number): string {
  return p.stages[i]?.name ?? String(i);
}

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
