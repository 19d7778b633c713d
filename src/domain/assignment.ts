import {
  backFromLeave,
  capacityKeys,
  capacityKeysFor,
  inWorkingHours,
  isOutOfOffice,
  leaveBeforeNextWork,
  nextWorkStart,
  userZone,
} from './calendar.js';
import { describe as describeCondition, evaluate, textKey, type Fields, type FieldValue } from './conditions.js';
import type { AssignmentTarget, Pool, Process, User } from './process-schema.js';
import type { RoutingState, TeamCursor } from './lead.js';

/**
 * Lead routing. The first rule whose condition matches picks the target, then its fallbacks, then
 * the default owner. Within a team only *eligible* members compete: active, not out of office (nor
 * off hours with a leave starting before they next work), under
 * their caps. Among those, members at work now are preferred; when nobody is, those who start
 * within two hours of whoever starts first. Strategies only ever look at eligible members, so a
 * rep back from leave rejoins the rotation where it stands instead of being handed the leads they
 * "missed"; under least_open, where the others' open leads grew while they were away, a returning
 * rep counts as holding at least as many as the least-loaded other member for as many days as they
 * were away.
 */

export interface RoutingOutcome {
  owner: string;
  /** The rule that routed the lead; `default_owner` when its targets (or no rule) could take it. */
  rule: string;
  target: string;
  /** The rule whose `when` matched, even when the lead went on to the default owner; null if none did. */
  matched: { id: string; when: string | null } | null;
  /** The matched rule's targets tried before the one that took the lead: nobody eligible, and why. */
  unavailable: { target: string; why: string[] }[];
  /** Why candidates were passed over, for the run log. */
  passedOver: { user: string; why: string }[];
  /** What else shaped the choice (a rep back from leave, nobody at work), for the run log. */
  notes: string[];
  /** The current owner still belongs to the chosen target and keeps the lead: nothing rotated. */
  kept: boolean;
}

/**
 * `keep`: people the lead stays with, in order of preference, if one of them is, or is an active
 * member of, the target the rules now choose: the lead's current owner when re-routing an owned
 * lead (`reroute_on_change`: a corrected value or territory that leaves rule and target as they
 * were must not hand a rep's deal to the next in the rotation), or the owners of the contact's open
 * leads under `same_contact: owner`. Caps do not matter.
 */
export function routeLead(
  p: Process,
  fields: Fields,
  routing: RoutingState,
  now: number,
  keep: readonly string[] = [],
): RoutingOutcome {
  const passedOver: RoutingOutcome['passedOver'] = [];
  const notes: string[] = [];
  // First match wins: when the matching rule's targets are all unavailable, its fallbacks are
  // tried and then the default owner, never a later rule meant for other leads.
  const rule = p.assignment.rules.find((r) => !r.when || evaluate(r.when, { fields }));
  const matched = rule ? { id: rule.id, when: rule.when ? describeCondition(rule.when) : null } : null;
  const unavailable: RoutingOutcome['unavailable'] = [];
  const outcome = { matched, unavailable, passedOver, notes };
  for (const target of rule ? [rule.to, ...rule.fallback] : []) {
    const kept = keep.find((user) => ownerBelongs(p, target, fields, user));
    if (kept !== undefined)
      return { ...outcome, owner: kept, rule: rule?.id ?? '', target: targetName(target), kept: true };
    const before = passedOver.length;
    const owner = pickFromTarget(p, target, fields, routing, now, { passedOver, notes });
    if (owner) return { ...outcome, owner, rule: rule?.id ?? '', target: targetName(target), kept: false };
    const why = passedOver.slice(before).map((x) => `${x.user}: ${x.why}`);
    unavailable.push({ target: targetName(target), why });
  }
  const owner = p.assignment.default_owner;
  return { ...outcome, owner, rule: 'default_owner', target: `user:${owner}`, kept: keep.includes(owner) };
}

/**
 * The routing in a sentence for the run log: which rule matched and, when its first target could
 * not take the lead, which targets had nobody eligible and why, so "rule r-syd matched but Sydney
 * was full" reads apart from "no rule covers APAC" (fixed the opposite ways).
 */
export function describeRouting(out: RoutingOutcome): string {
  if (!out.matched) return `no rule matched; default owner ${out.owner}`;
  const missed = out.unavailable
    .map(({ target, why }) => `${target} had nobody eligible${why.length > 0 ? ` (${why.join(', ')})` : ''}`)
    .join('; ');
  if (out.rule === 'default_owner') {
    const when = out.matched.when ? ` (${out.matched.when})` : '';
    return `rule ${out.matched.id} matched${when}: ${missed}; default owner ${out.owner}`;
  }
  if (out.unavailable.length > 0)
    return `rule ${out.rule} routed to ${out.owner} via fallback ${out.target}: ${missed}`;
  return `rule ${out.rule} routed to ${out.owner} via ${out.target}`;
}

