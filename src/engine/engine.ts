import { mayRoute } from '../domain/assignment.js';
import { withAvailability, type Availability } from '../domain/availability.js';
import { optedOut } from '../domain/consent.js';
import { decide, type Effect, type LoggedActivity, type LogEntry } from '../domain/decide.js';
import { domainError, type DomainError } from '../domain/errors.js';
import type { Actor, EngineEvent } from '../domain/events.js';
import type { LeadState, TaskState } from '../domain/lead.js';
import type { Process } from '../domain/process-schema.js';
import { availabilityRevision, loadAvailability } from '../store/availability.js';
import { withTransaction, type Store, type Tx } from '../store/db.js';
import { findActivity, loggedActivity } from '../store/activities.js';
import { DecisionWriter } from '../store/decision-writer.js';
import { freeOutboxSeries, loadLeads, loadTask, stayStage, VersionConflict } from '../store/leads.js';
import { rememberedOptOuts, writeOptOutTurns, type OptOutTurn } from '../store/opt-outs.js';
import { lockProcessVersions, processVersion } from '../store/processes.js';
import { RoutingSession } from '../store/routing.js';
import { openLeadsOfContact } from '../store/same-contact.js';
import { suppressionCheck } from '../store/suppressions.js';

/**
 * The shell around decide(): load the leads, decide each event on the state its predecessors
 * left, and write the leads, their history, the run log and the outbox rows in one transaction.
 * A writer that lost a race to another process finds the lead's version moved on; the batch then
 * rolls back and each event is decided again on fresh state, so no update is ever lost.
 */

export type EventOutcome =
  | {
      ok: true;
      lead: LeadState;
      version: number;
      effects: Effect[];
      log: LogEntry[];
      /** Every task the event created or changed, as it left them (older stays' tasks included). */
      savedTasks: TaskState[];
    }
  | { ok: false; error: DomainError; log: LogEntry[]; currentVersion?: number };

export interface TimedEvent {
  event: EngineEvent;
  at: number;
  /** Apply only if the lead is still at this version (HTTP If-Match); checked inside the transaction. */
  ifVersion?: number | undefined;
}

const MAX_RETRIES = 20;

export class Engine {
  /** Process versions as stored; immutable, so kept for good. */
  private readonly stored = new Map<number, Process>();
  /** The same with the availability overrides of `availability.revision` merged in (what decide() sees). */
  private readonly processes = new Map<number, Process>();
  private availability: { revision: number; overrides: Availability } | null = null;

  constructor(readonly store: Store) {}

