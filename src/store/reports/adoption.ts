import { sql, type RawBuilder } from 'kysely';
import type { Tx } from '../db.js';
import { ownerFilter, pipelineFilter, UNGROUPED_KEY, withTables, type ReportScope } from './scope.js';
import { valuesTable } from './values-table.js';

/**
 * The counts behind METRICS.md §1 (adoption), per rep, team or the whole organisation. Adoption is
 * about people, so a figure belongs to the rep who did (or should have done) the work: a task to its
 * assignee, a stage exit and a neglected lead to the lead's owner at that moment (from
 * owner_history), an activity to the user who logged it (else the lead's owner then). Imported
 * stays were not worked in Stageflow and are left out (see docs/reports.md, adoption).
 *
 * Limited to owners (a manager's reach, a team), a figure counts when the rep it belongs to is one
 * of them, the same rep it is grouped by: a reassigned lead's earlier work stays with (and is seen
 * by the manager of) the earlier owner, and no row ever names a rep outside the owners.
 */

/** Which rep a row belongs to, as a group key: UNGROUPED_KEY, the rep, or the rep's team under `version`. */
function repKey(
  scope: ReportScope,
  rep: RawBuilder<unknown>,
  version: RawBuilder<unknown>,
): { expr: RawBuilder<unknown>; join: RawBuilder<unknown> } {
  if (scope.by === 'owner') return { expr: sql`coalesce(${rep}, '')`, join: sql`` };
  if (scope.by === 'team')
    return {
      expr: sql`coalesce(tm.team, '')`,
      join: sql`left join team_map tm on tm.version = ${version} and tm.user_id = ${rep}`,
    };
  return { expr: sql.lit(UNGROUPED_KEY), join: sql`` };
}

/**
 * Who owned each lead of `leads` (a table with a `lead_id` column) when: [starts, ends) from
 * owner_history (ends null while current). A lead without history (imported) is owned by its owner
 * since it was created. Only the leads a query looks up: a lead's spans depend on its own history
 * alone, and building them for every lead is what made adoption slow.
 */
function ownerSpans(leads: RawBuilder<unknown>): RawBuilder<unknown> {
  // The lead ids once, as a table both halves read (not the stays query twice more).
  return sql`span_leads (lead_id) as (select distinct lead_id from ${leads}),
  owner_spans (lead_id, owner, starts, ends) as (
    select h.lead_id, h.to_owner, h.at, lead(h.at) over (partition by h.lead_id order by h.seq, h.idx)
    from owner_history h
    where h.lead_id in (select lead_id from span_leads)
    union all
    select l.id, l.owner, l.created_at, null
    from leads l
    where l.id in (select lead_id from span_leads)
      and l.owner is not null and not exists (select 1 from owner_history h where h.lead_id = l.id)
  )`;
}

/**
 * The owner of lead `l` (joined as `l`) at instant `at`: the last owner_history change (by seq,
 * idx) made at or before `at`, or, for a lead without history (imported), its owner once it was
 * created. It is the owner span containing `at` (owner_history's times follow its order), found
 * per row through the primary key instead of by joining every span.
 */
function ownerAt(at: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`coalesce(
    (select h.to_owner from owner_history h
      where h.lead_id = l.id and h.at <= ${at}
        and not exists (select 1 from owner_history n
          where n.lead_id = l.id and n.at <= ${at} and (n.seq > h.seq or (n.seq = h.seq and n.idx > h.idx)))),
    case when l.created_at <= ${at} and not exists (select 1 from owner_history h where h.lead_id = l.id)
      then l.owner end)`;
}

type Raw = Record<string, string | number | null>;

/**
 * A task's stay, joined only to filter by pipeline: tasks.stay_id is a foreign key, so the join
 * never drops a task and is left out when the report is for every pipeline.
 */
function stayOfTask(scope: ReportScope): RawBuilder<unknown> {
  return scope.pipeline === null ? sql`` : sql`join stage_stays s on s.id = t.stay_id`;
}