/** Whether `user` is an active member of the target (or is the target), whatever their caps or leave. */
function ownerBelongs(p: Process, target: AssignmentTarget, fields: Fields, user: string): boolean {
  const u = p.users.find((x) => x.id === user);
  return u !== undefined && u.active && targetMembers(p, target, fields).members.includes(user);
}

function targetName(t: AssignmentTarget): string {
  if ('user' in t) return `user:${t.user}`;
  if ('team' in t) return `team:${t.team}/${t.strategy}`;
  return `pool:${poolKey(t.pool)}/${t.strategy}`;
}

function poolKey(pool: Pool): string {
  return JSON.stringify(pool);
}

const same = (a: string, b: FieldValue | undefined): boolean => typeof b === 'string' && textKey(a) === textKey(b);

/** The reps a target names, in a stable order (the file's), before eligibility. */
function targetMembers(p: Process, target: AssignmentTarget, fields: Fields): { members: string[]; scope: string } {
  if ('user' in target) return { members: [target.user], scope: `user:${target.user}` };
  if ('team' in target)
    return { members: p.teams.find((t) => t.id === target.team)?.members ?? [], scope: `team:${target.team}` };
  const { pool } = target;
  const team = pool.team ? (p.teams.find((t) => t.id === pool.team)?.members ?? []) : null;
  const members = p.users
    .filter((u) => !pool.territory || u.territories.some((t) => same(t, fields['territory'])))
    .filter((u) => !pool.product || u.products.some((x) => same(x, fields['product'])))
    .filter((u) => !pool.tier || (u.tier !== undefined && pool.tier.includes(u.tier)))
    .filter((u) => !team || team.includes(u.id))
    .map((u) => u.id);
  // Each territory/product combination keeps its own rotation.
  const value = (f: string): FieldValue | undefined => {
    const v = fields[f];
    return typeof v === 'string' ? textKey(v) : v;
  };
  const values = [pool.territory ? value('territory') : '', pool.product ? value('product') : ''];
  return { members, scope: `pool:${poolKey(pool)}:${JSON.stringify(values)}` };
}

/**
 * The reps whose routed leads the store counts per day and week: those with a daily or weekly
 * cap, and every rep a least_open team or pool can pick, since the fair re-entry after leave
 * (countedOpen) reads today's count of the returning rep and of the others. Uncounted, it reads
 * zero: the gap at the start of today becomes the live gap, which each lead the returning rep
 * takes shrinks, so they got every lead until caught up.
 */
export function countedUsers(p: Process): User[] {
  const leastOpen = new Set<string>();
  for (const rule of p.assignment.rules)
    for (const target of [rule.to, ...rule.fallback]) {
      if ('user' in target || target.strategy !== 'least_open') continue;
      if ('team' in target) {
        for (const id of p.teams.find((t) => t.id === target.team)?.members ?? []) leastOpen.add(id);
        continue;
      }
      // A pool's territory and product depend on the lead: every rep of its tiers and team may be picked.
      const { pool } = target;
      const team = pool.team ? (p.teams.find((t) => t.id === pool.team)?.members ?? []) : null;
      for (const u of p.users)
        if ((!pool.tier || (u.tier !== undefined && pool.tier.includes(u.tier))) && (!team || team.includes(u.id)))
          leastOpen.add(u.id);
    }
  return p.users.filter(
    (u) => u.capacity.per_day !== undefined || u.capacity.per_week !== undefined || leastOpen.has(u.id),
  );
}

/** Counts a lead routed to a user against their caps; only when the owner actually changes. */
export function countRouted(routing: RoutingState, user: string): void {
  const load = (routing.users[user] ??= { open: 0, routedToday: 0, routedThisWeek: 0 });
  load.routedToday++;
  load.routedThisWeek++;
}

/**
 * " for 2026-03-16" when a lead routed now would count against a later day or week than now's
 * (the rep is off until then), so `lead why` does not read as if today's cap were full.
 */
function chargedTo(u: User, p: Process, now: number, window: 'day' | 'week'): string {
  const zone = userZone(u, p);
  const charged = capacityKeysFor(u, now, zone)[window];
  return charged === capacityKeys(now, zone)[window] ? '' : ` for ${charged.slice(1)}`;
}