  /** One event in its own transaction. */
  async handle(event: EngineEvent, now: number, ifVersion?: number): Promise<EventOutcome> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [out] = await withTransaction(this.store, (tx) => this.applyBatch(tx, [{ event, at: now, ifVersion }]));
        if (!out) throw new Error('no outcome for the event');
        return out;
      } catch (e) {
        if (!(e instanceof VersionConflict) || attempt >= MAX_RETRIES) throw e;
      }
    }
  }

  /**
   * Group commit: several events in one transaction, each decided on the state its predecessors
   * left, all rows written together at the end. A refused event writes nothing and does not
   * disturb the others. If the batch loses a race as a whole, each event is retried in its own
   * transaction, so none is ever split.
   */
  async handleMany(events: readonly TimedEvent[]): Promise<EventOutcome[]> {
    if (events.length === 1 && events[0])
      return [await this.handle(events[0].event, events[0].at, events[0].ifVersion)];
    try {
      return await withTransaction(this.store, (tx) => this.applyBatch(tx, events));
    } catch (e) {
      if (!(e instanceof VersionConflict)) throw e;
      const out: EventOutcome[] = [];
      for (const { event, at, ifVersion } of events) out.push(await this.handle(event, at, ifVersion));
      return out;
    }
  }

  /** A process version already loaded: no query and no await on the per-event path. */
  private cachedProcess(version: number): { version: number; process: Process } | null {
    const process = this.processes.get(version);
    return process ? { version, process } : null;
  }

  /**
   * Availability overrides change without a new process version, perhaps in another process on
   * the same database: one small read per batch tells whether the merged processes still hold.
   */
  private async refreshAvailability(tx: Tx): Promise<void> {
    const revision = await availabilityRevision(tx);
    if (this.availability?.revision === revision) return;
    this.availability = { revision, overrides: await loadAvailability(tx) };
    this.processes.clear();
  }

  /** A process version as decide() gets it: the stored version with the availability overrides merged in. */
  async processFor(tx: Tx, version: number | null): Promise<{ version: number; process: Process } | null> {
    if (version !== null) {
      const cached = this.processes.get(version);
      if (cached) return { version, process: cached };
      if (!this.availability) await this.refreshAvailability(tx);
      let stored = this.stored.get(version);
      if (!stored) {
        stored = (await processVersion(tx, version))?.process;
        if (!stored) return null;
        this.stored.set(version, stored);
      }
      const process = withAvailability(stored, this.availability?.overrides ?? new Map());
      this.processes.set(version, process);
      return { version, process };
    }
    const latest = await tx
      .selectFrom('process_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .executeTakeFirst();
    const v = latest?.v ?? null;
    if (v === null) return null;
    return this.processFor(tx, Number(v));
  }

  /**
   * Events decided and written inside a transaction the caller holds, so they commit or roll back
   * with the caller's own rows (`process apply` and the leads it changes). No retry: a lost race
   * fails the caller's transaction.
   */
  async handleWithin(tx: Tx, events: readonly TimedEvent[]): Promise<EventOutcome[]> {
    return this.applyBatch(tx, events);
  }

  private async applyBatch(tx: Tx, events: readonly TimedEvent[]): Promise<EventOutcome[]> {
    const ids = [...new Set(events.map((e) => e.event.lead))];
    // PostgreSQL: a new or reopened lead runs under the latest version, so a process apply must not
    // be half-way through (its version not yet visible, its open leads already moved): wait for it.
    // Before the leads' row locks, which an apply takes after this one.
    if (this.store.dialect === 'postgres' && events.some((e) => readsLatest(e.event)))
      await lockProcessVersions(tx, 'read-latest');
    // PostgreSQL: lock the batch's leads up front; SQLite's BEGIN IMMEDIATE already serialises writers.
    const loaded = await loadLeads(tx, ids, this.store.dialect === 'postgres', this.store.sqlite);
    await this.refreshAvailability(tx);
    const working = new Map([...loaded].map(([id, l]) => [id, l.state]));
    const series = await this.seriesFor(tx, events, working);
    const writer = new DecisionWriter();
    const routing = new RoutingSession(tx);
    let latest: { version: number; process: Process } | null | undefined;
    let suppressed: ((email: string) => boolean) | undefined;
    const remembered = await rememberedOptOuts(tx, addressesGiven(events));
    const optOutTurns: OptOutTurn[] = [];
    const outcomes: EventOutcome[] = [];

    for (const { event, at, ifVersion } of events) {
      const stored = working.get(event.lead) ?? null;
      const loadedVersion = loaded.get(event.lead)?.version;
      if (ifVersion !== undefined && stored && loadedVersion !== ifVersion) {
        const message = `lead "${event.lead}" is at version ${loadedVersion}, not ${ifVersion}: reload it and try again`;
        outcomes.push({
          ok: false,
          error: domainError('stale_version', message),
          log: [],
          currentVersion: loadedVersion ?? 0,
        });
        continue;
      }
      if (!stored && event.type !== 'lead.created') {
        outcomes.push({
          ok: false,
          error: domainError('unknown_lead', `lead "${event.lead}" does not exist`),
          log: [],
        });
        continue;
      }
      const older =
        stored && namesOlderTask(stored, event) ? await this.withOlderTask(tx, writer, stored, event) : null;
      const before = older?.lead ?? stored;
      // A lead decides under the version it runs under; a new lead and a reopened one under the
      // current version, and a process apply's own event under the version it applies.
      const current =
        event.type === 'process.upgraded'
          ? (this.cachedProcess(event.version) ?? (await this.processFor(tx, event.version)))
          : before && event.type !== 'lead.reopened'
            ? (this.cachedProcess(before.processVersion) ?? (await this.processFor(tx, before.processVersion)))
            : (latest ??= await this.processFor(tx, null));
      if (!current) {
        const message = before
          ? `process version ${before.processVersion} of lead ${event.lead} is missing`
          : 'no process has been applied yet: run `stageflow process apply FILE` first';
        outcomes.push({ ok: false, error: domainError('no_process', message), log: [] });
        continue;
      }
      const routes = mayRoute(current.process, event.type);
      const d = decide({
        process: current.process,
        processVersion: current.version,
        lead: before,
        event,
        now: at,
        routing: routes ? await routing.current(current.process, current.version, at) : { users: {}, cursors: {} },
        suppressed: (suppressed ??= await suppressionCheck(tx)),
        rememberedOptOut: remembered,
        ...(older ? { earlierStays: older.stays } : {}),
        ...(event.type === 'lead.reopened' && before ? await this.closedUnder(tx, before.processVersion) : {}),
        ...(await this.sameContact(tx, current.process, event, before, working)),
        ...(series.has(event.lead) ? { outboxSeries: series.get(event.lead) } : {}),
        ...('activity' in event ? { activity: await this.namedActivity(tx, writer, event.activity) } : {}),
      });
      if (!d.ok) {
        outcomes.push(d);
        continue;
      }
      if (routes) routing.update(d.routing);
      routing.noteLead(before, d.lead);
      writer.add({
        loadedVersion: loaded.get(event.lead)?.version ?? null,
        loadedRow: loaded.get(event.lead)?.row ?? null,
        lead: d.lead,
        changes: d.changes,
        effects: d.effects,
        log: d.log,
        event,
        actor: event.actor ?? { kind: timerEvent(event) ? 'system' : 'api' },
        // As of when decide() handled it: an event dated before the lead's last change is stored
        // then, with its activities, histories and run log, so no row predates the stay it is in.
        now: d.at,
        receivedAt: at,
      });
      working.set(event.lead, d.lead);
      const turn = optOutTurn(before, d.lead, event.actor ?? { kind: 'api' }, d.at);
      if (turn) optOutTurns.push(turn);
      outcomes.push({
        ok: true,
        lead: d.lead,
        version: (loadedVersion ?? 0) + 1,
        effects: d.effects,
        log: d.log,
        savedTasks: d.changes.flatMap((c) => (c.kind === 'task.saved' ? [c.task] : [])),
      });
    }
    await writer.flush(tx, this.store.sqlite);
    await writeOptOutTurns(tx, optOutTurns);
    await routing.save();
    return outcomes;
  }

  /**
   * Under `same_contact: owner`, a new lead without a named owner needs the contact's other open
   * leads, newest first: those this batch holds (not written yet), then those in the database.
   */
  private async sameContact(
    tx: Tx,
    process: Process,
    event: EngineEvent,
    before: LeadState | null,
    working: ReadonlyMap<string, LeadState | null>,
  ): Promise<{ sameContact?: { lead: string; owner: string | null }[] }> {
    if (process.assignment.same_contact !== 'owner') return {};
    // A lead routed now: a new one without a named owner, or an imported one going live or a
    // reopened one (which decide() routes only when it has no active owner, so the match is
    // ignored otherwise).
    const email =
      event.type === 'lead.created' && event.owner === undefined
        ? event.fields['email']
        : event.type === 'lead.activated' || (event.type === 'lead.reopened' && event.owner === undefined)
          ? before?.fields['email']
          : undefined;
    if (typeof email !== 'string') return {};
    const key = email.trim().toLowerCase();
    if (key === '') return {};
    const isContacts = (l: LeadState | null | undefined): l is LeadState => {
      const other = l?.fields['email'];
      return !!l && l.status === 'open' && typeof other === 'string' && other.trim().toLowerCase() === key;
    };
    // The batch's own (not written yet), then the database's but for those this batch holds (an
    // earlier event of it may have closed them or given them another address); newest first.
    const inBatch = [...working.values()]
      .filter((l): l is LeadState => isContacts(l) && l.id !== event.lead)
      .map((l) => ({ lead: l.id, owner: l.owner, createdAt: l.createdAt }));
    const stored = (await openLeadsOfContact(tx, key, event.lead)).filter((s) => !working.has(s.lead));
    const leads = [...inBatch, ...stored]
      .sort((a, b) => b.createdAt - a.createdAt || (a.lead < b.lead ? 1 : -1))
      .map(({ lead, owner }) => ({ lead, owner }));
    return leads.length > 0 ? { sameContact: leads } : {};
  }

  /**
   * The outbox series of the batch's leads that have none yet: new leads (whose id may be a deleted
   * lead's, whose messages are kept) and rows written before series existed.
   */
  private async seriesFor(
    tx: Tx,
    events: readonly TimedEvent[],
    working: ReadonlyMap<string, LeadState>,
  ): Promise<Map<string, number>> {
    const ids = [...new Set(events.map((e) => e.event.lead))].filter(
      (id) => working.get(id)?.outboxSeries === undefined,
    );
    return ids.length === 0 ? new Map() : freeOutboxSeries(tx, ids, this.store.sqlite);
  }

  /** The version a closed lead closed under, so a reopen can place it when its stage is gone. */
  private async closedUnder(tx: Tx, version: number): Promise<{ closedUnder?: Process }> {
    const p = this.cachedProcess(version) ?? (await this.processFor(tx, version));
    return p ? { closedUnder: p.process } : {};
  }

  /**
   * The lead's state holds the current stay's tasks; a task named by id may be an older one, which
   * decide() then gets on a copy of the state (the writer may still hold the state object itself).
   */
  /** The activity an edit or delete names, as an earlier event of this batch left it. */
  private async namedActivity(tx: Tx, writer: DecisionWriter, id: string): Promise<LoggedActivity | null> {
    const pending = writer.pendingActivity(id);
    if (pending === 'deleted') return null;
    const row = pending ?? (await findActivity(tx, id));
    return row ? loggedActivity(row) : null;
  }

  private async withOlderTask(
    tx: Tx,
    writer: DecisionWriter,
    lead: LeadState,
    event: EngineEvent & { task: string },
  ): Promise<{ lead: LeadState; stays: Record<string, string> }> {
    // A task this batch already changed is newer in the writer than in the database.
    const older = writer.pendingTask(event.task) ?? (await loadTask(tx, event.lead, event.task));
    if (!older) return { lead, stays: {} };
    // Its stay's stage, for a refusal that names it (a finished stay's tasks are not reopened).
    const stage = older.stayId === lead.stay.id ? lead.stay.stage : await stayStage(tx, older.stayId);
    return {
      lead: { ...lead, tasks: [...lead.tasks, older] },
      stays: stage === null ? {} : { [older.stayId]: stage },
    };
  }
}

