import type { Process } from '../../domain/process-schema.js';
import { repOutcomes, stagePasses, taskTimings, type Window } from '../../store/reports/coaching.js';
import { coachingFigures, taskGaps, type RepCoaching, type StageFigures } from '../coaching-math.js';
import { DAY_MS, major, round, roundOrNull } from '../figures.js';
import { periodBound } from '../period.js';
import { ReportError, type ReportContext, type ReportDefinition, type ReportRow } from '../report.js';
import { refuseUnread } from './keyed-period.js';

/**
 * METRICS.md §7. With --owner: the rep's per-stage rates against the team and the top reps, the
 * weakest stage by impact, its guidance, and the stage's tasks top reps complete on time more
 * often. Without: the manager's view, every rep's weakest stage and its impact, largest first.
 * The window is --from/--to when given, else the 180 days (--window) up to --to or now.
 *
 * A top rep is measured against the best reps other than themselves (coaching-math benchmarkOf).
 *
 * Limited to some owners (a manager's reach, a rep's own plan, --team): only those reps are listed
 * or may be asked for with --owner. The benchmarks (team rate, top reps' rate, w, the team's mean
 * won value) stay organisation-wide figures, aggregated over every rep; a top rep outside the
 * owners is never named, only said to exist.
 */

const MINUTE_MS = 60_000;

function coachingWindow(ctx: ReportContext): Window {
  const days = ctx.options['window'] === undefined ? 180 : Number(ctx.options['window']);
  if (!Number.isInteger(days) || days <= 0)
    throw new ReportError(`--window must be a whole number of days, not "${ctx.options['window']}"`);
  const explicit = ctx.options['fromGiven'] === 'yes';
  if (explicit && ctx.options['window'] !== undefined)
    throw new ReportError('give either --window or --from, not both: --from already says where the window starts');
  // "Now" to the whole minute: the window then reads 2026-11-29T02:58+01:00, not with seconds and
  // milliseconds nobody asked for, and two runs in the same minute give the same figures.
  const to = ctx.options['toGiven'] === 'yes' ? ctx.period.to : Math.floor(ctx.now / MINUTE_MS) * MINUTE_MS;
  return { from: explicit ? ctx.period.from : to - days * DAY_MS, to };
}

function stageOf(process: Process, pipeline: string, index: number): { id: string; name: string; guidance: string } {
  const s = process.pipelines.find((p) => p.id === pipeline)?.stages[index];
  return { id: s?.id ?? String(index), name: s?.name ?? String(index), guidance: s?.guidance ?? '' };
}

const STAGE_COLUMNS = [
  'pipeline',
  'stage',
  'stage_id',
  'n',
  'x',
  'rate',
  'shrunk_rate',
  'team_rate',
  'top_rate',
  'gap',
  'impact',
] as const;
const MANAGER_COLUMNS = [
  'owner',
  'owner_id',
  'win_rate',
  'pipeline',
  'weakest_stage',
  'n',
  'shrunk_rate',
  'top_rate',
  'gap',
  'impact',
] as const;

function stageRow(process: Process, s: StageFigures): ReportRow {
  const stage = stageOf(process, s.pipeline, s.index);
  return {
    pipeline: s.pipeline,
    stage: stage.name,
    stage_id: stage.id,
    n: s.n,
    x: s.x,
    rate: roundOrNull(s.rate, 4),
    shrunk_rate: round(s.shrunkRate, 4),
    team_rate: round(s.teamRate, 4),
    top_rate: round(s.topRate, 4),
    gap: round(s.gap, 4),
    impact: major(Math.round(s.impact)),
  };
}

