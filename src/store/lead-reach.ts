/**
 * How far a lead got, kept on its row for the reports: the furthest stage index among its stays in
 * its current pipeline, and whether it has stays in any other pipeline. "Reached" in METRICS.md §2
 * is the furthest stage index per pipeline; for a lead that never left its pipeline that is one
 * column the closed-leads index carries, so the stage win rates behind the `historical`
 * probability and calibration read an index range instead of seeking each lead's stays. A lead
 * with stays elsewhere (`other_pipelines` = 1) is read from its stays, and its `furthest_index` is
 * not to be relied on.
 */

export interface LeadReach {
  furthest_index: number | null;
  other_pipelines: number;
}

export interface StayPlace {
  pipeline: string;
  stage_index: number;
}

/**
 * The reach of a lead now in `pipeline`, from its reach before (in the pipeline it was in then,
 * null for a new lead or one whose stays were all replaced) and the stays it entered since.
 */
export function reachAfter(
  pipeline: string,
  before: (LeadReach & { pipeline: string }) | null,
  entered: readonly StayPlace[],
): LeadReach {
  const samePipeline = before !== null && before.pipeline === pipeline;
  let furthest = samePipeline ? before.furthest_index : null;
  // Stays elsewhere: known before, the old pipeline's if the lead has left it, or new ones.
  let other =
    before !== null && (before.other_pipelines === 1 || (!samePipeline && before.furthest_index !== null)) ? 1 : 0;
  for (const s of entered) {
    if (s.pipeline !== pipeline) other = 1;
    else if (furthest === null || s.stage_index > furthest) furthest = s.stage_index;
  }
  return { furthest_index: furthest, other_pipelines: other };
}
