import type { RepOutcome, StagePassRow, TaskTiming } from '../store/reports/coaching.js';

/**
 * METRICS.md §7 on the counts from SQL, pure: team and top-quarter rates per stage, each rep's
 * shrunk rate, gap and impact, the weakest stage, and the tasks top reps do on time more often.
 * Refined (docs/reports.md, coaching): a top rep is measured against the best reps other than
 * themselves, not against a benchmark holding their own leads, and the benchmark's rate is shrunk
 * like the rep's, so that like is compared with like.
 */

export const SHRINK_WEIGHT = 10;

export interface StageKey {
  pipeline: string;
  index: number;
}

export interface StageFigures extends StageKey {
  n: number;
  x: number;
  rate: number | null;
  shrunkRate: number;
  teamRate: number;
  topRate: number;
  gap: number;
  /** Won value at stake, in minor units. */
  impact: number;
}

export interface RepCoaching {
  owner: string;
  winRate: number | null;
  /** v_r: the rep's mean won value (team mean if the rep has no wins), minor units. */
  meanWon: number;
  /** The reps whose pooled, shrunk stage rates are this rep's top_rate: the top reps, never the rep. */
  benchmark: string[];
  stages: StageFigures[];
  /** The stage with the largest impact > 0, or null. */
  weakest: StageFigures | null;
  /**
   * The stage where the rep is furthest behind the top reps (largest gap > 0), whatever its
   * impact, or null when no gap is above 0. A rep can be behind with no value at stake yet (no
   * lead past the stage won, or no won value to weigh by): weakest is null, this is not.
   */
  largestGap: StageFigures | null;
}

export interface CoachingFigures {
  reps: RepCoaching[];
  topReps: string[];
}

/** A stage rate of x in n, shrunk towards the team rate with the weight of SHRINK_WEIGHT leads. */
const shrunk = (x: number, n: number, teamRate: number): number => (x + SHRINK_WEIGHT * teamRate) / (n + SHRINK_WEIGHT);

const key = (s: StageKey): string => `${s.pipeline}\u0000${s.index}`;

/**
 * Reps with closed leads in the window, best first by their win rate shrunk towards the team's
 * like the stage rates, `(won + 10 p_team) / (closed + 10)`: a rep with one lucky win among few
 * closes does not outrank one who won most of many and become everyone's benchmark. Ties go by
 * owner id, so the order does not change from run to run.
 */
export function rankReps(outcomes: readonly RepOutcome[]): string[] {
  const closed = outcomes.filter((o) => o.won + o.lost > 0);
  const teamWon = closed.reduce((a, o) => a + o.won, 0);
  const teamClosed = closed.reduce((a, o) => a + o.won + o.lost, 0);
  const teamRate = teamClosed === 0 ? 0 : teamWon / teamClosed;
  return closed
    .map((o) => ({ owner: o.owner, rate: shrunk(o.won, o.won + o.lost, teamRate) }))
    .sort((a, b) => b.rate - a.rate || a.owner.localeCompare(b.owner))
    .map((r) => r.owner);
}

/**
 * How many reps make the top quarter of `ranked` reps: floor(n / 4), so that it never reaches
 * beyond a quarter (8 of 31 would be 26 %), and at least one (fewer than four reps).
 */
const topCount = (ranked: number): number => Math.max(1, Math.floor(ranked / 4));

/** The top quarter of reps by shrunk win rate, among reps with closed leads. */
export function topQuarter(outcomes: readonly RepOutcome[]): string[] {
  const ranked = rankReps(outcomes);
  return ranked.slice(0, topCount(ranked.length));
}

/**
 * The reps `owner` is measured against: the top quarter, and for a top rep the same number of
 * best reps other than themselves (the other top reps and the next one down), so no rep is ever
 * compared with their own leads. Empty when no other rep closed a lead.
 */
export function benchmarkOf(ranked: readonly string[], owner: string): string[] {
  return ranked.filter((o) => o !== owner).slice(0, topCount(ranked.length));
}

