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

/** A time and the text the file wrote for it, which a message quotes rather than a converted date. */
export interface Stamp {
  at: number;
  text: string;
}

export interface RebuildInput {
  leadId: string;
  pipeline: Pipeline;
  /** The stage the deal is in now, or closed in. */
  current: number;
  createdAt: Stamp;
  /** When it entered the current stage, if the export says (Pipedrive "Last stage change"). */
  currentEnteredAt: Stamp | null;
  /** Stage index -> entry time, from per-stage date columns. */
  dated: readonly (Stamp & { index: number })[];
  closedAt: Stamp | null;
  status: 'open' | 'won' | 'lost';
  processVersion: number;
  stallDays: (index: number) => number;
}

export type RebuildResult =
  | {
      ok: true;
      stays: RebuiltStay[];
      warnings: string[];
      /** The dated points each warning is about, in the same order: the caller names their columns. */
      ignored: (Stamp & { index: number })[];
    }
  | { ok: false; problems: string[] };

export function rebuildStays(input: RebuildInput): RebuildResult {
  const { pipeline, current, createdAt, closedAt } = input;
  const points = input.dated.filter((d) => d.index !== current || input.currentEnteredAt === null);
  const latestPoint = latest(points);
  const currentAt: Stamp =
    input.currentEnteredAt ??
    latest(points.filter((p) => p.index === current)) ??
    (latestPoint && latestPoint.at > createdAt.at ? latestPoint : createdAt);
  // A later stage entered after the current one means the deal moved back; the export keeps no exit
  // for it, so the current stage's entry is the truth and the later dates are dropped (and said).
  const ignored = points.filter((p) => p.index !== current && p.at > currentAt.at);
  const warnings = ignored.map(
    (p) => `the date entering ${stageName(pipeline, p.index)} is after the current stage's entry; ignored`,
  );
  const entries = points
    .filter((p) => p.index !== current && p.at <= currentAt.at)
    .map((p) => ({ index: p.index, at: p.at }));
  entries.push({ index: current, at: currentAt.at });
  const first = Math.min(...entries.map((e) => e.at));
  if (createdAt.at < first && !entries.some((e) => e.index === 0)) entries.push({ index: 0, at: createdAt.at });
  // Oldest first; on a tie the earlier stage first, so a deal created and moved the same day reads in order.
  entries.sort((a, b) => a.at - b.at || a.index - b.index);

  if (closedAt !== null && closedAt.at < currentAt.at)
    return {
      ok: false,
      problems: [
        `closes on "${closedAt.text}", before it entered ${stageName(pipeline, current)} on "${currentAt.text}"`,
      ],
    };

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
      exitedAt: next ? next.at : closing ? (closedAt?.at ?? null) : null,
      exitKind: next ? 'moved' : closing ? (input.status as 'won' | 'lost') : null,
      stallDays: input.stallDays(e.index),
    };
  });
  return { ok: true, stays, warnings, ignored };
}

/** The latest of some stamps (the first of equals), or null. */
function latest<T extends Stamp>(points: readonly T[]): T | null {
  return points.reduce<T | null>((a, p) => (a === null || p.at > a.at ? p : a), null);
}

function stageId(p: Pipeline, i: number): string {
  return p.stages[i]?.id ?? String(i);
}

function stageName(p: Pipeline, i: number): string {
  return p.stages[i]?.name ?? String(i);
}