function num(v: string | number | null | undefined): number {
  return v === null || v === undefined ? 0 : Number(v);
}

export interface TaskTimeliness {
  key: string;
  due: number;
  onTime: number;
  late: number;
  open: number;
  skipped: number;
}

/**
 * Process tasks (not those a person added: ad_hoc) due in [from, until) that the engine did not
 * skip before they were due, by their assignee: completed on time, completed late, still open, skipped after they were due. `until`
 * is min(to, now): a task not yet due cannot be judged.
 */
export async function taskTimeliness(tx: Tx, scope: ReportScope, until: number): Promise<TaskTimeliness[]> {
  // A team is the assignee's under the lead's process version, so by team every task's lead is
  // joined. Otherwise the lead is read only for a task without an assignee: both databases evaluate
  // coalesce's arguments lazily, and a lookup per task was most of this query's time.
  const byTeam = scope.by === 'team';
  const rep = byTeam
    ? sql`coalesce(t.assignee, l.owner)`
    : sql`coalesce(t.assignee, (select o.owner from leads o where o.id = t.lead_id))`;
  const k = repKey(scope, rep, sql`l.process_version`);
  const res = await sql<Raw>`${withTables(scope)}
    select ${k.expr} as key,
      count(*) as due,
      sum(case when t.completed_at is not null and t.completed_at <= t.due_at then 1 else 0 end) as on_time,
      sum(case when t.completed_at is not null and t.completed_at > t.due_at then 1 else 0 end) as late,
      sum(case when t.status = 'open' then 1 else 0 end) as still_open,
      sum(case when t.status = 'skipped' then 1 else 0 end) as skipped
    from tasks t
    ${byTeam ? sql`join leads l on l.id = t.lead_id` : sql``}
    ${stayOfTask(scope)}
    ${k.join}
    where t.due_at >= ${scope.from} and t.due_at < ${until} and t.ad_hoc = 0
      and (t.skipped_at is null or t.skipped_at >= t.due_at)
      ${pipelineFilter(scope, sql`s.pipeline`)} ${ownerFilter(scope, rep)}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({
    key: String(r['key']),
    due: num(r['due']),
    onTime: num(r['on_time']),
    late: num(r['late']),
    open: num(r['still_open']),
    skipped: num(r['skipped']),
  }));
}

export interface ForwardExits {
  key: string;
  forward: number;
  goal: number;
}

/**
 * Forward stage exits in the period: a `goal` or `moved` exit whose next stay (the lead's next by
 * seq) is in the same pipeline at a higher index. A move the import recorded (its next stay is
 * imported) is not a person bypassing the process and is left out; a move in Stageflow out of an
 * imported stay counts.
 */
export async function forwardExits(tx: Tx, scope: ReportScope): Promise<ForwardExits[]> {
  const k = repKey(scope, sql`f.owner`, sql`f.process_version`);
  const inPeriod = sql`exited_at >= ${scope.from} and exited_at < ${scope.to} and exit_kind in ('goal', 'moved')`;
  const res = await sql<Raw>`${withTables(scope, [
    sql`exit_leads as (select distinct lead_id from stage_stays where ${inPeriod})`,
    sql`x as (
      select s.lead_id, s.pipeline, s.stage_index, s.exit_kind, s.exited_at,
        lead(s.pipeline) over (partition by s.lead_id order by s.seq) as next_pipeline,
        lead(s.stage_index) over (partition by s.lead_id order by s.seq) as next_index,
        lead(s.imported) over (partition by s.lead_id order by s.seq) as next_imported
      from stage_stays s
      where s.lead_id in (select lead_id from exit_leads)
    )`,
  ])}
    select ${k.expr} as key,
      count(*) as forward,
      sum(case when f.exit_kind = 'goal' then 1 else 0 end) as goal
    from (
      select x.exit_kind, l.process_version, ${ownerAt(sql`x.exited_at`)} as owner
      from x
      join leads l on l.id = x.lead_id
      where x.exited_at >= ${scope.from} and x.exited_at < ${scope.to} and x.exit_kind in ('goal', 'moved')
        and x.next_pipeline = x.pipeline and x.next_index > x.stage_index and x.next_imported = 0
        ${pipelineFilter(scope, sql`x.pipeline`)}
    ) f
    ${k.join}
    ${ownerFilter(scope, sql`f.owner`, 'where')}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), forward: num(r['forward']), goal: num(r['goal']) }));
}