function ineligibility(u: User, p: Process, routing: RoutingState, now: number): string | null {
  if (!u.active) return 'inactive';
  if (isOutOfOffice(u, now, userZone(u, p))) return 'out of office';
  // Off hours, a leave that starts before they next work keeps the lead from them until it is over.
  const leave = leaveBeforeNextWork(u, now, userZone(u, p));
  if (leave) return `out of office ${leave.from} to ${leave.to}, before they next work`;
  const load = routing.users[u.id] ?? { open: 0, routedToday: 0, routedThisWeek: 0 };
  const cap = u.capacity;
  if (cap.per_day !== undefined && load.routedToday >= cap.per_day)
    return `daily cap ${cap.per_day} reached${chargedTo(u, p, now, 'day')}`;
  if (cap.per_week !== undefined && load.routedThisWeek >= cap.per_week)
    return `weekly cap ${cap.per_week} reached${chargedTo(u, p, now, 'week')}`;
  if (cap.max_open !== undefined && load.open >= cap.max_open) return `open-lead cap ${cap.max_open} reached`;
  return null;
}

function pickFromTarget(
  p: Process,
  target: AssignmentTarget,
  fields: Fields,
  routing: RoutingState,
  now: number,
  { passedOver, notes }: Pick<RoutingOutcome, 'passedOver' | 'notes'>,
): string | null {
  const { members, scope } = targetMembers(p, target, fields);
  const eligible: User[] = [];
  for (const id of members) {
    const u = p.users.find((x) => x.id === id);
    if (!u) continue;
    const why = ineligibility(u, p, routing, now);
    if (why && !passedOver.some((x) => x.user === id && x.why === why)) passedOver.push({ user: id, why });
    if (!why) eligible.push(u);
  }
  if (eligible.length === 0) return null;
  if ('user' in target) return eligible[0]?.id ?? null;

  const pool = preferAtWork(p, eligible, now, { passedOver, notes });
  const cursor = (routing.cursors[scope] ??= {});
  const ids = pool.map((u) => u.id);
  switch (target.strategy) {
    case 'round_robin':
      return nextAfter(members, ids, cursor);
    case 'weighted':
      return smoothWeighted(pool, cursor);
    case 'least_open': {
      const counted = countedOpen(p, pool, routing, now, notes);
      // The counts compared, so a manager can check the pick.
      notes.push(`open leads: ${[...counted].map(([id, n]) => `${id} ${n}`).join(', ')}`);
      const least = Math.min(...counted.values());
      return nextAfter(
        members,
        ids.filter((id) => counted.get(id) === least),
        cursor,
      );
    }
  }
}

/**
 * Open leads as least_open counts them. The others took the leads of a rep on leave, so on return
 * that rep would be the least loaded until caught up and get every lead. For as many days as they
 * were away, a returning rep is let fall behind the least-loaded member who is not just back by a
 * gap that shrinks steadily to nothing at the window's end: they get their share plus a steady
 * part of what they missed, and have caught up when the window ends. The gap is the one at the
 * start of today (today's routed leads taken off), scaled by how much of the window is left: a
 * share of the current gap would not do, as each lead the rep takes shrinks it, so any share
 * below the whole hands them every lead until caught up.
 */
function countedOpen(
  p: Process,
  pool: readonly User[],
  routing: RoutingState,
  now: number,
  notes: string[],
): Map<string, number> {
  const open = (id: string): number => routing.users[id]?.open ?? 0;
  const openAtDayStart = (id: string): number => open(id) - (routing.users[id]?.routedToday ?? 0);
  const counted = new Map(pool.map((u) => [u.id, open(u.id)]));
  const back = new Map(pool.map((u) => [u.id, backFromLeave(u, now, userZone(u, p))]));
  const settled = pool.filter((u) => back.get(u.id) === null);
  if (settled.length === 0) return counted;
  const floor = Math.min(...settled.map((u) => open(u.id)));
  const floorAtDayStart = Math.min(...settled.map((u) => openAtDayStart(u.id)));
  for (const u of pool) {
    const window = back.get(u.id);
    const real = open(u.id);
    if (!window || real >= floor) continue;
    const gapAtDayStart = Math.max(0, floorAtDayStart - openAtDayStart(u.id));
    const allowed = Math.round((gapAtDayStart * (window.daysLeft - window.dayGone)) / window.daysLeft);
    const raised = Math.min(floor, real + allowed);
    if (raised === real) continue;
    counted.set(u.id, raised);
    notes.push(`${u.id} back from leave (until ${window.until}) counted as holding ${raised} open leads, not ${real}`);
  }
  return counted;
}

/** How soon after the first to start a rep must start to share a lead that came in off hours. */
export const OFF_HOURS_WINDOW_HOURS = 2;

