import { mayRoute } from '../domain/assignment.js';
import { decide, type Effect, type LogEntry } from '../domain/decide.js';
import { domainError, type DomainError } from '../domain/errors.js';
import type { EngineEvent } from '../domain/events.js';
import type { LeadState } from '../domain/lead.js';
import type { Process } from '../domain/process-schema.js';
import { withTransaction, type Store, type Tx } from '../store/db.js';
import { loadLead, loadTask, saveDecision, VersionConflict } from '../store/leads.js';
import { processVersion } from '../store/processes.js';
import { loadRouting, saveRouting } from '../store/routing.js';

/**
 * The shell around decide(): load the lead, decide, write the lead, its history, the run log and
 * the outbox rows in one transaction. A concurrent writer makes the version check fail; the
 * event is then decided again on fresh state, so no update is ever lost.
 */

export type EventOutcome =
  | { ok: true; lead: LeadState; effects: Effect[]; log: LogEntry[] }
  | { ok: false; error: DomainError; log: LogEntry[] };

export interface TimedEvent {
  event: EngineEvent;
  at: number;
}

const MAX_RETRIES = 20;

export class Engine {
  private readonly processes = new Map<number, Process>();

  constructor(readonly store: Store) {}

  /** One event in its own transaction. */
  async handle(event: EngineEvent, now: number): Promise<EventOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await withTransaction(this.store, (tx) => this.apply(tx, event, now));
      } catch (e) {
        if (!(e instanceof VersionConflict) || attempt >= MAX_RETRIES) throw e;
      }
    }
  }

  /**
   * Group commit: several events in one transaction, each decided on the state its predecessors
   * left. A refused event writes nothing and does not disturb the others. If the batch fails as a
   * whole (a conflict, say), each event is retried in its own transaction, so none is ever split.
   */
  async handleMany(events: readonly TimedEvent[]): Promise<EventOutcome[]> {
    if (events.length === 1 && events[0]) return [await this.handle(events[0].event, events[0].at)];
    try {
      return await withTransaction(this.store, async (tx) => {
        const out: EventOutcome[] = [];
        for (const { event, at } of events) out.push(await this.apply(tx, event, at));
        return out;
      });
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      const out: EventOutcome[] = [];
      for (const { event, at } of events) out.push(await this.handle(event, at));
      return out;
    }
  }

  async processFor(tx: Tx, version: number | null): Promise<{ version: number; process: Process } | null> {
    if (version !== null) {
      const cached = this.processes.get(version);
      if (cached) return { version, process: cached };
      const stored = await processVersion(tx, version);
      if (!stored) return null;
      this.processes.set(version, stored.process);
      return { version, process: stored.process };
    }
    const latest = await tx
      .selectFrom('process_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    const v = latest?.v ?? null;
    if (v === null) return null;
    return this.processFor(tx, Number(v));
  }

  private async apply(tx: Tx, event: EngineEvent, now: number): Promise<EventOutcome> {
    const before = await loadLead(tx, event.lead, this.store.dialect === 'postgres');
    if (!before && event.type !== 'lead.created') {
      return { ok: false, error: domainError('unknown_lead', `lead "${event.lead}" does not exist`), log: [] };
    }
    // The lead's state holds the current stay's tasks; a task named by id may be older.
    if (before && (event.type === 'task.completed' || event.type === 'task.reopened') && event.task.includes('#')) {
      if (!before.state.tasks.some((t) => t.id === event.task)) {
        const older = await loadTask(tx, event.lead, event.task);
        if (older) before.state.tasks.push(older);
      }
    }
    const current = await this.processFor(tx, before?.state.processVersion ?? null);
    if (!current) {
      const message = before
        ? `process version ${before.state.processVersion} of lead ${event.lead} is missing`
        : 'no process has been applied yet: run `stageflow process apply FILE` first';
      return { ok: false, error: domainError('no_process', message), log: [] };
    }
    const routing = mayRoute(current.process, event.type)
      ? await loadRouting(tx, current.process, now)
      : { users: {}, cursors: {} };
    const d = decide({
      process: current.process,
      processVersion: current.version,
      lead: before?.state ?? null,
      event,
      now,
      routing,
    });
    if (!d.ok) return d;
    await saveDecision(tx, {
      before,
      lead: d.lead,
      changes: d.changes,
      effects: d.effects,
      log: d.log,
      event,
      actor: event.actor ?? { kind: timerEvent(event) ? 'system' : 'api' },
      now,
    });
    await saveRouting(tx, current.process, now, routing, d.routing, before?.state ?? null, d.lead);
    return { ok: true, lead: d.lead, effects: d.effects, log: d.log };
  }
}

function timerEvent(e: EngineEvent): boolean {
  return e.type === 'task.due' || e.type === 'task.overdue' || e.type === 'stage.stalled';
}
