import type { Pipeline, Process } from '../../domain/process-schema.js';
import { ReportError, type ReportContext, type ReportRow } from '../report.js';

/** What the stage reports (funnel, flow, time in stage, ask to decision) share. */

/** Options the CLI passes to every report; a report refuses those it does not read. */
const REPORT_OPTIONS = ['owner', 'window', 'period'] as const;

export function refuseOptions(ctx: ReportContext, report: string, reads: readonly string[] = []): void {
  for (const o of REPORT_OPTIONS)
    if (!reads.includes(o) && ctx.options[o] !== undefined)
      throw new ReportError(
        `${report} has no --${o} option${reads.length > 0 ? ` (options: --${reads.join(', --')})` : ''}`,
      );
}

/** The pipeline a one-pipeline report is for: --pipeline, else the default one (said in a note). */
export function chosenPipeline(ctx: ReportContext): { pipeline: Pipeline; note: string | null } {
  const wanted = ctx.scope.pipeline;
  if (wanted !== null) {
    const p = ctx.process.pipelines.find((x) => x.id === wanted);
    if (!p) throw new ReportError(`unknown pipeline "${wanted}"`);
    return { pipeline: p, note: null };
  }
  const p = ctx.process.pipelines.find((x) => x.default) ?? (ctx.process.pipelines[0] as Pipeline);
  const others = ctx.process.pipelines.length > 1 ? '; choose another with --pipeline' : '';
  return {
    pipeline: p,
    note: `no --pipeline given: the ${p.default ? 'default' : 'first'} pipeline, ${p.id}${others}`,
  };
}

export interface StagePlace {
  /** Position of the pipeline in the process, then of the stage in it: the order rows are listed in. */
  pipelineOrder: number;
  /** null for a stage the process no longer has and whose recorded index is unknown. */
  index: number | null;
  name: string;
}

/**
 * Where a stage sits in the current process. A stage no longer in it (a stay recorded under an
 * older version) keeps the index recorded on its stays and its id as name, after the known ones.
 */
export function stagePlace(
  process: Process,
  pipeline: string,
  stage: string,
  recordedIndex: number | null,
): StagePlace {
  const pipelineOrder = process.pipelines.findIndex((p) => p.id === pipeline);
  const stages = process.pipelines[pipelineOrder]?.stages ?? [];
  const index = stages.findIndex((s) => s.id === stage);
  return {
    pipelineOrder: pipelineOrder < 0 ? process.pipelines.length : pipelineOrder,
    index: index < 0 ? recordedIndex : index,
    name: index < 0 ? stage : (stages[index]?.name ?? stage),
  };
}

/** Sorts rows by group key, then pipeline and stage order. */
export function byKeyThenStage<T extends { key: string; place: StagePlace }>(a: T, b: T): number {
  return (
    (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
    a.place.pipelineOrder - b.place.pipelineOrder ||
    (a.place.index ?? Number.MAX_SAFE_INTEGER) - (b.place.index ?? Number.MAX_SAFE_INTEGER)
  );
}

/** A total row carries no group fields (the table labels it `total`). */
export function withoutGroup(row: ReportRow, by: string | null): ReportRow {
  if (by === null) return row;
  const out: ReportRow = {};
  for (const [k, v] of Object.entries(row)) if (k !== by && k !== `${by}_id`) out[k] = v;
  return out;
}