export const coaching: ReportDefinition = {
  name: 'coaching',
  description: "each rep's weakest stage against the top reps and what it costs; --owner REP for one rep's plan",
  dimensions: [],
  units: {
    win_rate: 'ratio',
    n: 'count',
    x: 'count',
    rate: 'ratio',
    shrunk_rate: 'ratio',
    team_rate: 'ratio',
    top_rate: 'ratio',
    gap: 'points',
    largest_gap: 'points',
    impact: 'money',
    mean_won: 'money',
    top_on_time: 'ratio',
    rep_on_time: 'ratio',
    top_due: 'count',
    rep_due: 'count',
  },
  options: { owner: 'the rep to coach (id or name)', window: 'days back (default 180)' },
  async run(ctx) {
    refuseUnread(ctx, 'coaching', ['owner', 'window']);
    const w = coachingWindow(ctx);
    // The JSON's from/to are the window the figures are for, not the default month.
    ctx.period.from = w.from;
    ctx.period.to = w.to;
    const pipelines = ctx.process.pipelines.filter((p) => ctx.scope.pipeline === null || p.id === ctx.scope.pipeline);
    const stages = pipelines.flatMap((p) => p.stages.map((_, index) => ({ pipeline: p.id, index })));
    ctx.progress(0, 3);
    const passes = await stagePasses(ctx.tx, stages, w);
    ctx.progress(1, 3);
    const outcomes = await repOutcomes(ctx.tx, w);
    ctx.progress(2, 3);
    const figures = coachingFigures(passes, outcomes);
    const names = new Map(ctx.process.users.map((u) => [u.id, u.name]));
    // What each named top rep's rank rests on, so a benchmark built on a handful of closes shows.
    const closed = new Map(outcomes.map((o) => [o.owner, o]));
    const closesOf = (rep: string): string => {
      const o = closed.get(rep);
      return o ? ` (${o.won} of ${o.won + o.lost} won)` : '';
    };
    const owners = ctx.scope.owners === null ? null : new Set(ctx.scope.owners);
    const inScope = (rep: string): boolean => owners === null || owners.has(rep);
    const zone = ctx.process.organisation.timezone;
    const notes = [
      `window ${periodBound(w.from, zone)} to ${periodBound(w.to, zone)}; top reps: ${topRepsText(figures.topReps, inScope, names, closesOf)}`,
      ...(ctx.scope.pipeline === null
        ? []
        : [`stages of ${ctx.scope.pipeline} only; win rates and won values count every pipeline`]),
      ...(owners === null
        ? []
        : ['team_rate, top_rate, w and the team mean won value are benchmarks over every rep of the organisation']),
    ];

    const wanted = ctx.options['owner'];
    if (wanted === undefined) {
      const listed = figures.reps.filter((r) => inScope(r.owner));
      const rows = listed
        .map((r) => ({ r, impact: r.weakest?.impact ?? 0 }))
        .sort((a, b) => b.impact - a.impact || a.r.owner.localeCompare(b.r.owner))
        .map(({ r }) => managerRow(ctx.process, r, names));
      ctx.progress(3, 3);
      const unpriced = listed.flatMap((r) =>
        r.weakest === null && r.largestGap ? [{ owner: r.owner, s: r.largestGap }] : [],
      );
      return { rows, columns: MANAGER_COLUMNS, notes: [...notes, ...unpricedNote(ctx.process, unpriced, names)] };
    }

    const user = ctx.process.users.find((u) => u.id === wanted || u.name.toLowerCase() === wanted.toLowerCase());
    if (!user) throw new ReportError(`unknown rep "${wanted}" (a user id or name of the process)`);
    if (!inScope(user.id)) throw new ReportError(`rep "${wanted}" is outside the people this report is limited to`);
    const rep = figures.reps.find((r) => r.owner === user.id);
    const rows = (rep?.stages ?? []).map((s) => stageRow(ctx.process, s));
    if (rep && figures.topReps.includes(rep.owner))
      notes.push(
        rep.benchmark.length === 0
          ? `${user.name} is the only rep with a closed lead in this window: top_rate is the team rate`
          : `${user.name} is a top rep: top_rate is over the best reps other than ${user.name} (${topRepsText(rep.benchmark, inScope, names)}), never over their own leads`,
      );
    if (!rep?.weakest) {
      ctx.progress(3, 3);
      // No stage figures at all is no evidence, not a clean bill of health; and a rep behind with
      // nothing won past the stage yet is still behind: say which it is.
      const why =
        rep === undefined || rows.length === 0
          ? `${user.name} has no leads that reached or left a stage in this window, so there is nothing to compare`
          : rep.largestGap
            ? `${user.name} is ${behindText(ctx.process, rep.meanWon, rep.largestGap)}`
            : `${user.name} has no stage behind the top reps in this window`;
      return {
        rows,
        columns: STAGE_COLUMNS,
        summary: {
          owner: user.name,
          owner_id: user.id,
          win_rate: roundOrNull(rep?.winRate ?? null, 4),
          mean_won: rep ? major(Math.round(rep.meanWon)) : null,
          pipeline: null,
          weakest_stage: null,
          weakest_stage_id: null,
          gap: null,
          // No stage figures: no cost to state (null), unlike a rep on par with the top reps (0).
          impact: rows.length === 0 ? null : 0,
          guidance: null,
          tasks: [],
          ...largestGapFields(ctx.process, rep?.largestGap ?? null),
        },
        notes: [...notes, why],
      };
    }
    const stage = stageOf(ctx.process, rep.weakest.pipeline, rep.weakest.index);
    const timings = await taskTimings(ctx.tx, w);
    ctx.progress(3, 3);
    const tasks = taskGaps(timings, user.id, rep.benchmark, { pipeline: rep.weakest.pipeline, stage: stage.id }).map(
      (g) => ({
        task: g.title,
        task_id: g.template,
        top_on_time: round(g.topOnTime, 4),
        rep_on_time: roundOrNull(g.repOnTime, 4),
        top_due: g.topDue,
        rep_due: g.repDue,
      }),
    );
    return {
      rows,
      columns: STAGE_COLUMNS,
      summary: {
        owner: user.name,
        owner_id: user.id,
        win_rate: roundOrNull(rep.winRate, 4),
        mean_won: major(Math.round(rep.meanWon)),
        pipeline: rep.weakest.pipeline,
        weakest_stage: stage.name,
        weakest_stage_id: stage.id,
        gap: round(rep.weakest.gap, 4),
        impact: major(Math.round(rep.weakest.impact)),
        guidance: stage.guidance,
        tasks,
        ...largestGapFields(ctx.process, rep.largestGap),
      },
      notes,
    };
  },
};

