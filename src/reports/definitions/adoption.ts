import {
  activeRepsWithTotal,
  forwardExits,
  neglectedLeads,
  taskTimeliness,
  type ActiveReps,
  type ForwardExits,
  type Neglect,
  type TaskTimeliness,
} from '../../store/reports/adoption.js';
import { DAY_MS, ratio } from '../figures.js';
import { periodBound } from '../period.js';
import {
  columnsOf,
  groupKeys,
  ReportError,
  type ReportContext,
  type ReportDefinition,
  type ReportRow,
} from '../report.js';
import { refuseOptions } from './stage-helpers.js';

/**
 * METRICS.md §1: is the team using the process? On-time task completion, the goal-driven share of
 * forward stage exits, neglected leads and active reps, per rep (owner), team or organisation.
 * Figures that need a task to be due, or a lead to be open "at `to`", are taken at min(to, now):
 * a period that has not ended is judged as of now.
 */

const DEFAULT_WINDOW_DAYS = 14;

const FIGURES = [
  'tasks_due',
  'on_time',
  'completed_late',
  'overdue_open',
  'skipped_overdue',
  'on_time_rate',
  'forward_exits',
  'goal_exits',
  'goal_driven_share',
  'open_leads',
  'neglected',
  'neglected_share',
  'reps',
  'active_reps',
  'active_rep_share',
] as const;

function neglectWindowDays(ctx: ReportContext): number {
  const raw = ctx.options['window'];
  if (raw === undefined) return DEFAULT_WINDOW_DAYS;
  const days = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(days) || days <= 0)
    throw new ReportError(`adoption: --window must be a whole number of days (the neglect window), not "${raw}"`);
  return days;
}

export const adoption: ReportDefinition = {
  name: 'adoption',
  description: 'on-time task completion, goal-driven advance share, neglected leads and active reps',
  dimensions: ['owner', 'team'],
  units: {
    ...Object.fromEntries(FIGURES.map((f) => [f, /_(rate|share)$/.test(f) ? 'ratio' : 'count'])),
    window_days: 'count',
  },
  options: { window: `neglect window in days before --to (default ${DEFAULT_WINDOW_DAYS})` },
  async run(ctx) {
    refuseOptions(ctx, 'adoption', ['window']);
    const days = neglectWindowDays(ctx);
    // A period still to come has no adoption yet: today's open leads and reps are not its figures.
    const columns = columnsOf(ctx, FIGURES);
    if (ctx.now <= ctx.period.from)
      return {
        rows: [],
        columns,
        summary: { window_days: days },
        notes: [
          `the period has not started (it starts ${periodBound(ctx.period.from, ctx.period.zone)}): nothing to measure yet`,
        ],
      };
    const at = Math.min(ctx.period.to, ctx.now);
    ctx.progress(0, 4);
    const tasks = await taskTimeliness(ctx.tx, ctx.scope, at);
    ctx.progress(1, 4);
    const exits = await forwardExits(ctx.tx, ctx.scope);
    ctx.progress(2, 4);
    const neglect = await neglectedLeads(ctx.tx, ctx.scope, at, days * DAY_MS);
    ctx.progress(3, 4);
    // By team, the reps counted once over all teams too (see the total below), in the same query.
    const { groups: reps, total: allReps } = await activeRepsWithTotal(
      ctx.tx,
      ctx.scope,
      ctx.process.users.map((u) => u.id),
      ctx.scope.by === 'team',
    );
    ctx.progress(4, 4);

    const t = new Map(tasks.map((r) => [r.key, r]));
    const e = new Map(exits.map((r) => [r.key, r]));
    const n = new Map(neglect.map((r) => [r.key, r]));
    const a = new Map(reps.map((r) => [r.key, r]));
    const rows = groupKeys(ctx, [tasks, exits, neglect, reps]).map((key): ReportRow => ({
      ...ctx.dimensionFields(key),
      ...figures(t.get(key), e.get(key), n.get(key), a.get(key)),
    }));
    const notes =
      at < ctx.period.to
        ? [
            `the period has not ended: tasks due and open leads are taken as of now (${periodBound(at, ctx.period.zone)})`,
          ]
        : [];
    if (ctx.scope.by === null) return { rows, columns, summary: { window_days: days }, notes };
    // Grouped, the organisation's figures. A task, an exit and a neglected lead belong to one rep
    // and that rep to one group, so those add up. A rep is one owner row, but by team a rep whose
    // team changed between process versions is in both teams' rows: reps are then counted once
    // over everyone, by the same query.
    const overall = allReps ?? {
      key: '',
      reps: sumOf(reps, (r) => r.reps),
      active: sumOf(reps, (r) => r.active),
    };
    const total = figures(
      {
        key: '',
        due: sumOf(tasks, (r) => r.due),
        onTime: sumOf(tasks, (r) => r.onTime),
        late: sumOf(tasks, (r) => r.late),
        open: sumOf(tasks, (r) => r.open),
        skipped: sumOf(tasks, (r) => r.skipped),
      },
      { key: '', forward: sumOf(exits, (r) => r.forward), goal: sumOf(exits, (r) => r.goal) },
      { key: '', open: sumOf(neglect, (r) => r.open), neglected: sumOf(neglect, (r) => r.neglected) },
      overall,
    );
    return { rows, columns, summary: { window_days: days, total }, notes };
  },
};

function sumOf<T>(list: readonly T[], field: (r: T) => number): number {
  return list.reduce((acc, r) => acc + field(r), 0);
}

/** A row's figures from its four counts (a missing one is zeros). */
function figures(
  task: TaskTimeliness | undefined,
  exit: ForwardExits | undefined,
  open: Neglect | undefined,
  rep: ActiveReps | undefined,
): ReportRow {
  return {
    tasks_due: task?.due ?? 0,
    on_time: task?.onTime ?? 0,
    completed_late: task?.late ?? 0,
    overdue_open: task?.open ?? 0,
    skipped_overdue: task?.skipped ?? 0,
    on_time_rate: ratio(task?.onTime ?? 0, task?.due ?? 0),
    forward_exits: exit?.forward ?? 0,
    goal_exits: exit?.goal ?? 0,
    goal_driven_share: ratio(exit?.goal ?? 0, exit?.forward ?? 0),
    open_leads: open?.open ?? 0,
    neglected: open?.neglected ?? 0,
    neglected_share: ratio(open?.neglected ?? 0, open?.open ?? 0),
    reps: rep?.reps ?? 0,
    active_reps: rep?.active ?? 0,
    active_rep_share: ratio(rep?.active ?? 0, rep?.reps ?? 0),
  };
}