export function coachingFigures(passes: readonly StagePassRow[], outcomes: readonly RepOutcome[]): CoachingFigures {
  const ranked = rankReps(outcomes);
  const team = new Map<string, { n: number; x: number; won: number; closed: number }>();
  const repStage = new Map<string, StagePassRow>();
  for (const p of passes) {
    const k = key(p);
    const t = team.get(k) ?? { n: 0, x: 0, won: 0, closed: 0 };
    t.n += p.reached;
    t.x += p.passed;
    t.won += p.passedWon;
    t.closed += p.passedClosed;
    team.set(k, t);
    repStage.set(`${p.owner}\u0000${k}`, p);
  }
  /** The benchmark reps' pooled n and x at a stage. */
  const pooled = (bench: readonly string[], k: string): { n: number; x: number } =>
    bench.reduce(
      (a, o) => {
        const p = repStage.get(`${o}\u0000${k}`);
        return p ? { n: a.n + p.reached, x: a.x + p.passed } : a;
      },
      { n: 0, x: 0 },
    );
  const teamWon = outcomes.reduce((a, o) => a + o.wonValue, 0);
  const teamWins = outcomes.reduce((a, o) => a + o.won, 0);
  const teamMeanWon = teamWins === 0 ? 0 : teamWon / teamWins;
  const byOwner = new Map<string, StagePassRow[]>();
  for (const p of passes) byOwner.set(p.owner, [...(byOwner.get(p.owner) ?? []), p]);
  const outcomeOf = new Map(outcomes.map((o) => [o.owner, o]));

  const reps = [...byOwner.keys()].sort().map((owner): RepCoaching => {
    const o = outcomeOf.get(owner);
    const meanWon = o && o.won > 0 ? o.wonValue / o.won : teamMeanWon;
    const benchmark = benchmarkOf(ranked, owner);
    const stages = (byOwner.get(owner) ?? []).map((p): StageFigures => {
      const t = team.get(key(p)) ?? { n: 0, x: 0, won: 0, closed: 0 };
      const teamRate = t.n === 0 ? 0 : t.x / t.n;
      const q = pooled(benchmark, key(p));
      // Both sides shrunk the same way, so a rep is not behind merely for having fewer leads than a
      // benchmark with the same rate. A stage no benchmark rep worked gives the team rate.
      const topRate = shrunk(q.x, q.n, teamRate);
      const shrunkRate = shrunk(p.passed, p.reached, teamRate);
      const gap = topRate - shrunkRate;
      const winAfter = t.closed === 0 ? 0 : t.won / t.closed;
      return {
        pipeline: p.pipeline,
        index: p.index,
        n: p.reached,
        x: p.passed,
        rate: p.reached === 0 ? null : p.passed / p.reached,
        shrunkRate,
        teamRate,
        topRate,
        gap,
        impact: p.reached * Math.max(gap, 0) * winAfter * meanWon,
      };
    });
    return {
      owner,
      winRate: o && o.won + o.lost > 0 ? o.won / (o.won + o.lost) : null,
      meanWon,
      benchmark,
      stages,
      weakest: largestAbove(stages, (s) => s.impact),
      largestGap: largestAbove(stages, (s) => s.gap),
    };
  });
  return { reps, topReps: ranked.slice(0, topCount(ranked.length)).sort() };
}

/** The stage with the largest figure above 0 (the first of equals), or null when none is above 0. */
function largestAbove(stages: readonly StageFigures[], figure: (s: StageFigures) => number): StageFigures | null {
  return stages.reduce<StageFigures | null>((best, s) => (figure(s) > (best ? figure(best) : 0) ? s : best), null);
}

export interface TaskGap {
  template: string;
  title: string;
  topOnTime: number;
  repOnTime: number | null;
  topDue: number;
  repDue: number;
}

/** The stage's tasks that top reps complete on time more often than the rep (or the rep never had). */
export function taskGaps(
  timings: readonly TaskTiming[],
  owner: string,
  topReps: readonly string[],
  stage: { pipeline: string; stage: string },
): TaskGap[] {
  const top = new Set(topReps);
  const agg = new Map<string, { title: string; topDue: number; topOn: number; repDue: number; repOn: number }>();
  for (const t of timings) {
    if (t.pipeline !== stage.pipeline || t.stage !== stage.stage) continue;
    const a = agg.get(t.template) ?? { title: t.title, topDue: 0, topOn: 0, repDue: 0, repOn: 0 };
    if (top.has(t.assignee) && t.assignee !== owner) {
      a.topDue += t.due;
      a.topOn += t.onTime;
    }
    if (t.assignee === owner) {
      a.repDue += t.due;
      a.repOn += t.onTime;
    }
    agg.set(t.template, a);
  }
  return (
    [...agg]
      .filter(([, a]) => a.topDue > 0)
      .map(([template, a]) => ({
        template,
        title: a.title,
        topOnTime: a.topOn / a.topDue,
        repOnTime: a.repDue === 0 ? null : a.repOn / a.repDue,
        topDue: a.topDue,
        repDue: a.repDue,
      }))
      // Only tasks the rep had: one that goes to another team (a closers' review) is not theirs to improve.
      .filter((g): g is TaskGap & { repOnTime: number } => g.repOnTime !== null && g.topOnTime > g.repOnTime)
      .sort((a, b) => b.topOnTime - b.repOnTime - (a.topOnTime - a.repOnTime))
  );
}