/**
 * An imported stay is history up to the lead's import and live after it: a lead imported open is an
 * open lead in Stageflow from then on (neglected if nobody works it), not before. A Stageflow stay
 * is live throughout.
 */
function liveBefore(at: number): RawBuilder<unknown> {
  return sql`(s.imported = 0 or (select li.imported_at from leads li where li.id = s.lead_id) < ${at})`;
}

/**
 * When stay `s` became live: its entry, or for an imported one its lead's import if later (looked up
 * only for imported stays, so a Stageflow stay costs no extra read).
 */
const liveEntry = sql`case when s.imported = 0 then s.entered_at else (
  select case when s.entered_at >= li.imported_at then s.entered_at else li.imported_at end
  from leads li where li.id = s.lead_id) end`;

/** A span start for stay `s`, moved up to the import (`importedAt`) for an imported stay. */
function liveStart(start: RawBuilder<unknown>, importedAt: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`case when s.imported = 0 then ${start} when ${importedAt} > ${start} then ${importedAt} else ${start} end`;
}

export interface Neglect {
  key: string;
  open: number;
  neglected: number;
}

/**
 * Leads open just before `at` (in a Stageflow stay that began before `at` and had not ended before
 * it), by their owner then; neglected when they had no open task at `at` and no task completed or
 * activity logged in [at - windowMs, at).
 */
export async function neglectedLeads(tx: Tx, scope: ReportScope, at: number, windowMs: number): Promise<Neglect[]> {
  const k = repKey(scope, sql`n.owner`, sql`n.process_version`);
  const since = at - windowMs;
  // Open at `at`: still open, or left at or after `at` (two index ranges on exited_at).
  const res = await sql<Raw>`${withTables(scope, [
    sql`o as (
      select s.lead_id, s.pipeline from stage_stays s
      where s.exited_at is null and ${liveBefore(at)} and s.entered_at < ${at}
      union all
      select s.lead_id, s.pipeline from stage_stays s
      where s.exited_at >= ${at} and ${liveBefore(at)} and s.entered_at < ${at}
    )`,
  ])}
    select ${k.expr} as key, count(*) as open_leads, sum(n.neglected) as neglected
    from (
      select l.process_version, ${ownerAt(sql`${at - 1}`)} as owner,
      case
        when exists (
          select 1 from tasks t where t.lead_id = o.lead_id and (
            (t.created_at < ${at} and (t.completed_at is null or t.completed_at >= ${at})
              and (t.skipped_at is null or t.skipped_at >= ${at}))
            or (t.completed_at >= ${since} and t.completed_at < ${at})))
          or exists (select 1 from activities a where a.lead_id = o.lead_id and a.at >= ${since} and a.at < ${at})
        then 0 else 1 end as neglected
      from o
      join leads l on l.id = o.lead_id
      where 1 = 1 ${pipelineFilter(scope, sql`o.pipeline`)}
    ) n
    ${k.join}
    ${ownerFilter(scope, sql`n.owner`, 'where')}
    group by 1
    order by 1`.execute(tx);
  return res.rows.map((r) => ({ key: String(r['key']), open: num(r['open_leads']), neglected: num(r['neglected']) }));
}

export interface ActiveReps {
  key: string;
  reps: number;
  active: number;
}