/**
 * Where the rep is furthest behind the top reps, whatever it costs: the same stage as
 * weakest_stage unless the largest gap has less value at stake than another stage's.
 */
function largestGapFields(process: Process, s: StageFigures | null): ReportRow {
  const stage = s ? stageOf(process, s.pipeline, s.index) : null;
  return {
    largest_gap_pipeline: s?.pipeline ?? null,
    largest_gap_stage: stage?.name ?? null,
    largest_gap_stage_id: stage?.id ?? null,
    largest_gap: s ? round(s.gap, 4) : null,
  };
}

/**
 * "behind the top reps at Demo by 33.3 pp, but ..." with why nothing is at stake there yet: impact
 * is n x gap x w x v with n and gap above 0, so v is 0 (nothing won) or else w is.
 */
function behindText(process: Process, meanWon: number, s: StageFigures): string {
  const why =
    meanWon === 0
      ? 'nothing was won in this window to weigh it by'
      : 'none of the leads that got past it has been won yet';
  return `behind the top reps at ${stageOf(process, s.pipeline, s.index).name} by ${pointsText(s.gap)}, but no value is at stake there yet: ${why}`;
}

/** A gap in percentage points, as the text table shows it but without the sign (it is above 0). */
const pointsText = (gap: number): string => `${(gap * 100).toFixed(1)} pp`;

/** The listed reps behind the top reps with nothing at stake yet, whom the impact order puts last. */
function unpricedNote(
  process: Process,
  reps: readonly { owner: string; s: StageFigures }[],
  names: Map<string, string>,
): string[] {
  if (reps.length === 0) return [];
  const each = reps.map(
    ({ owner, s }) =>
      `${names.get(owner) ?? owner} at ${stageOf(process, s.pipeline, s.index).name} by ${pointsText(s.gap)}`,
  );
  return [
    `behind the top reps with no value at stake yet (nothing won past the stage, or nothing won to weigh it by), so no weakest stage: ${each.join(', ')}`,
  ];
}

/**
 * The top reps by name (each with `detail`, if given); those outside the report's owners only as
 * "others", never by name or count.
 */
function topRepsText(
  top: readonly string[],
  inScope: (rep: string) => boolean,
  names: Map<string, string>,
  detail: (rep: string) => string = () => '',
): string {
  if (top.length === 0) return 'none';
  const named = top.filter(inScope).map((r) => `${names.get(r) ?? r}${detail(r)}`);
  if (named.length === top.length) return named.join(', ');
  const others = 'reps outside the people this report is limited to';
  return named.length === 0 ? others : `${named.join(', ')} and ${others}`;
}

function managerRow(process: Process, r: RepCoaching, names: Map<string, string>): ReportRow {
  const s = r.weakest;
  const stage = s ? stageOf(process, s.pipeline, s.index) : null;
  return {
    owner: names.get(r.owner) ?? r.owner,
    owner_id: r.owner,
    win_rate: roundOrNull(r.winRate, 4),
    pipeline: s?.pipeline ?? null,
    weakest_stage: stage?.name ?? null,
    n: s?.n ?? null,
    shrunk_rate: s ? round(s.shrunkRate, 4) : null,
    top_rate: s ? round(s.topRate, 4) : null,
    gap: s ? round(s.gap, 4) : null,
    impact: s ? major(Math.round(s.impact)) : 0,
  };
}
