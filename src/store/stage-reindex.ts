import { sql, type RawBuilder } from 'kysely';
import type { Process } from '../domain/process-schema.js';
import type { Tx } from './db.js';
import { LOCK_ORDER, updatedAtNoEarlierThan } from './leads.js';

/**
 * Stays record a stage index, and every report that compares positions (funnel reached and
 * conversion, the stage win rates behind the `historical` probability and calibration, coaching,
 * adoption's forward exits) compares it with the current version's. So when a version moves the
 * stages of a pipeline (a stage inserted, reordered or removed), `process apply` re-indexes that
 * pipeline's history in the same transaction: every stay, open and closed leads alike, gets its
 * stage's new index; the lead rows' `stage_index` and `furthest_index` follow.
 *
 * A stay of a stage the new version removes gets the new index of the nearest kept stage before
 * it (in the order of the version it is removed from): a lead that reached the removed stage
 * reached at least that one, and no more is known of it in the new pipeline. With no kept stage
 * before it, -1: the lead reached no stage of the new pipeline. A stay of a stage an earlier
 * version removed was re-indexed then to a kept stage's position, so it follows that position.
 */

export interface StageReindex {
  pipeline: string;
  /** The new index of each stage either version has, by id. */
  byStage: readonly (readonly [string, number])[];
  /** For stays of a stage neither version has: its index now (a position in the current version) to the new one. */
  byPosition: readonly (readonly [number, number])[];
}

export interface Reindexed {
  /** Stays given a new index. */
  stays: number;
  /** Lead rows changed: their stage index or furthest index, or one of their stays. */
  leads: number;
}

/** The pipelines in both versions whose kept stages moved or that lost a stage, and how to map them. */
export function stageReindexes(current: Process | null, next: Process): StageReindex[] {
  if (!current) return [];
  const out: StageReindex[] = [];
  for (const after of next.pipelines) {
    const before = current.pipelines.find((p) => p.id === after.id);
    if (!before) continue;
    const newIndex = new Map(after.stages.map((s, i) => [s.id, i]));
    const moved = before.stages.some((s, i) => newIndex.get(s.id) !== i);
    if (!moved) continue;
    // The nearest kept stage at or before each current position, as a new index (-1: none).
    const atOrBefore: number[] = [];
    let last = -1;
    for (const s of before.stages) {
      last = newIndex.get(s.id) ?? last;
      atOrBefore.push(last);
    }
    const removed = before.stages.flatMap((s, i) => (newIndex.has(s.id) ? [] : [[s.id, atOrBefore[i] ?? -1] as const]));
    out.push({
      pipeline: after.id,
      byStage: [...newIndex, ...removed],
      byPosition: atOrBefore.flatMap((to, from) => (to === from ? [] : [[from, to] as const])),
    });
  }
  return out;
}

/** The new index of a row with `stage` and `stage_index` columns (a stay, a lead) in the pipeline. */
function newIndexOf(r: StageReindex, alias: string): RawBuilder<number> {
  const stage = sql.ref(`${alias}.stage`);
  const index = sql.ref(`${alias}.stage_index`);
  const arms = [
    ...r.byStage.map(([id, to]) => sql`when ${stage} = ${id} then ${sql.lit(to)}`),
    ...r.byPosition.map(([from, to]) => sql`when ${index} = ${sql.lit(from)} then ${sql.lit(to)}`),
  ];
  return sql<number>`case ${sql.join(arms, sql` `)} else ${index} end`;
}

/**
 * PostgreSQL: the lead rows apply writes are locked before anything is read, in one pass in id
 * order as the engine locks a batch's: the open leads, so that an event on one of them either
 * commits first (and apply then reads the stage it left the lead in) or waits for the apply and
 * decides under the new version (without it, an event that moved a lead while apply was running
 * left it on the old version); and the leads re-indexed (in a re-indexed pipeline, or elsewhere
 * with stays in one), so that a batch holding one of them while waiting for an open lead cannot
 * deadlock with the apply. SQLite's BEGIN IMMEDIATE already runs one writer at a time.
 */
export async function lockLeadsForApply(tx: Tx, reindexes: readonly StageReindex[]): Promise<void> {
  const pipelines = reindexes.map((r) => r.pipeline);
  const touched =
    pipelines.length === 0
      ? sql``
      : sql`or pipeline in (${sql.join(pipelines)}) or (other_pipelines = 1 and exists (
          select 1 from stage_stays s where s.lead_id = leads.id and s.pipeline in (${sql.join(pipelines)})))`;
  await sql`select id from leads where status = 'open' ${touched} order by ${LOCK_ORDER} for update`.execute(tx);
}

/**
 * Re-indexes each pipeline with one statement per table, not one per row: first the lead rows (a
 * new version and updated_at for every lead whose row or stays change, as for any change an
 * incremental export must catch; their furthest index computed from the stays as they will be),
 * then the stays. Rows already right are not written.
 */
export async function reindexStages(tx: Tx, reindexes: readonly StageReindex[], now: number): Promise<Reindexed> {
  const done: Reindexed = { stays: 0, leads: 0 };
  for (const r of reindexes) {
    const stayIndex = newIndexOf(r, 's');
    const leadIndex = newIndexOf(r, 'leads');
    const furthest = sql<number | null>`(select max(${stayIndex}) from stage_stays s
      where s.lead_id = leads.id and s.pipeline = leads.pipeline)`;
    // -2 is no index: furthest_index is null for a lead without stays in its pipeline.
    const inPipelineChanged = sql`leads.pipeline = ${r.pipeline} and (leads.stage_index <> ${leadIndex}
      or coalesce(leads.furthest_index, -2) <> coalesce(${furthest}, -2))`;
    // Per lead, a seek in stage_stays_lead_stage: an IN over the pipeline's changed stays made
    // PostgreSQL rescan them for each lead once they outgrew work_mem (minutes at 200,000 leads).
    const staysChange = sql`exists (select 1 from stage_stays s
      where s.lead_id = leads.id and s.pipeline = ${r.pipeline} and s.stage_index <> ${stayIndex})`;
    // Only a lead with stays in another pipeline (other_pipelines) can have stays here elsewhere.
    const leads = await sql`update leads set
        stage_index = case when leads.pipeline = ${r.pipeline} then ${leadIndex} else leads.stage_index end,
        furthest_index = case when leads.pipeline = ${r.pipeline} then ${furthest} else leads.furthest_index end,
        version = leads.version + 1,
        updated_at = ${updatedAtNoEarlierThan(now)}
      where (leads.pipeline = ${r.pipeline} or leads.other_pipelines = 1)
        and (${inPipelineChanged} or ${staysChange})`.execute(tx);
    // Not aliased: SQLite's UPDATE takes no alias.
    const ownIndex = newIndexOf(r, 'stage_stays');
    const stays = await sql`update stage_stays set stage_index = ${ownIndex}
      where stage_stays.pipeline = ${r.pipeline} and stage_stays.stage_index <> ${ownIndex}`.execute(tx);
    done.leads += Number(leads.numAffectedRows ?? 0);
    done.stays += Number(stays.numAffectedRows ?? 0);
  }
  return done;
}