/**
 * Reps who owned an open lead during the period (an owner span and a Stageflow stay of the lead
 * overlap inside [from, to)), and how many of them completed a task (as its assignee) or logged an
 * activity (as its actor, else as the lead's owner then) in the period. `users` are the process's
 * user ids: an activity's actor that is not one of them (an integration) stands for the owner.
 * With `total`, also the reps counted once over every group: by team, a rep whose team changed
 * between process versions is in two groups. The same statement reads the owners once (a CTE used
 * twice is materialized on both databases), so the total costs no second scan.
 */
export async function activeRepsWithTotal(
  tx: Tx,
  scope: ReportScope,
  users: readonly string[],
  total: boolean,
): Promise<{ groups: ActiveReps[]; total: ActiveReps | null }> {
  const { from, to } = scope;
  const pf = pipelineFilter(scope, sql`s.pipeline`);
  const owners = scope.by === 'team' ? ownersByLeadVersion(scope) : ownersInPeriod(scope);
  const res = await sql<Raw>`${withTables(
    scope,
    [
      ...owners.tables,
      valuesTable(
        'users',
        [{ name: 'user_id', type: 'text' }],
        users.map((u) => [u]),
      ),
      sql`acts (rep) as (
      select coalesce(t.assignee, (select o.owner from leads o where o.id = t.lead_id))
      from tasks t
      ${stayOfTask(scope)}
      where t.completed_at >= ${from} and t.completed_at < ${to} ${pf}
      union
      select case when a.actor in (select user_id from users) then a.actor else ${ownerAt(sql`a.at`)} end
      from activities a
      join stage_stays s on s.id = a.stay_id
      join leads l on l.id = a.lead_id
      where a.at >= ${from} and a.at < ${to} ${pf}
    )`,
    ],
    owners.recursive,
  )}
    select 0 as total, key, count(*) as reps,
      sum(case when rep in (select rep from acts where rep is not null) then 1 else 0 end) as active
    from own
    group by key
    ${
      total
        ? sql`union all
    select 1 as total, '' as key, count(distinct rep) as reps,
      count(distinct case when rep in (select rep from acts where rep is not null) then rep end) as active
    from own`
        : sql``
    }
    order by 1, 2`.execute(tx);
  const row = (r: Raw): ActiveReps => ({ key: String(r['key']), reps: num(r['reps']), active: num(r['active']) });
  const totalRow = res.rows.find((r) => Number(r['total']) === 1);
  return {
    groups: res.rows.filter((r) => Number(r['total']) === 0).map(row),
    total: totalRow ? row(totalRow) : null,
  };
}

/** The CTEs that end in `own (key, rep)`: each rep who owned an open lead during the period, once per key. */
interface OwnersQuery {
  tables: RawBuilder<unknown>[];
  recursive: boolean;
}

/**
 * A Stageflow stay overlapping [from, to) and the owner span [starts, ends) of the same lead, with
 * a moment inside all three (`ends` null while the span is current).
 */
function stayInSpan(
  scope: ReportScope,
  starts: RawBuilder<unknown>,
  ends: RawBuilder<unknown> | null,
): RawBuilder<unknown> {
  const { from, to } = scope;
  return sql`${starts} < ${to} and s.entered_at < ${to}
    ${ends === null ? sql`` : sql`and (${ends} is null or (${ends} > ${from} and ${ends} > ${starts} and ${ends} > s.entered_at))`}
    and (s.exited_at is null or (s.exited_at > ${from} and s.exited_at > s.entered_at and s.exited_at > ${starts}))`;
}

/**
 * By owner (or for everyone): a rep is found through one lead, not by joining every stay of the
 * period to every owner span, which took seconds at a million leads for a result of a few hundred
 * rows. Two kinds of span can overlap the period:
 * - a current span: the lead's owner since its last assignment (or since it was created, for a lead
 *   without history). Each owner's leads are read newest first, and the first one with a Stageflow
 *   stay inside the span and the period settles that owner;
 * - an ended span: it ended at a handover (an owner_history row with a previous owner) after `from`,
 *   so only leads handed over since `from` (owner_history_handovers) get their spans built.
 * Both rest on what decide() keeps: a lead's owner is the last owner_history row's, and an owner is
 * never taken away without a new one, so every row but a lead's first names a previous owner.
 */
