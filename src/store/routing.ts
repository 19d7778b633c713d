import { sql } from 'kysely';
import { capacityKeys, userZone } from '../domain/calendar.js';
import type { LeadState, RoutingState } from '../domain/lead.js';
import type { Process } from '../domain/process-schema.js';
import type { Tx } from './db.js';

/** Routing counters: open leads per owner, leads routed per day and week, team rotation cursors. */

export async function loadRouting(tx: Tx, p: Process, now: number): Promise<RoutingState> {
  const keys = new Map(p.users.map((u) => [u.id, capacityKeys(now, userZone(u, p))]));
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

export async function saveRouting(
  tx: Tx,
  p: Process,
  now: number,
  before: RoutingState,
  after: RoutingState,
  leadBefore: LeadState | null,
  leadAfter: LeadState,
): Promise<void> {
  for (const u of p.users) {
    const routed = (after.users[u.id]?.routedToday ?? 0) - (before.users[u.id]?.routedToday ?? 0);
    if (routed <= 0) continue;
    const k = capacityKeys(now, userZone(u, p));
    for (const period of [k.day, k.week])
      await tx
        .insertInto('routing_counts')
        .values({ user_id: u.id, period, routed })
        .onConflict((oc) =>
          oc.columns(['user_id', 'period']).doUpdateSet({ routed: sql`routing_counts.routed + ${routed}` }),
        )
        .execute();
  }
  for (const [scope, cursor] of Object.entries(after.cursors)) {
    const state = JSON.stringify(cursor);
    if (JSON.stringify(before.cursors[scope]) === state) continue;
    await tx
      .insertInto('routing_cursors')
      .values({ scope, state })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ state }))
      .execute();
  }
  // Open-lead load follows the lead's owner and status, whoever changed them.
  const openOwner = (l: LeadState | null): string | null => (l && l.status === 'open' ? l.owner : null);
  const from = openOwner(leadBefore);
  const to = openOwner(leadAfter);
  if (from === to) return;
  if (from) await bumpLoad(tx, from, -1);
  if (to) await bumpLoad(tx, to, 1);
}

async function bumpLoad(tx: Tx, user: string, delta: number): Promise<void> {
  await tx
    .insertInto('routing_load')
    .values({ user_id: user, open_leads: Math.max(delta, 0) })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ open_leads: sql`routing_load.open_leads + ${delta}` }))
    .execute();
}
