import { sql } from 'kysely';
import { countedUsers } from '../domain/assignment.js';
import { capacityKeysFor, userZone } from '../domain/calendar.js';
import type { LeadState, RoutingState } from '../domain/lead.js';
import type { Process } from '../domain/process-schema.js';
import type { Tx } from './db.js';

/** Routing counters: open leads per owner, leads routed per day and week, team rotation cursors. */

export async function loadRouting(tx: Tx, p: Process, now: number): Promise<RoutingState> {
  const keys = new Map(countedUsers(p).map((u) => [u.id, capacityKeysFor(u, now, userZone(u, p))]));
  const periods = [...new Set([...keys.values()].flatMap((k) => [k.day, k.week]))];
  const [loads, counts, cursors] = await Promise.all([
    tx.selectFrom('routing_load').selectAll().execute(),
    periods.length > 0
      ? tx.selectFrom('routing_counts').selectAll().where('period', 'in', periods).execute()
      : Promise.resolve([]),
    tx.selectFrom('routing_cursors').selectAll().execute(),
  ]);
  const state: RoutingState = { users: {}, cursors: {} };
  for (const u of p.users) state.users[u.id] = { open: 0, routedToday: 0, routedThisWeek: 0 };
  for (const l of loads) {
    const u = state.users[l.user_id];
    if (u) u.open = l.open_leads;
  }
  for (const c of counts) {
    const u = state.users[c.user_id];
    const k = keys.get(c.user_id);
    if (!u || !k) continue;
    if (c.period === k.day) u.routedToday = c.routed;
    if (c.period === k.week) u.routedThisWeek = c.routed;
  }
  for (const c of cursors) state.cursors[c.scope] = JSON.parse(c.state) as RoutingState['cursors'][string];
  return state;
}

/** Which capacity windows a lead routed `now` is charged to, for every counted rep: a change means reload. */
function periodSignature(p: Process, now: number): string {
  return countedUsers(p)
    .map((u) => capacityKeysFor(u, now, userZone(u, p)).day)
    .join(',');
}

/**
 * The routing state of one transaction: loaded when an event first needs it, carried from event
 * to event in memory, written once at the end. Crossing into a new day (or another process
 * version) mid-batch saves what was counted and loads afresh.
 */
export class RoutingSession {
  private state: RoutingState | null = null;
  private initial: RoutingState | null = null;
  private process: Process | null = null;
  private loadedAt = 0;
  private key = '';
  private readonly openDeltas = new Map<string, number>();

  constructor(private readonly tx: Tx) {}

  async current(p: Process, version: number, now: number): Promise<RoutingState> {
    const key = `${version}|${periodSignature(p, now)}`;
    if (this.state && this.key === key) return this.state;
    await this.saveCounters();
    this.state = await loadRouting(this.tx, p, now);
    this.initial = structuredClone(this.state);
    this.process = p;
    this.loadedAt = now;
    this.key = key;
    return this.state;
  }

  update(next: RoutingState): void {
    this.state = next;
  }

  /** Open-lead load follows each lead's owner and status, whoever changed them. */
  noteLead(before: LeadState | null, after: LeadState): void {
    const openOwner = (l: LeadState | null): string | null => (l && l.status === 'open' ? l.owner : null);
    const from = openOwner(before);
    const to = openOwner(after);
    if (from === to) return;
    for (const [user, delta] of [
      [from, -1],
      [to, 1],
    ] as const) {
      if (!user) continue;
      this.openDeltas.set(user, (this.openDeltas.get(user) ?? 0) + delta);
      const load = this.state?.users[user];
      if (load) load.open += delta;
    }
  }

  async save(): Promise<void> {
    await this.saveCounters();
    // One statement for every owner whose open count moved (a round trip each cost PostgreSQL
    // four of a batch's seventeen). Increments, not values: another process may count too.
    const deltas = [...this.openDeltas].filter(([, delta]) => delta !== 0);
    if (deltas.length > 0)
      await this.tx
        .insertInto('routing_load')
        .values(deltas.map(([user, delta]) => ({ user_id: user, open_leads: Math.max(delta, 0) })))
        .onConflict((oc) =>
          oc.column('user_id').doUpdateSet({
            open_leads: sql`routing_load.open_leads + case excluded.user_id ${sql.join(
              deltas.map(([user, delta]) => sql`when ${user} then cast(${delta} as integer)`),
              sql` `,
            )} end`,
          }),
        )
        .execute();
    this.openDeltas.clear();
  }

  private async saveCounters(): Promise<void> {
    const { state, initial, process: p } = this;
    if (!state || !initial || !p) return;
    // One statement for every counted rep's day and week (increments: another process may count too).
    const rows = countedUsers(p).flatMap((u) => {
      const routed = (state.users[u.id]?.routedToday ?? 0) - (initial.users[u.id]?.routedToday ?? 0);
      if (routed <= 0) return [];
      const k = capacityKeysFor(u, this.loadedAt, userZone(u, p));
      return [k.day, k.week].map((period) => ({ user_id: u.id, period, routed }));
    });
    if (rows.length > 0)
      await this.tx
        .insertInto('routing_counts')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['user_id', 'period']).doUpdateSet({ routed: sql`routing_counts.routed + excluded.routed` }),
        )
        .execute();
    for (const [scope, cursor] of Object.entries(state.cursors)) {
      const text = JSON.stringify(cursor);
      if (JSON.stringify(initial.cursors[scope]) === text) continue;
      await this.tx
        .insertInto('routing_cursors')
        .values({ scope, state: text })
        .onConflict((oc) => oc.column('scope').doUpdateSet({ state: text }))
        .execute();
    }
    this.initial = structuredClone(state);
  }
}