function ownersInPeriod(scope: ReportScope): OwnersQuery {
  const { from, to } = scope;
  const pf = pipelineFilter(scope, sql`s.pipeline`);
  const k = repKey(scope, sql`r.rep`, sql`null`);
  const spanStart = sql`coalesce((select max(h.at) from owner_history h where h.lead_id = l.id), l.created_at)`;
  // Every owner of a lead, one index seek each (leads_owner), or the owners the report is limited to.
  const candidates =
    scope.owners === null
      ? sql`cands (rep) as (
          select min(owner) from leads
          union all
          select (select min(l.owner) from leads l where l.owner > c.rep) from cands c where c.rep is not null
        )`
      : valuesTable(
          'cands',
          [{ name: 'rep', type: 'text' }],
          scope.owners.map((o) => [o]),
        );
  return {
    recursive: scope.owners === null,
    tables: [
      candidates,
      sql`current_owners (rep) as (
        select c.rep from cands c
        where c.rep is not null and (
          select l.id from leads l
          where l.owner = c.rep and l.created_at < ${to}
            and exists (select 1 from stage_stays s
              where s.lead_id = l.id and ${stayInSpan(scope, liveStart(spanStart, sql`l.imported_at`), null)} ${pf})
          order by l.created_at desc
          limit 1) is not null
      )`,
      sql`handed (lead_id) as (
        select distinct h.lead_id from owner_history h where h.at > ${from} and h.from_owner is not null
      )`,
      sql`hstays as (
        select s.lead_id, s.pipeline, ${liveEntry} as entered_at, s.exited_at from stage_stays s
        where s.lead_id in (select lead_id from handed) and ${liveEntry} < ${to}
          and (s.exited_at is null or (s.exited_at > ${from} and s.exited_at > ${liveEntry})) ${pf}
      )`,
      ownerSpans(sql`hstays`),
      sql`earlier_owners (rep) as (
        select os.owner from hstays s
        join owner_spans os on os.lead_id = s.lead_id
        where os.owner is not null and ${stayInSpan(scope, sql`os.starts`, sql`os.ends`)}
          ${ownerFilter(scope, sql`os.owner`)}
      )`,
      sql`own (key, rep) as (
        select distinct ${k.expr}, r.rep
        from (select rep from current_owners union select rep from earlier_owners) r
      )`,
    ],
  };
}

/**
 * By team: the team is the rep's under the lead's process version, so each (rep, lead version) pair
 * counts, found by joining the period's stays to their leads' owner spans.
 */
function ownersByLeadVersion(scope: ReportScope): OwnersQuery {
  const { from, to } = scope;
  const k = repKey(scope, sql`os.owner`, sql`l.process_version`);
  return {
    recursive: false,
    tables: [
      // Stageflow stays that overlap [from, to): still open, or left after `from`.
      sql`ostays as (
      select s.lead_id, s.pipeline, ${liveEntry} as entered_at, s.exited_at from stage_stays s
      where s.exited_at is null and ${liveEntry} < ${to}
      union all
      select s.lead_id, s.pipeline, ${liveEntry} as entered_at, s.exited_at from stage_stays s
      where s.exited_at > ${from} and s.exited_at > ${liveEntry} and ${liveEntry} < ${to}
    )`,
      ownerSpans(sql`ostays`),
      sql`own as (
      select distinct ${k.expr} as key, os.owner as rep
      from ostays s
      join owner_spans os on os.lead_id = s.lead_id
      join leads l on l.id = os.lead_id
      ${k.join}
      where os.owner is not null and ${stayInSpan(scope, sql`os.starts`, sql`os.ends`)}
        ${pipelineFilter(scope, sql`s.pipeline`)} ${ownerFilter(scope, sql`os.owner`)}
    )`,
    ],
  };
}
