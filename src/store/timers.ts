import type { TimerEvent } from '../domain/events.js';
import type { Tx } from './db.js';

/** What the passing of time makes due: task reminders, overdue alerts, stalled stays. */

export interface DueTimer {
  at: number;
  event: TimerEvent;
}

export async function dueTimers(tx: Tx, until: number, limit: number): Promise<DueTimer[]> {
  const [due, overdue, stalled] = await Promise.all([
    tx
      .selectFrom('tasks')
      .select(['id', 'lead_id', 'due_at'])
      .where('status', '=', 'open')
      .where('due_fired', '=', 0)
      .where('due_at', '<=', until)
      .orderBy('due_at')
      .limit(limit)
      .execute(),
    tx
      .selectFrom('tasks')
      .select(['id', 'lead_id', 'overdue_at'])
      .where('status', '=', 'open')
      .where('overdue_fired', '=', 0)
      .where('overdue_at', '<=', until)
      .orderBy('overdue_at')
      .limit(limit)
      .execute(),
    tx
      .selectFrom('stage_stays')
      .select(['id', 'lead_id', 'stall_at'])
      .where('exited_at', 'is', null)
      .where('stalled_at', 'is', null)
      .where('stall_at', '<=', until)
      .orderBy('stall_at')
      .limit(limit)
      .execute(),
  ]);
  const timers: DueTimer[] = [
    ...due.map((t) => ({ at: t.due_at, event: { type: 'task.due' as const, lead: t.lead_id, task: t.id } })),
    ...overdue.map((t) => ({
      at: t.overdue_at,
      event: { type: 'task.overdue' as const, lead: t.lead_id, task: t.id },
    })),
    ...stalled.map((s) => ({
      at: s.stall_at ?? until,
      event: { type: 'stage.stalled' as const, lead: s.lead_id, stay: s.id },
    })),
  ];
  // Ties break by kind and id so that a replay fires timers in the same order.
  return timers.sort((a, b) => a.at - b.at || key(a).localeCompare(key(b))).slice(0, limit);
}

function key(t: DueTimer): string {
  return `${t.event.type}:${'task' in t.event ? t.event.task : t.event.stay}`;
}