/**
 * Members at work now; when nobody is, those who start within OFF_HOURS_WINDOW_HOURS of whoever
 * starts first. The lead still goes to someone at work soon, and the strategy (weights, rotation,
 * least open) still shares the night's and the weekend's leads among them instead of handing
 * every one to the earliest starter. Those left out are passed over in the run log, so the split
 * can be accounted for.
 */
function preferAtWork(
  p: Process,
  eligible: User[],
  now: number,
  { passedOver, notes }: Pick<RoutingOutcome, 'passedOver' | 'notes'>,
): User[] {
  const atWork = eligible.filter((u) => inWorkingHours(u, now, userZone(u, p)));
  if (atWork.length > 0) {
    for (const u of eligible)
      if (!atWork.includes(u)) passedOver.push({ user: u.id, why: `outside working hours (${hoursOf(u, p)})` });
    return atWork;
  }
  const starts = eligible.map((u) => ({ u, start: nextWorkStart(u, now, userZone(u, p)) ?? Infinity }));
  const first = Math.min(...starts.map((s) => s.start));
  if (first === Infinity) return eligible;
  const soon = (start: number): boolean => start <= first + OFF_HOURS_WINDOW_HOURS * 3_600_000;
  const pool = starts.filter((s) => soon(s.start)).map((s) => s.u);
  for (const { u, start } of starts)
    if (!soon(start))
      passedOver.push({
        user: u.id,
        why: `starts later (${start === Infinity ? 'not within 60 days' : `${new Date(start).toISOString().slice(0, 16)}Z`})`,
      });
  notes.push(
    `nobody at work; first start ${new Date(first).toISOString().slice(0, 16)}Z, shared among those starting within ${OFF_HOURS_WINDOW_HOURS} h of it: ${pool.map((u) => u.id).join(', ')}`,
  );
  return pool;
}

function hoursOf(u: User, p: Process): string {
  const wh = u.working_hours;
  return wh ? `${wh.start}-${wh.end} ${userZone(u, p)}` : 'none';
}

/** Plain round robin: the first pooled member after the last one served, in team order. */
export function nextAfter(order: readonly string[], pool: readonly string[], cursor: TeamCursor): string | null {
  if (pool.length === 0) return null;
  const start = cursor.last === undefined ? -1 : order.indexOf(cursor.last);
  for (let i = 1; i <= order.length; i++) {
    const candidate = order[(start + i) % order.length];
    if (candidate !== undefined && pool.includes(candidate)) {
      cursor.last = candidate;
      return candidate;
    }
  }
  return null;
}

/** nginx's smooth weighted round robin, over the pooled members only. */
function smoothWeighted(pool: readonly User[], cursor: TeamCursor): string | null {
  const credit = (cursor.credit ??= {});
  let best: User | null = null;
  let total = 0;
  for (const u of pool) {
    credit[u.id] = (credit[u.id] ?? 0) + u.weight;
    total += u.weight;
    if (!best || (credit[u.id] ?? 0) > (credit[best.id] ?? 0)) best = u;
  }
  if (!best) return null;
  credit[best.id] = (credit[best.id] ?? 0) - total;
  cursor.last = best.id;
  return best.id;
}

/** Task assignment to a team: round robin over members who are active and not away. */
export function pickTaskAssignee(p: Process, team: string, routing: RoutingState, now: number): string | null {
  const members = p.teams.find((t) => t.id === team)?.members ?? [];
  const pool = members.filter((id) => {
    const u = p.users.find((x) => x.id === id);
    return u !== undefined && u.active && !isOutOfOffice(u, now, userZone(u, p));
  });
  const cursor = (routing.cursors[`tasks:${team}`] ??= {});
  return nextAfter(members, pool, cursor);
}

/**
 * Whether deciding `event` may need routing state (counters and rotation cursors). Lets the shell
 * skip loading them for the many events that cannot route: a task completed in a process with no
 * on-enter assignment and no team tasks, say.
 */
export function mayRoute(p: Process, eventType: string): boolean {
  // Every event whose handling may call the rules for an owner: a new lead, a rules reassignment,
  // and an imported lead going live without an owner (`lead activate`, `import --automations`).
  // A reopened lead whose owner has left is routed too.
  if (['lead.created', 'lead.reassigned', 'lead.activated', 'lead.reopened'].includes(eventType)) return true;
  if (eventType === 'lead.updated' && p.assignment.reroute_on_change.length > 0) return true;
  return p.pipelines.some(
    (pl) =>
      [...pl.on_won, ...pl.on_lost].some((a) => 'assign' in a) ||
      pl.stages.some(
        (s) =>
          s.on_enter.some((a) => 'assign' in a) ||
          s.tasks.some((t) => typeof t.assignee === 'object' && 'team' in t.assignee),
      ),
  );
}