/** A task event naming, by id, a task the lead's state does not hold. */
function namesOlderTask(lead: LeadState, event: EngineEvent): event is EngineEvent & { task: string } {
  const named = ['task.completed', 'task.reopened', 'task.reassigned', 'task.updated', 'task.cancelled'];
  if (!named.includes(event.type) || !('task' in event)) return false;
  return event.task.includes('#') && !lead.tasks.some((t) => t.id === event.task);
}

/** The addresses a batch's events may give a lead, whose remembered opt-outs decide() needs. */
function addressesGiven(events: readonly TimedEvent[]): string[] {
  return events.flatMap(({ event }) => {
    const email = event.type === 'lead.created' || event.type === 'lead.updated' ? event.fields['email'] : undefined;
    return typeof email === 'string' && email.trim() !== '' ? [email] : [];
  });
}

/**
 * A lead's opt-out turned on (remembered for its address) or, by a person, off (forgotten: they
 * opted in again). An automation or another system turning it off opts nobody back in.
 */
function optOutTurn(before: LeadState | null, after: LeadState, actor: Actor, at: number): OptOutTurn | null {
  const was = before !== null && optedOut(before.fields);
  const is = optedOut(after.fields);
  const email = after.fields['email'];
  if (was === is || typeof email !== 'string' || email.trim() === '') return null;
  if (!is && actor.kind !== 'user' && actor.kind !== 'admin' && actor.kind !== 'api') return null;
  const by = actor.kind === 'system' ? (actor.id ?? 'system') : [actor.kind, actor.id].filter(Boolean).join(' ');
  return { email, optedOut: is, lead: after.id, at, by };
}

/** An event decided under the latest process version rather than the lead's own. */
function readsLatest(e: EngineEvent): boolean {
  return e.type === 'lead.created' || e.type === 'lead.reopened';
}

function timerEvent(e: EngineEvent): boolean {
  return e.type === 'task.due' || e.type === 'task.overdue' || e.type === 'stage.stalled';
}
