import { countRouted, describeRouting, pickTaskAssignee, routeLead } from './assignment.js';
import { dateAfter, dueAt, isOutOfOffice, orgCalendar, userZone } from './calendar.js';
import { closeDateField } from './close-date.js';
import {
  describe as describeCondition,
  evaluate,
  factsNamed,
  fieldsRead,
  sameToConditions,
  type FieldValue,
  type Fields,
} from './conditions.js';
import { OPT_OUT_FIELD, optedOut, optOutValue, rememberedOptOutReason, type RememberedOptOut } from './consent.js';
import { catalogueField, fieldWriteProblems, storedValue } from './field-catalogue.js';
import { FORECAST_FIELD, forecastCategory } from './forecast-category.js';
import { DUE_TIME_HINT, dueInstant } from './due-time.js';
import { domainError, type DomainError, type GateBlock } from './errors.js';
import type { Actor, EngineEvent } from './events.js';
import { outboxKey, type ExitKind, type LeadState, type RoutingState, type StayState, type TaskState } from './lead.js';
import type { Automation, Condition, Pipeline, Process, SetAutomation, Stage, TaskTemplate } from './process-schema.js';
import { goalChecklist, goalFacts, missingRequiredFields, unmetItems } from './stage-checklist.js';

/**
 * The process rules as one pure function: given the process, a lead's state, an event and the
 * time, decide() returns the new state, the history rows to write, the side effects to queue and
 * a log of which rule fired and why. No I/O, no clock, no randomness.
 */

const DAY_MS = 86_400_000;

export type Change =
  | { kind: 'stay.entered'; stay: StayState }
  | { kind: 'stay.exited'; stay: StayState; exitedAt: number; exit: ExitKind }
  | { kind: 'stay.stalled'; stay: StayState }
  | { kind: 'task.saved'; task: TaskState }
  | { kind: 'owner.changed'; from: string | null; to: string; reason: string; rule: string | null }
  | { kind: 'field.changed'; field: string; from: FieldValue; to: FieldValue }
  /** `at`: when it happened (its occurredAt, else the event's time). */
  | { kind: 'activity.logged'; stayId: string; activity: string; note: string | null; at: number }
  | { kind: 'activity.edited'; id: string; note: string | null }
  | { kind: 'activity.deleted'; id: string }
  | { kind: 'status.changed'; from: string; to: string; reason: string | null };

export type EffectKind =
  | 'email'
  | 'list.subscribe'
  | 'list.unsubscribe'
  | 'congratulate'
  | 'webhook'
  | 'enrich'
  | 'task.reminder'
  | 'task.overdue'
  | 'stage.stalled';

export interface Effect {
  kind: EffectKind;
  /** Stable per lead, event and position (outboxKey): a replayed event produces the same keys. */
  key: string;
  payload: Record<string, unknown>;
}

export interface LogEntry {
  kind: 'routing' | 'assignment' | 'goal' | 'gate' | 'automation' | 'task' | 'timer' | 'error' | 'event';
  rule: string | null;
  message: string;
  inputs?: Record<string, unknown>;
}

export interface DecideInput {
  process: Process;
  processVersion: number;
  lead: LeadState | null;
  event: EngineEvent;
  now: number;
  routing: RoutingState;
  /** Whether an address belongs to an erased contact: automation never writes to it again. */
  suppressed?: (email: string) => boolean;
  /** An address's opt-out remembered after its leads: a lead that gets the address starts opted out. */
  rememberedOptOut?: (email: string) => RememberedOptOut | null;
  /**
   * The stage of each earlier stay whose task the event names (the engine loads them with the
   * task), so a refusal can say which stage the task belongs to.
   */
  earlierStays?: Readonly<Record<string, string>>;
  /**
   * For a new lead under `same_contact: owner`: the other open leads with the same contact address,
   * newest first (the engine looks them up; decide() has no database).
   */
  sameContact?: readonly { lead: string; owner: string | null }[];
  /** For a reopen: the process version the lead closed under, to place it when its stage is gone. */
  closedUnder?: Process;
  /**
   * For a lead whose state has no outbox series yet (a new one, or one written before series
   * existed): the series the engine found free under its id (nextOutboxSeries).
   */
  outboxSeries?: number;
  /** For an edit or delete of an activity: the activity the event names, as stored (null: none). */
  activity?: LoggedActivity | null;
}

/** A logged activity as an edit or delete of it needs it. */
export interface LoggedActivity {
  id: string;
  lead: string;
  stayId: string;
  kind: string;
}

export type Decision =
  | {
      ok: true;
      /** The time the event was handled as of: its own, or the lead's last change if that is later. */
      at: number;
      lead: LeadState;
      changes: Change[];
      effects: Effect[];
      log: LogEntry[];
      routing: RoutingState;
    }
  | { ok: false; error: DomainError; log: LogEntry[] };

/**
 * People a lead stays with when one of them belongs to the target the rules choose, in order of
 * preference, and how the run log names each.
 */
interface Keep {
  users: { user: string; /** `kept by <why> <user>`. */ why: string }[];
  /** Said when the rules' target includes none of them. */
  missed?: string;
}

class Refusal extends Error {
  constructor(readonly error: DomainError) {
    super(error.message);
  }
}

function refuse(...args: Parameters<typeof domainError>): never {
  throw new Refusal(domainError(...args));
}

export function decide(input: DecideInput): Decision {
  const run = new Run(input);
  try {
    run.handle();
    return run.result();
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, error: e.error, log: run.log };
    throw e;
  }
}

/**
 * decide() works on its own copy of the input and never changes the caller's objects. These copy
 * level by level what the rules can change (a structuredClone per event cost more than the rest of
 * a simple decision); a nested object added to LeadState or RoutingState needs its copy here.
 */
function copyLead(l: LeadState): LeadState {
  return {
    ...l,
    fields: { ...l.fields },
    stay: { ...l.stay, activities: { ...l.stay.activities } },
    tasks: l.tasks.map((t) => ({ ...t })),
    signals: { ...l.signals },
    lists: [...l.lists],
    ...(l.listTags ? { listTags: { ...l.listTags } } : {}),
  };
}

/** The contact's address and opt-out, as the mailing lists follow them. */
interface ListContact {
  email: string | null;
  optedOut: boolean;
}

/** One mailbox, as Mailchimp keys a member: letter case and spaces aside. */
function sameAddress(a: string, b: string | null): boolean {
  return b !== null && a.trim().toLowerCase() === b.trim().toLowerCase();
}

function dropKey<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

function copyRouting(r: RoutingState): RoutingState {
  const users: RoutingState['users'] = {};
  for (const [id, u] of Object.entries(r.users)) users[id] = { ...u };
  const cursors: RoutingState['cursors'] = {};
  for (const [scope, c] of Object.entries(r.cursors))
    cursors[scope] = c.credit ? { ...c, credit: { ...c.credit } } : { ...c };
  return { users, cursors };
}

/** The working state of one decision; thrown away after decide() returns. */
class Run {
  readonly p: Process;
  readonly now: number;
  readonly event: EngineEvent;
  readonly actor: Actor;
  readonly routing: RoutingState;
  readonly suppressed: (email: string) => boolean;
  readonly changes: Change[] = [];
  readonly effects: Effect[] = [];
  readonly log: LogEntry[] = [];
  private leadState: LeadState | null;
  private readonly enteredThisEvent = new Set<string>();
  /** Tasks this event created, by id, with their template: an owner change in the same event re-times them. */
  private readonly createdThisEvent = new Map<string, TaskTemplate>();
  private halted = false;
  /** Set once this event has chosen the owner (routing or an explicit owner); routing runs once. */
  private ownerSettled = false;
  /** What set the current automations off, for webhook payloads. */
  private trigger = '';
  private errorRaised = false;
  private calendar: ReturnType<typeof orgCalendar> | undefined;

  constructor(private readonly input: DecideInput) {
    this.p = input.process;
    this.now = input.now;
    this.event = input.event;
    this.actor = input.event.actor ?? { kind: 'api' };
    this.routing = copyRouting(input.routing);
    this.suppressed = input.suppressed ?? (() => false);
    this.leadState = input.lead ? copyLead(input.lead) : null;
    if (this.leadState && this.leadState.outboxSeries === undefined && input.outboxSeries !== undefined)
      this.leadState.outboxSeries = input.outboxSeries;
    // An event dated before the lead's last change (a clock set back, a late timer, a typed --now)
    // is handled as of that change: a stay must never end before it began.
    const last = this.leadState ? Math.max(this.leadState.stay.enteredAt, this.leadState.closedAt ?? 0) : null;
    if (last !== null && input.now < last) {
      this.now = last;
      this.log.push({
        kind: 'event',
        rule: null,
        message: `dated ${new Date(input.now).toISOString()}, before the lead's last change at ${new Date(last).toISOString()}: handled as of then`,
      });
    }
  }

  get lead(): LeadState {
    if (!this.leadState) refuse('unknown_lead', `lead "${this.event.lead}" does not exist`);
    return this.leadState;
  }

  result(): Decision {
    const lead = this.lead;
    lead.seq += 1;
    // A timer or a new process version is not a fresh attempt at the work, so it leaves a recorded error in place.
    const timer = ['task.due', 'task.overdue', 'stage.stalled', 'process.upgraded'].includes(this.event.type);
    if (!this.errorRaised && !timer) lead.error = null;
    return {
      ok: true,
      at: this.now,
      lead,
      changes: this.changes,
      effects: this.effects,
      log: this.log,
      routing: this.routing,
    };
  }

  handle(): void {
    const e = this.event;
    if (e.type === 'lead.created') return this.create(e.fields, e.owner, e.pipeline, e.sourcedBy);
    const lead = this.lead;
    this.realignStage();
    switch (e.type) {
      case 'lead.updated':
        return this.updateFields(e.fields);
      case 'task.completed':
        return this.completeTask(e.task);
      case 'task.reopened':
        return this.reopenTask(e.task);
      case 'task.reassigned':
        return this.reassignTask(e.task, e.assignee);
      case 'task.added':
        return this.addTask(e.title, e.kind, e.dueAt, e.assignee, e.note);
      case 'task.updated':
        return this.updateTask(e.task, e.title, e.kind, e.dueAt);
      case 'task.cancelled':
        return this.cancelTask(e.task, e.reason);
      case 'activity.logged':
        return this.logActivity(e.kind, e.note, e.occurredAt);
      case 'activity.updated':
        return this.editActivity(e.activity, e.note);
      case 'activity.deleted':
        return this.deleteActivity(e.activity);
      case 'signal.received':
        if (lead.signals[e.name] === undefined) lead.signals[e.name] = this.now;
        this.log.push({ kind: 'event', rule: null, message: `signal ${e.name} received` });
        return this.settle();
      case 'lead.moved':
        return this.move(e.stage, e.pipeline, e.override, e.reason);
      case 'lead.won': {
        this.requireOpen();
        const override = e.override === true;
        this.requireOverrideRight(override);
        this.gateForward(this.pipeline(), lead.stay.stageIndex, this.pipeline().stages.length, override, 'won');
        return this.close('won', e.reason ?? null, 'closed', e.closedAt);
      }
      case 'lead.lost':
        this.requireOpen();
        return this.close('lost', e.reason, 'closed', e.closedAt);
      case 'lead.reopened':
        return this.reopenLead(e.stage, e.pipeline, e.override === true, e.owner);
      case 'lead.activated':
        return this.activate();
      case 'lead.reassigned':
        this.requireOpen();
        if (e.owner !== undefined) {
          this.requireActiveUser(e.owner, 'owner');
          // As a move to the current stage: nothing would change but the lead's version, which
          // would cost whoever holds the lead open a stale save.
          if (e.owner === lead.owner)
            refuse('already_owner', `lead ${lead.id} is already owned by "${e.owner}"`, { field: 'owner' });
          return this.changeOwner(e.owner, 'manual', null);
        }
        return this.assignByRules('reassign');
      case 'task.due':
      case 'task.overdue':
        return this.taskTimer(e.type, e.task);
      case 'stage.stalled':
        return this.stalled(e.stay);
      case 'process.upgraded':
        return this.upgrade(e.backfillTasks);
    }
  }

  /**
   * `process apply` moves open leads to the new version with one UPDATE per stage, which sets the
   * stage's index on the row but not in the working set; a reordered pipeline would otherwise have
   * the rules read the wrong stage. The stay's stage id is the truth.
   */
  private realignStage(): void {
    const stay = this.lead.stay;
    const pl = this.p.pipelines.find((x) => x.id === stay.pipeline);
    if (!pl || pl.stages[stay.stageIndex]?.id === stay.stage) return;
    const index = pl.stages.findIndex((s) => s.id === stay.stage);
    if (index >= 0) stay.stageIndex = index;
  }

  /**
   * A new process version changed the lead's stage (docs/process.md, versions and leads in
   * flight): the lead runs under it from now on, gets the tasks the stage gained if the apply
   * asked for them (due from now, by each task's own rule), and is checked against the stage's
   * goal, which may now be met.
   */
  private upgrade(backfill: readonly string[]): void {
    this.requireOpen();
    const lead = this.lead;
    const pl = this.pipeline();
    const stage = pl.stages[lead.stay.stageIndex];
    if (stage?.id !== lead.stay.stage)
      refuse('unknown_stage', `process version ${this.input.processVersion} has no stage ${pl.id}/${lead.stay.stage}`);
    const from = lead.processVersion;
    lead.processVersion = this.input.processVersion;
    this.log.push({
      kind: 'event',
      rule: null,
      message: `process v${this.input.processVersion} applied (was v${from}); lead stays in ${stage.id}`,
    });
    for (const id of backfill) {
      const tpl = stage.tasks.find((t) => t.id === id);
      if (!tpl) continue;
      if (lead.tasks.some((t) => t.stayId === lead.stay.id && t.template === id)) {
        this.log.push({ kind: 'task', rule: id, message: `task ${id} not backfilled: this stay already has it` });
        continue;
      }
      const task = this.createTask(tpl);
      this.log.push({
        kind: 'task',
        rule: id,
        message: `task ${id} added to stage ${stage.id} by process v${this.input.processVersion} and created for this lead (--backfill-tasks), due ${new Date(task.dueAt).toISOString()}`,
        inputs: { task: task.id, backfilled: true },
      });
    }
    this.settle();
  }

  // ---- lead creation and routing ----

  private create(
    typed: Fields,
    owner: string | undefined,
    pipelineId: string | undefined,
    sourcedBy: string | undefined,
  ): void {
    if (this.leadState) refuse('lead_exists', `lead "${this.event.lead}" already exists`);
    this.requireCatalogued(typed);
    // A field written as null is not set: the lead starts without it.
    const fields = Object.fromEntries(
      Object.entries(typed)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, this.stored(k, v)]),
    );
    this.honourOptOut(fields);
    const pipeline = pipelineId ? this.pipelineById(pipelineId, 'pipeline') : this.routePipeline(fields);
    // As `lead reassign --owner`: a user kept with `active: false` has left and takes no new lead.
    if (owner !== undefined) this.requireActiveUser(owner, 'owner');
    const first = pipeline.stages[0] as Stage;
    this.leadState = {
      id: this.event.lead,
      processVersion: this.input.processVersion,
      pipeline: pipeline.id,
      status: 'open',
      owner: null,
      fields: { ...fields },
      createdAt: this.now,
      closedAt: null,
      closeReason: null,
      stay: {
        id: '',
        seq: 0,
        pipeline: pipeline.id,
        stage: first.id,
        stageIndex: 0,
        enteredAt: this.now,
        stallAt: 0,
        stalledAt: null,
        activities: {},
        via: '',
        processVersion: this.input.processVersion,
      },
      tasks: [],
      signals: {},
      lists: [],
      seq: 0,
      error: null,
      ...(this.input.outboxSeries !== undefined ? { outboxSeries: this.input.outboxSeries } : {}),
    };
    for (const [field, to] of Object.entries(fields))
      this.changes.push({ kind: 'field.changed', field, from: null, to });
    if (owner !== undefined) this.changeOwner(owner, 'manual', null);
    else if (!this.keepSelfSourced(sourcedBy)) this.assignByRules('created', this.contactOwnerToKeep('created'));
    // The owner is settled for this event: a first stage's `assign: rules` must not route again.
    this.ownerSettled = true;
    this.enterStage(pipeline, 0, 'created');
    this.settle();
  }

  /**
   * `self_sourced: creator`: a lead a rep found and enters herself is hers, before the contact's
   * other leads or the rules are asked. No cap refuses it and none is charged for it: caps ration
   * what the rules hand out, not what a rep brings in (as an open lead of hers it still counts
   * towards `max_open`, for the leads routed to her later). She must be an active user of the
   * process, else the rules route it, saying why; under `rules` the run log says it was routed
   * anyway, so she reads in the answer why it went to someone else. True if she keeps it.
   */
  private keepSelfSourced(by: string | undefined): boolean {
    if (by === undefined) return false;
    const user = this.p.users.find((u) => u.id === by);
    const routed =
      this.p.assignment.self_sourced === 'rules'
        ? 'routed by the rules (assignment.self_sourced: rules)'
        : !user
          ? `${by} is not a user of the process: routed by the rules`
          : !user.active
            ? `${by} is inactive: routed by the rules`
            : null;
    if (routed) {
      this.log.push({ kind: 'assignment', rule: 'self_sourced', message: `created: self-sourced by ${by}; ${routed}` });
      return false;
    }
    this.log.push({
      kind: 'assignment',
      rule: 'self_sourced',
      message: `created: self-sourced by ${by}, who keeps it (assignment.self_sourced: creator); no cap holds it back or counts it`,
      inputs: { sourcedBy: by },
    });
    this.changeOwner(by, 'self_sourced', null);
    return true;
  }

  /**
   * An address that opted out of marketing mail stays opted out after its leads are gone: a lead
   * given it starts with `unsubscribed` true, and the run log says since when. True if it set it.
   */
  private honourOptOut(fields: Fields): boolean {
    const email = fields['email'];
    if (typeof email !== 'string' || email.trim() === '' || optedOut(fields)) return false;
    const remembered = this.input.rememberedOptOut?.(email) ?? null;
    if (remembered === null) return false;
    fields[OPT_OUT_FIELD] = true;
    this.log.push({ kind: 'event', rule: null, message: `${OPT_OUT_FIELD}: ${rememberedOptOutReason(remembered)}` });
    return true;
  }

  /**
   * `same_contact: owner`: the person already has open leads, so the new one stays with the owner of
   * the newest of them who is part of the target the rules choose for the new lead (a 120k deal the
   * rules send to the closers stays with the contact's closer, not their regional rep) and is active
   * and not away, rather than going to whoever the rotation picks next. Caps do not hold it back,
   * but it counts. Returns the owners to try, newest lead first, or null after saying in the run log
   * why none can keep it.
   */
  private contactOwnerToKeep(via = 'created'): Keep | null {
    const matches = this.input.sameContact ?? [];
    if (this.p.assignment.same_contact !== 'owner') return null;
    const users: Keep['users'] = [];
    const passed: string[] = [];
    for (const match of matches) {
      const owner = match.owner;
      if (owner === null || users.some((u) => u.user === owner)) continue;
      const user = this.p.users.find((u) => u.id === owner);
      const unavailable = !user
        ? 'not in the process'
        : !user.active
          ? 'inactive'
          : isOutOfOffice(user, this.now, userZone(user, this.p))
            ? 'out of office'
            : null;
      if (unavailable) passed.push(`open lead ${match.lead}, but its owner ${owner} is ${unavailable}`);
      else users.push({ user: owner, why: `the contact's open lead ${match.lead}: its owner` });
    }
    if (users.length === 0) {
      if (passed.length > 0)
        this.log.push({
          kind: 'assignment',
          rule: 'same_contact',
          message: `${via}: the contact already has ${passed.join('; ')}: routed by the rules`,
          inputs: { leads: matches.map((m) => m.lead) },
        });
      return null;
    }
    const held = users.map((u) => `${matches.find((m) => m.owner === u.user)?.lead ?? ''} is with ${u.user}`);
    return {
      users,
      missed: `the contact's open lead ${held.join(', ')}, who ${held.length > 1 ? 'are' : 'is'} not part of it`,
    };
  }

  /**
   * An imported lead was written without tasks or automations (no mail to old leads). Activating
   * it ends the imported stay and enters the same stage anew, now: its tasks are due from today
   * and its on-enter automations run, as for a lead that just arrived there. A lead without an
   * active owner is routed by the rules first.
   */
  private activate(): void {
    this.requireOpen();
    const lead = this.lead;
    if (lead.stay.via !== 'import')
      refuse(
        'not_imported',
        `lead ${lead.id} is live already (only an imported lead waiting to go live can be activated)`,
      );
    this.log.push({ kind: 'event', rule: null, message: `imported lead goes live in ${lead.stay.stage}` });
    const owner = lead.owner;
    if (owner === null) this.assignByRules('activated', this.contactOwnerToKeep('activated'));
    else if (!this.isActiveUser(owner)) {
      // An owner who has left would get the stage's tasks, reminders and alerts: route as if ownerless.
      const state = this.p.users.some((u) => u.id === owner) ? 'inactive' : 'not a user of the process';
      this.log.push({ kind: 'assignment', rule: null, message: `owner ${owner} is ${state}; routed by the rules` });
      this.assignByRules('activated', this.contactOwnerToKeep('activated'));
    }
    this.ownerSettled = true;
    this.transition(this.pipeline(), lead.stay.stageIndex, 'moved', 'activated', 'activated');
    this.settle();
  }

  private routePipeline(fields: Fields): Pipeline {
    for (const pl of this.p.pipelines) {
      if (pl.entry && evaluate(pl.entry, { fields })) {
        this.log.push({
          kind: 'routing',
          rule: pl.id,
          message: `entry criteria of pipeline ${pl.id} matched: ${describeCondition(pl.entry)}`,
        });
        return pl;
      }
    }
    const fallback = this.p.pipelines.find((pl) => pl.default);
    if (!fallback) {
      refuse(
        'no_pipeline',
        `no pipeline's entry criteria match this lead and no pipeline is marked default (fields: ${JSON.stringify(fields)})`,
      );
    }
    this.log.push({
      kind: 'routing',
      rule: fallback.id,
      message: `no entry criteria matched; default pipeline ${fallback.id}`,
    });
    return fallback;
  }

  /** `keepOwner`: a re-route leaves the lead with its owner while they still belong to the chosen target. */
  /**
   * `keep`: someone the lead stays with if they belong to the target the rules choose (its owner
   * when re-routing, the owner of the contact's open lead when creating), and why.
   */
  private assignByRules(via: string, keep: Keep | null = null): void {
    const candidates = keep?.users ?? [];
    const out = routeLead(
      this.p,
      this.lead.fields,
      this.routing,
      this.now,
      candidates.map((c) => c.user),
    );
    const why = candidates.find((c) => c.user === out.owner)?.why ?? 'owner';
    const outcome = out.kept
      ? `rule ${out.rule} still routes via ${out.target}: kept by ${why} ${out.owner}`
      : `${describeRouting(out)}${keep?.missed ? ` (${keep.missed})` : ''}`;
    this.log.push({
      kind: 'assignment',
      // The rule that matched, even when its targets were full and the default owner took the lead.
      rule: out.matched?.id ?? out.rule,
      message: `${via}: ${outcome}${out.notes.map((n) => `; ${n}`).join('')}`,
      inputs: {
        fields: pick(this.lead.fields, this.routedFields()),
        passedOver: out.passedOver,
      },
    });
    this.ownerSettled = true;
    if (out.owner !== this.lead.owner) countRouted(this.routing, out.owner);
    this.changeOwner(out.owner, via === 'created' ? 'routing' : via, out.rule);
  }

  /** Every field some assignment rule reads: what a manager needs to see to follow the routing. */
  private routedFields(): string[] {
    const fields = new Set<string>();
    for (const r of this.p.assignment.rules) if (r.when) fieldsRead(r.when, fields);
    return [...fields];
  }

  private changeOwner(to: string, reason: string, rule: string | null): void {
    const lead = this.lead;
    if (lead.owner === to) return;
    this.changes.push({ kind: 'owner.changed', from: lead.owner, to, reason, rule });
    lead.owner = to;
    for (const t of lead.tasks) {
      if (t.status === 'open' && t.assigneeRule === 'owner' && t.assignee !== to) {
        t.assignee = to;
        // Routed in the event that entered the stage (`on_enter: assign: rules`): one event, so the
        // new owner's task is timed in their zone, as if they had held the lead on entry.
        const tpl = this.createdThisEvent.get(t.id);
        if (tpl) Object.assign(t, this.taskTimes(tpl, to));
        this.saveTask(t);
      }
    }
  }

  // ---- fields, tasks and activity ----

  private updateFields(fields: Fields): void {
    const lead = this.lead;
    // Stageflow's own follow-ups (enrichment, a bounce) write built-in fields, never a person's typo.
    if (this.actor.kind !== 'system') this.requireCatalogued(fields);
    const contact = this.contactNow();
    // Fields whose change the rules can see: a change of letter case alone is recorded but routes nobody.
    const changed: string[] = [];
    for (const [field, typed] of Object.entries(fields)) {
      const from = lead.fields[field] ?? null;
      const to = this.stored(field, typed);
      if (to === null) delete lead.fields[field];
      if (from === to) continue;
      if (to !== null) lead.fields[field] = to;
      if (!sameToConditions(from, to)) changed.push(field);
      this.changes.push({ kind: 'field.changed', field, from, to });
    }
    // A new address that opted out before opts the lead out, unless this very change says otherwise.
    const address = lead.fields['email'];
    if (typeof address === 'string' && !sameAddress(address, contact.email) && !(OPT_OUT_FIELD in fields)) {
      const from = lead.fields[OPT_OUT_FIELD] ?? null;
      if (this.honourOptOut(lead.fields))
        this.changes.push({ kind: 'field.changed', field: OPT_OUT_FIELD, from, to: true });
    }
    this.followContact(contact, null);
    const reroute = changed.filter((f) => this.p.assignment.reroute_on_change.includes(f));
    if (reroute.length > 0 && lead.status === 'open')
      this.assignByRules(
        `reroute on ${reroute.join(', ')}`,
        lead.owner === null ? null : { users: [{ user: lead.owner, why: 'owner' }] },
      );
    this.settle();
  }

  private findTask(ref: string): TaskState {
    const lead = this.lead;
    const byId = lead.tasks.find((t) => t.id === ref);
    if (byId) return byId;
    const inStay = lead.tasks.filter((t) => t.template === ref && t.stayId === lead.stay.id);
    const found = inStay[0];
    if (!found) refuse('unknown_task', `no task "${ref}" on lead ${lead.id} in stage ${lead.stay.stage}`);
    return found;
  }

  private completeTask(ref: string): void {
    this.requireOpen();
    const t = this.findTask(ref);
    if (t.status !== 'open') refuse('task_not_open', `task "${t.id}" is ${t.status}, not open`);
    t.status = 'done';
    t.completedAt = this.now;
    this.saveTask(t);
    this.log.push({
      kind: 'task',
      rule: t.template,
      message: `task ${t.template} completed${this.now > t.dueAt ? ' late' : ''}`,
    });
    this.settle();
  }

  private reopenTask(ref: string): void {
    this.requireOpen();
    const t = this.findTask(ref);
    if (t.status === 'open') refuse('task_not_closed', `task "${t.id}" is already open`);
    // A finished stay's tasks are its history: the goal that ended the stay was met with them. To
    // redo that work the lead goes back to the stage, which starts a new stay with fresh tasks.
    // A task a person added belongs to no stage's goal: it can be taken up again wherever the lead is.
    if (t.stayId !== this.lead.stay.id && !t.adHoc) {
      const stage = this.input.earlierStays?.[t.stayId] ?? 'an earlier stage';
      refuse(
        'task_not_open',
        `task "${t.id}" belongs to stage ${stage}, which lead ${this.lead.id} has left (now in ${this.lead.stay.stage}); its tasks are history: move the lead back to ${stage} to do them again`,
      );
    }
    t.status = 'open';
    t.completedAt = null;
    t.skippedAt = null;
    t.skipReason = null;
    this.saveTask(t);
    this.log.push({ kind: 'task', rule: t.template, message: `task ${t.template} reopened` });
    this.settle();
  }

  /**
   * Hands an open task to another person. Named, it is theirs from then on (rule `user`): a later
   * change of the lead's owner no longer moves it, as it moves the owner's tasks. Unnamed (a
   * handover by the rules), a task its stage gives to a team goes round the team again, so a
   * solutions engineer's demo prep goes to another engineer rather than to the rep, and any other
   * task to the lead's owner, following them from then on. The due time stays: the customer was
   * promised it, whoever does the work.
   */
  private reassignTask(ref: string, named: string | undefined): void {
    this.requireOpen();
    const t = this.findTask(ref);
    if (t.status !== 'open')
      refuse('task_not_open', `task "${t.id}" is ${t.status}: only an open task can be reassigned`);
    const { to, rule } = named !== undefined ? { to: named, rule: 'user' as const } : this.taskTakerByRule(t);
    this.requireActiveUser(to, named !== undefined ? 'assignee' : undefined);
    if (t.assignee === to) {
      this.log.push({ kind: 'task', rule: t.template, message: `task ${t.template} is already assigned to ${to}` });
      return this.settle();
    }
    const from = t.assignee ?? 'nobody';
    t.assignee = to;
    t.assigneeRule = rule;
    this.saveTask(t);
    this.log.push({
      kind: 'task',
      rule: t.template,
      message: `task ${t.template} reassigned from ${from} to ${to} by ${this.actor.id ?? this.actor.kind}`,
    });
    this.settle();
  }

  /** Who an unnamed reassignment gives a task to: its team's rotation, else the lead's owner. */
  private taskTakerByRule(t: TaskState): { to: string; rule: TaskState['assigneeRule'] } {
    const team = t.assigneeRule === 'team' ? this.teamOfTask(t) : null;
    if (team !== null) {
      const to = this.teamTaskAssignee(t.template, team);
      if (to === null)
        refuse(
          'no_assignee',
          `task "${t.id}": nobody in team ${team} nor the lead's owner can take it; name the assignee`,
        );
      return { to, rule: 'team' };
    }
    const owner = this.lead.owner;
    if (owner === null) refuse('no_assignee', `task "${t.id}": the lead has no owner to take it; name the assignee`);
    return { to: owner, rule: 'owner' };
  }

  /** The team a task's stage gives it to, from its template in the lead's pipeline; null if none. */
  private teamOfTask(t: TaskState): string | null {
    const stages = this.pipeline().stages;
    const own = t.stayId === this.lead.stay.id ? stages.find((s) => s.id === this.lead.stay.stage) : undefined;
    for (const stage of own ? [own, ...stages] : stages) {
      const tpl = stage.tasks.find((x) => x.id === t.template);
      if (tpl && typeof tpl.assignee === 'object' && 'team' in tpl.assignee) return tpl.assignee.team;
    }
    return null;
  }

  /**
   * A task a person adds ("call Henrik back Tuesday at 10"): theirs, not the stage's, so it stays
   * on the lead's open work through stage changes until done, cancelled or the lead closes. It is
   * given to the named user, else to the person adding it if they are a user of the process, else
   * to the lead's owner, and then follows the owner as the stage's owner tasks do.
   */
  private addTask(title: string, kind: string, due: string, named: string | undefined, note: string | undefined): void {
    this.requireOpen();
    const lead = this.lead;
    const actor = this.actor.id;
    const self = actor !== undefined && this.p.users.some((u) => u.id === actor) ? actor : undefined;
    const to = named ?? self ?? lead.owner;
    if (to === null) refuse('no_assignee', `lead ${lead.id} has no owner to take the task; name the assignee`);
    this.requireActiveUser(to, named !== undefined ? 'assignee' : undefined);
    const template = `adhoc-${lead.seq + 1}`;
    const task: TaskState = {
      id: `${lead.stay.id}:${template}`,
      stayId: lead.stay.id,
      template,
      title,
      kind,
      status: 'open',
      assigneeRule: named === undefined && self === undefined ? 'owner' : 'user',
      assignee: to,
      ...this.personalDue(due),
      createdAt: this.now,
      completedAt: null,
      skippedAt: null,
      skipReason: null,
      dueFired: false,
      overdueFired: false,
      adHoc: true,
      note: note ?? null,
    };
    lead.tasks.push(task);
    this.saveTask(task);
    this.log.push({
      kind: 'task',
      rule: template,
      message: `task ${template} "${title}" (${kind}) added by ${actor ?? this.actor.kind} for ${to}, due ${isoMinute(task.dueAt)}`,
    });
    this.settle();
  }

  /** A due time a person gave (one without an offset is the organisation's), and its overdue alert. */
  private personalDue(due: string): Pick<TaskState, 'dueAt' | 'overdueAt' | 'dueFired' | 'overdueFired'> {
    const at = dueInstant(due, this.p.organisation.timezone);
    if (at === undefined) refuse('invalid_field', `due time ${JSON.stringify(due)}: ${DUE_TIME_HINT}`);
    const overdueAt = at + Math.round(this.p.organisation.overdue_after_hours * 3_600_000);
    // A reminder or alert already sent for the old time is due again for the new one.
    return { dueAt: at, overdueAt, dueFired: false, overdueFired: false };
  }

  /** An open task a person added, for editing or cancelling; the stage's tasks are the process's. */
  private personalTask(ref: string, doing: string): TaskState {
    this.requireOpen();
    const t = this.findTask(ref);
    if (!t.adHoc)
      refuse(
        'not_ad_hoc',
        `task "${t.id}" is one of stage ${this.input.earlierStays?.[t.stayId] ?? this.lead.stay.stage}'s process tasks: only a task a person added can be ${doing}`,
      );
    if (t.status !== 'open')
      refuse('task_not_open', `task "${t.id}" is ${t.status}: only an open task can be ${doing}`);
    return t;
  }

  private updateTask(ref: string, title?: string, kind?: string, due?: string): void {
    const t = this.personalTask(ref, 'edited');
    const edits: string[] = [];
    if (title !== undefined && title !== t.title) {
      edits.push(`title "${title}"`);
      t.title = title;
    }
    if (kind !== undefined && kind !== t.kind) {
      edits.push(`kind ${kind}`);
      t.kind = kind;
    }
    if (due !== undefined) {
      const times = this.personalDue(due);
      if (times.dueAt !== t.dueAt) {
        edits.push(`due ${isoMinute(times.dueAt)}`);
        Object.assign(t, times);
      }
    }
    if (edits.length > 0) this.saveTask(t);
    this.log.push({
      kind: 'task',
      rule: t.template,
      message:
        edits.length > 0
          ? `task ${t.template} edited by ${this.actor.id ?? this.actor.kind}: ${edits.join(', ')}`
          : `task ${t.template} unchanged: it already reads so`,
    });
    this.settle();
  }

  private cancelTask(ref: string, reason: string): void {
    const t = this.personalTask(ref, 'cancelled');
    t.status = 'skipped';
    t.skippedAt = this.now;
    t.skipReason = `cancelled: ${reason}`;
    this.saveTask(t);
    this.log.push({
      kind: 'task',
      rule: t.template,
      message: `task ${t.template} cancelled by ${this.actor.id ?? this.actor.kind}: ${reason}`,
    });
    this.settle();
  }

  /**
   * An activity counts toward the goal of the stay it is logged in, and a goal it meets is met now,
   * when it is logged (a stay never ends in the past); `occurredAt` is only the activity's own time.
   */
  private logActivity(kind: string, note: string | undefined, occurredAt: string | undefined): void {
    this.requireOpen();
    const lead = this.lead;
    const at = this.occurredAtOf(occurredAt);
    lead.stay.activities[kind] = (lead.stay.activities[kind] ?? 0) + 1;
    this.changes.push({ kind: 'activity.logged', stayId: lead.stay.id, activity: kind, note: note ?? null, at });
    if (at !== this.now)
      this.log.push({
        kind: 'event',
        rule: null,
        message: `activity ${kind} logged as of ${new Date(at).toISOString()} (recorded now)`,
      });
    this.settle();
  }

  /** An activity's own time, if before it is logged: within the lead's current stay, never ahead. */
  private occurredAtOf(dated: string | undefined): number {
    if (dated === undefined) return this.now;
    const at = Date.parse(dated);
    if (at > this.now) refuse('invalid_field', `occurredAt ${dated} is in the future`);
    const entered = this.lead.stay.enteredAt;
    if (at < entered)
      refuse(
        'invalid_field',
        `occurredAt ${dated} is before the lead entered stage ${this.lead.stay.stage} at ${new Date(entered).toISOString()}`,
      );
    return at;
  }

  private loggedActivity(ref: string): LoggedActivity {
    const a = this.input.activity;
    if (!a || a.id !== ref || a.lead !== this.lead.id)
      refuse('unknown_activity', `no activity "${ref}" on lead ${this.lead.id}`);
    return a;
  }

  /** A corrected note. The kind and time stay, so no goal is judged again and no stay changes. */
  private editActivity(ref: string, note: string): void {
    const a = this.loggedActivity(ref);
    this.changes.push({ kind: 'activity.edited', id: a.id, note: note === '' ? null : note });
    this.log.push({
      kind: 'event',
      rule: null,
      message: `activity ${a.id} (${a.kind}) ${note === '' ? 'note cleared' : 'note edited'} by ${this.actor.id ?? this.actor.kind}`,
    });
  }

  /**
   * A removed activity no longer counts toward the goal of the stay it was logged in while the
   * lead is still in that stay. A stay that has ended keeps its history: the goal it met stays met.
   */
  private deleteActivity(ref: string): void {
    const a = this.loggedActivity(ref);
    const lead = this.lead;
    const current = lead.status === 'open' && a.stayId === lead.stay.id;
    const counted = lead.stay.activities[a.kind] ?? 0;
    if (current && counted > 0) {
      if (counted === 1) lead.stay.activities = dropKey(lead.stay.activities, a.kind);
      else lead.stay.activities[a.kind] = counted - 1;
    }
    this.changes.push({ kind: 'activity.deleted', id: a.id });
    this.log.push({
      kind: 'event',
      rule: null,
      message: `activity ${a.id} (${a.kind}) deleted by ${this.actor.id ?? this.actor.kind}${
        current
          ? `: no longer counted toward stage ${lead.stay.stage}'s goal`
          : ': the stay it was logged in has ended, whose goal is not judged again'
      }`,
    });
  }

  private saveTask(t: TaskState): void {
    const i = this.changes.findIndex((c) => c.kind === 'task.saved' && c.task.id === t.id);
    if (i >= 0) this.changes.splice(i, 1);
    this.changes.push({ kind: 'task.saved', task: { ...t } });
  }

  // ---- moving between stages ----

  private move(stageId: string, pipelineId: string | undefined, override: boolean, reason: string | undefined): void {
    this.requireOpen();
    const lead = this.lead;
    this.requireOverrideRight(override);
    const target = pipelineId ? this.pipelineById(pipelineId, 'pipeline') : this.pipeline();
    const index = target.stages.findIndex((s) => s.id === stageId);
    if (index < 0) refuse('unknown_stage', `pipeline "${target.id}" has no stage "${stageId}"`, { field: 'stage' });
    const why = reason ? ` (${reason})` : '';
    if (target.id !== lead.pipeline) {
      // Leaving a strict stage for another pipeline needs what leaving it forward needs, and
      // entering that pipeline past its strict stages skips them just as a forward move would.
      const from = lead.stay.stageIndex;
      this.gateForward(this.pipeline(), from, from + 1, override, stageId);
      this.gateEntry(target, index, override, stageId);
      this.log.push({ kind: 'event', rule: null, message: `moved to pipeline ${target.id}, stage ${stageId}${why}` });
      this.transition(target, index, 'pipeline', 'moved', 'pipeline');
      return this.settle();
    }
    const from = lead.stay.stageIndex;
    if (index === from) refuse('already_in_stage', `lead ${lead.id} is already in stage "${stageId}"`);
    if (index > from) this.gateForward(target, from, index, override, stageId);
    this.log.push({
      kind: 'event',
      rule: null,
      message: `moved ${index > from ? 'forward' : 'back'} to ${stageId} by ${this.actor.kind}${why}`,
    });
    this.transition(target, index, 'moved', 'moved', index > from ? 'moved forward' : 'moved back');
    // A person moved it back to redo the stage: its goal is checked from the next event on, not now.
    if (index > from) this.settle();
  }

  /** An override passes gates for every writer's rules, so only an admin may ask for one. */
  private requireOverrideRight(override: boolean): void {
    if (override && this.actor.kind !== 'admin')
      refuse('override_forbidden', `only an admin may override a stage gate (actor: ${this.actor.kind})`);
  }

  /**
   * Strict stages between `from` (inclusive) and `to` (exclusive) must not be skipped or left
   * unfinished; `from` null enters the pipeline at `to`, skipping every stage before it. `mover`
   * names the writer in the run log (the event's actor unless an automation moves the lead).
   */
  private gateForward(
    pl: Pipeline,
    from: number | null,
    to: number,
    override: boolean,
    target: string,
    mover: string = this.actor.kind,
  ): void {
    for (let k = from ?? 0; k < to; k++) {
      const s = pl.stages[k] as Stage;
      if (!s.strict) continue;
      const block = k === from ? this.exitBlock(pl, s) : null;
      const problem = k === from ? (block ? this.exitBlocker(s) : null) : `it would skip strict stage "${s.id}"`;
      if (!problem) continue;
      if (override) {
        this.log.push({
          kind: 'gate',
          rule: s.id,
          message: `admin ${this.actor.id ?? ''} overrode gate of ${s.id}: ${problem}`.replace('  ', ' '),
        });
        continue;
      }
      const message = `stage "${s.id}" is strict: cannot move to "${target}" because ${problem}`;
      this.log.push({ kind: 'gate', rule: s.id, message: `refused ${mover} move: ${problem}` });
      refuse('gate_refused', message, {
        gate: block ?? { pipeline: pl.id, stage: s.id, skipped: true, missingFields: [], unmetGoal: [] },
      });
    }
  }

  /**
   * Entering pipeline `pl` at stage `index` from outside it (a move from another pipeline, a reopen
   * into it): the strict stages before `index` are skipped. The lead may have passed them on an
   * earlier visit, but the work they ask for cannot be vouched for now, so an admin decides.
   */
  private gateEntry(pl: Pipeline, index: number, override: boolean, target: string): void {
    this.gateForward(pl, null, index, override, target);
  }

  /** Everything that holds the lead in strict stage `s` now (not only the first thing), or null. */
  private exitBlock(pl: Pipeline, s: Stage): GateBlock | null {
    const missingFields = missingRequiredFields(s, this.lead.fields);
    const facts = this.facts();
    const unmetGoal = s.goal && !evaluate(s.goal, facts) ? unmetItems(goalChecklist(s.goal, facts)) : [];
    if (missingFields.length === 0 && unmetGoal.length === 0) return null;
    return { pipeline: pl.id, stage: s.id, skipped: false, missingFields, unmetGoal };
  }

  /** Why the lead may not leave a strict stage now, or null. */
  private exitBlocker(s: Stage): string | null {
    const missing = missingRequiredFields(s, this.lead.fields);
    if (missing.length > 0) return `required field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set`;
    if (s.goal && !evaluate(s.goal, this.facts())) return `its goal is not met (${describeCondition(s.goal)})`;
    return null;
  }

  private facts(): Parameters<typeof evaluate>[1] {
    return goalFacts(this.lead);
  }

  /**
   * Ends the current stay; its open tasks are skipped, since the work they asked for is moot. The
   * tasks people added are not the stage's: they stay open on the lead, unless it closes.
   */
  private leave(exit: ExitKind, skipReason: string): void {
    const lead = this.lead;
    const closing = exit === 'won' || exit === 'lost';
    for (const t of lead.tasks) {
      if (t.status === 'open' && (t.adHoc ? closing : t.stayId === lead.stay.id)) {
        t.status = 'skipped';
        t.skippedAt = this.now;
        t.skipReason = skipReason;
        this.saveTask(t);
      }
    }
    this.changes.push({ kind: 'stay.exited', stay: { ...lead.stay }, exitedAt: this.now, exit });
  }

  /** Leaves the current stay and enters another, unless that would re-enter a stage this event already entered. */
  private transition(pl: Pipeline, index: number, exit: ExitKind, skipReason: string, via: string): void {
    const lead = this.lead;
    const stage = pl.stages[index] as Stage;
    if (this.enteredThisEvent.has(`${pl.id}/${stage.id}`)) {
      this.halted = true;
      const message = `automation loop: stage ${pl.id}/${stage.id} would be entered twice by one ${this.event.type} event; stopped in ${lead.stay.stage}`;
      this.recordError(message);
      this.log.push({ kind: 'error', rule: stage.id, message });
      return;
    }
    this.leave(exit, skipReason);
    this.enterStage(pl, index, via);
  }

  private recordError(message: string): void {
    this.lead.error = message;
    this.errorRaised = true;
  }

  private enterStage(pl: Pipeline, index: number, via: string, automations = true): void {
    const lead = this.lead;
    const stage = pl.stages[index] as Stage;
    this.enteredThisEvent.add(`${pl.id}/${stage.id}`);
    const seq = lead.stay.seq + 1;
    const stallDays = stage.stall_after_days ?? this.p.organisation.default_stall_days;
    lead.pipeline = pl.id;
    lead.stay = {
      id: `${lead.id}#${seq}`,
      seq,
      pipeline: pl.id,
      stage: stage.id,
      stageIndex: index,
      enteredAt: this.now,
      stallAt: this.now + Math.round(stallDays * DAY_MS),
      stalledAt: null,
      activities: {},
      via,
      processVersion: lead.processVersion,
    };
    // Earlier stays' tasks that are still open (reopened ones) stay on the lead; the rest are history.
    lead.tasks = lead.tasks.filter((t) => t.status === 'open');
    this.changes.push({ kind: 'stay.entered', stay: { ...lead.stay, activities: {} } });
    this.log.push({ kind: 'event', rule: stage.id, message: `entered stage ${stage.id} (${via})` });
    for (const tpl of stage.tasks) this.createTask(tpl);
    if (automations) this.runAutomations(stage.on_enter, `${stage.id}.on_enter`, 'stage.entered');
  }

  /**
   * A team task goes round the members who are active and not away. When none is, the work falls
   * to the lead's owner, or failing that the team's manager, whoever of them is active: an inactive
   * one has left, and their reminders and alerts reach no one. Else it stays unassigned. The run
   * log says which.
   */
  private teamTaskAssignee(task: string, team: string): string | null {
    const picked = pickTaskAssignee(this.p, team, this.routing, this.now);
    if (picked !== null) return picked;
    const fallback = this.teamTaskFallback(team);
    this.log.push({
      kind: 'task',
      rule: task,
      message: `task ${task}: nobody in team ${team} is available (all away or inactive); ${fallback.why}`,
    });
    return fallback.user;
  }

  /** Who takes a team task when no member can: the lead's owner, else the team's manager, if active. */
  private teamTaskFallback(team: string): { user: string | null; why: string } {
    const owner = this.lead.owner;
    const manager = this.p.teams.find((t) => t.id === team)?.manager ?? null;
    if (owner !== null && this.isActiveUser(owner))
      return { user: owner, why: `assigned to the lead's owner ${owner}` };
    const ownerState = owner === null ? 'the lead has no owner' : `the lead's owner ${owner} is inactive`;
    if (manager !== null && this.isActiveUser(manager))
      return { user: manager, why: `${ownerState}; assigned to the team's manager ${manager}` };
    const managerState = manager === null ? 'the team has no manager' : `its manager ${manager} is inactive`;
    return { user: null, why: `left unassigned: ${ownerState} and ${managerState}` };
  }

  /** One task of the current stay from its template, due counted from now. */
  private createTask(tpl: TaskTemplate): TaskState {
    const lead = this.lead;
    const rule = tpl.assignee === 'owner' ? 'owner' : 'user' in tpl.assignee ? 'user' : 'team';
    const assignee =
      tpl.assignee === 'owner'
        ? lead.owner
        : 'user' in tpl.assignee
          ? tpl.assignee.user
          : this.teamTaskAssignee(tpl.id, tpl.assignee.team);
    const task: TaskState = {
      id: `${lead.stay.id}:${tpl.id}`,
      stayId: lead.stay.id,
      template: tpl.id,
      title: tpl.title,
      kind: tpl.kind,
      status: 'open',
      assigneeRule: rule,
      assignee,
      ...this.taskTimes(tpl, assignee),
      createdAt: this.now,
      completedAt: null,
      skippedAt: null,
      skipReason: null,
      dueFired: false,
      overdueFired: false,
    };
    lead.tasks.push(task);
    this.createdThisEvent.set(task.id, tpl);
    this.saveTask(task);
    return task;
  }

  /** A task's due and overdue times from now: the organisation's workweek and holidays, in the assignee's own zone. */
  private taskTimes(tpl: TaskTemplate, assignee: string | null): Pick<TaskState, 'dueAt' | 'overdueAt'> {
    const cal = (this.calendar ??= orgCalendar(this.p));
    const zone = this.p.users.find((u) => u.id === assignee)?.timezone ?? cal.timezone;
    const due = dueAt(this.now, tpl.due, { ...cal, timezone: zone });
    return { dueAt: due, overdueAt: due + Math.round(this.p.organisation.overdue_after_hours * 3_600_000) };
  }

  /** Advances through every stage whose goal is met, then stops; bounded by the loop guard. */
  private settle(): void {
    const lead = this.lead;
    while (!this.halted && lead.status === 'open') {
      const pl = this.pipeline();
      const stage = pl.stages[lead.stay.stageIndex] as Stage;
      if (!stage.goal || !evaluate(stage.goal, this.facts())) return;
      if (this.heldByPerson(stage.goal)) {
        this.log.push({
          kind: 'goal',
          rule: stage.id,
          message: `goal of ${stage.id} met by earlier facts, but a person put the lead here (${lead.stay.via}): it waits for a new fact the goal names`,
        });
        return;
      }
      const blocker = stage.strict ? this.exitBlocker(stage) : null;
      if (blocker) {
        this.log.push({
          kind: 'gate',
          rule: stage.id,
          message: `goal met but strict stage holds the lead: ${blocker}`,
        });
        return;
      }
      this.log.push({
        kind: 'goal',
        rule: stage.id,
        message: `goal of ${stage.id} met: ${describeCondition(stage.goal)}`,
        inputs: { event: this.event.type },
      });
      const next = lead.stay.stageIndex + 1;
      if (next >= pl.stages.length) return this.close('won', `goal of last stage ${stage.id} met`, 'goal');
      this.transition(pl, next, 'goal', 'goal', `goal of ${stage.id}`);
    }
  }

  /**
   * A person put the lead back into this stage (moved it back, reopened it) to work it again. Its
   * goal may well be met by facts from before (a signal received long ago, a field set then), which
   * would send the lead straight on, and a won lead through on_won again, at the next unrelated
   * event, a note say. So such a stay's goal is checked only when the event brings a new fact the
   * goal names: one of its tasks done, an activity of its kind, its signal, a field it reads.
   */
  private heldByPerson(goal: Condition): boolean {
    const via = this.lead.stay.via;
    if (via !== 'reopened' && via !== 'moved back') return false;
    const named = factsNamed(goal);
    const stay = this.lead.stay.id;
    const fresh = this.changes.some(
      (c) =>
        (c.kind === 'task.saved' &&
          c.task.stayId === stay &&
          c.task.status === 'done' &&
          named.tasks.has(c.task.template)) ||
        (c.kind === 'activity.logged' && c.stayId === stay && named.activities.has(c.activity)) ||
        (c.kind === 'field.changed' && named.fields.has(c.field)),
    );
    const signal = this.event.type === 'signal.received' && named.signals.has(this.event.name);
    return !fresh && !signal;
  }

  private close(status: 'won' | 'lost', reason: string | null, skip: string = 'closed', dated?: string): void {
    const lead = this.lead;
    const closedAt = this.closedAtOf(dated);
    this.leave(status, skip);
    this.changes.push({ kind: 'status.changed', from: lead.status, to: status, reason });
    lead.status = status;
    lead.closedAt = closedAt;
    lead.closeReason = reason;
    const when = closedAt === this.now ? '' : ` (closed ${new Date(closedAt).toISOString()}, recorded now)`;
    this.log.push({ kind: 'event', rule: null, message: `lead ${status}${reason ? `: ${reason}` : ''}${when}` });
    const pl = this.pipeline();
    this.runAutomations(status === 'won' ? pl.on_won : pl.on_lost, `${pl.id}.on_${status}`, `lead.${status}`);
  }

  /**
   * A close dated by the person recording it (the contract signed yesterday): the lead's closedAt,
   * which the reports bucket by; the stay still ends now, when the work on it stopped being open.
   */
  private closedAtOf(dated: string | undefined): number {
    if (dated === undefined) return this.now;
    const at = Date.parse(dated);
    if (at > this.now) refuse('invalid_field', `closedAt ${dated} is in the future`);
    const entered = this.lead.stay.enteredAt;
    if (at < entered)
      refuse(
        'invalid_field',
        `closedAt ${dated} is before the lead entered stage ${this.lead.stay.stage} at ${new Date(entered).toISOString()}`,
      );
    return at;
  }

  /**
   * The engine hands a reopen the current process version, not the one the lead closed under: a
   * lead worked again runs under today's rules. Its stage is found by id; if that version has no
   * such stage any more, the reopen is refused and names one that exists (`stage` picks it).
   */
  private reopenLead(
    stageId: string | undefined,
    pipelineId: string | undefined,
    override: boolean,
    owner: string | undefined,
  ): void {
    const lead = this.lead;
    if (lead.status === 'open') refuse('lead_open', `lead ${lead.id} is already open`);
    this.requireOverrideRight(override);
    // As `lead reassign --owner`: the person named must be an active user of the current version.
    if (owner !== undefined) this.requireActiveUser(owner, 'owner');
    const version = this.input.processVersion;
    const closedIn = `${lead.stay.pipeline}/${lead.stay.stage}`;
    const pl = this.p.pipelines.find((x) => x.id === (pipelineId ?? lead.pipeline));
    if (!pl) {
      if (pipelineId !== undefined)
        refuse('unknown_pipeline', `no pipeline "${pipelineId}" in process version ${version}`, { field: 'pipeline' });
      const first = this.p.pipelines[0] as Pipeline;
      refuse(
        'unknown_stage',
        `lead ${lead.id} closed in stage ${closedIn}, whose pipeline process version ${version} no longer has: reopen it with --pipeline and --stage (e.g. --pipeline ${first.id} --stage ${(first.stages[0] as Stage).id})`,
        { field: 'pipeline' },
      );
    }
    const wanted = stageId ?? lead.stay.stage;
    const index = pl.stages.findIndex((s) => s.id === wanted);
    if (index < 0) {
      if (stageId !== undefined)
        refuse('unknown_stage', `pipeline "${pl.id}" has no stage "${stageId}" in process version ${version}`, {
          field: 'stage',
        });
      refuse(
        'unknown_stage',
        `lead ${lead.id} closed in stage ${closedIn}, which process version ${version} no longer has: reopen it with --stage and one of ${pl.stages.map((s) => s.id).join(', ')}`,
        { field: 'stage' },
      );
    }
    // Reopening past the stage it closed in is a forward move from there; into another pipeline,
    // or when that stage is gone, it enters the pipeline at the stage named.
    const closed = pl.id === lead.stay.pipeline ? this.closedPosition(pl) : { index: -1, passed: false };
    const closedIndex = closed.index;
    if (closedIndex < 0) this.gateEntry(pl, index, override, wanted);
    // A kept stage before a removed one was left for it, its gate passed then: gates start after it.
    else if (index > closedIndex)
      this.gateForward(pl, closed.passed ? closedIndex + 1 : closedIndex, index, override, wanted);
    if (lead.processVersion !== version)
      this.log.push({
        kind: 'event',
        rule: null,
        message: `reopened under process v${version} (closed under v${lead.processVersion})`,
      });
    lead.processVersion = version;
    this.changes.push({ kind: 'status.changed', from: lead.status, to: 'open', reason: 'reopened' });
    lead.status = 'open';
    lead.closedAt = null;
    lead.closeReason = null;
    // A signature or trial that closed the deal is not one for the deal worked again: it must come again.
    const earlier = Object.keys(lead.signals);
    if (earlier.length > 0) {
      lead.signals = {};
      this.log.push({
        kind: 'event',
        rule: null,
        message: `signals received before the close no longer count towards goals: ${earlier.join(', ')}`,
      });
    }
    this.ownerForReopen(owner);
    // A person reopened it to work it again: fresh tasks, but no on-enter automations (they ran
    // the first time) and no goal check in this event, or a goal met long ago would close it again.
    this.enterStage(pl, index, 'reopened', false);
  }

  /**
   * Who works a reopened lead, before its stage's tasks are made: the owner named, else the owner
   * it closed with while they are an active user of the current version. One who has left since
   * (removed, or kept with `active: false`) would get tasks and alerts nobody sees: the rules
   * route it then, as a new lead, and the run log says why.
   */
  private ownerForReopen(named: string | undefined): void {
    const owner = this.lead.owner;
    if (named !== undefined) this.changeOwner(named, 'manual', null);
    else if (owner === null || !this.isActiveUser(owner)) {
      const state =
        owner === null
          ? 'it has no owner'
          : this.p.users.some((u) => u.id === owner)
            ? `its owner ${owner} is inactive`
            : `its owner ${owner} is not a user of process v${this.input.processVersion}`;
      this.log.push({ kind: 'assignment', rule: null, message: `reopened: ${state}; routed by the rules` });
      this.assignByRules('reopened', this.contactOwnerToKeep('reopened'));
    }
    this.ownerSettled = true;
  }

  /**
   * Where in `pl` (the lead's own pipeline, current version) the lead closed: its stage's index, or,
   * when this version removed that stage, the nearest kept stage before it in the version it
   * closed under (as `process apply` re-indexes its history): it passed that one, so reopening
   * there or before is no forward move. -1 when nothing before it is kept.
   */
  private closedPosition(pl: Pipeline): { index: number; passed: boolean } {
    const stage = this.lead.stay.stage;
    const index = pl.stages.findIndex((s) => s.id === stage);
    if (index >= 0) return { index, passed: false };
    const old = this.input.closedUnder?.pipelines.find((p) => p.id === pl.id)?.stages ?? [];
    for (let k = old.findIndex((s) => s.id === stage) - 1; k >= 0; k--) {
      const kept = pl.stages.findIndex((s) => s.id === old[k]?.id);
      if (kept >= 0) return { index: kept, passed: true };
    }
    return { index: -1, passed: false };
  }

  // ---- automations and timers ----

  private runAutomations(list: readonly Automation[], where: string, trigger: string): void {
    const outer = this.trigger;
    this.trigger = trigger;
    list.forEach((a, i) => {
      if (this.halted) return;
      const rule = `${where}[${i}]`;
      this.runAutomation(a, rule);
    });
    this.trigger = outer;
  }

  private runAutomation(a: Automation, rule: string): void {
    const lead = this.lead;
    const note = (message: string): void => void this.log.push({ kind: 'automation', rule, message });
    if ('assign' in a) {
      if (this.ownerSettled) return note('assign skipped: the owner was already chosen by this event');
      return this.assignByRules(`automation ${rule}`);
    }
    if ('set' in a) {
      const contact = this.contactNow();
      note(this.setField(a.set));
      this.followContact(contact, rule);
      return;
    }
    if ('status' in a) {
      if (lead.status !== 'open') return note(`status ${a.status} ignored: lead already ${lead.status}`);
      // Winning moves past the last stage, gated as a person's win is; losing is never gated.
      if (a.status === 'won') {
        const pl = this.pipeline();
        try {
          this.gateForward(pl, lead.stay.stageIndex, pl.stages.length, false, 'won', `automation ${rule}`);
        } catch (e) {
          if (!(e instanceof Refusal)) throw e;
          this.recordError(`automation ${rule} refused: ${e.error.message}`);
          return note(`status won refused: ${e.error.message}`);
        }
      }
      note(`status ${a.status}`);
      return this.close(a.status, a.reason ?? `automation ${rule}`);
    }
    if ('email' in a) {
      const template = this.p.templates[a.email.template];
      const to = this.recipient(a.email.to);
      if (!to) return note(`email ${a.email.template} not sent: no ${a.email.to} address`);
      if (a.email.to === 'contact' && this.suppressed(to))
        return note(`email ${a.email.template} not sent: the contact was erased`);
      if (template?.marketing && optedOut(lead.fields)) {
        return note(`email ${a.email.template} not sent: contact unsubscribed from marketing mail`);
      }
      note(`email ${a.email.template} to ${a.email.to}`);
      return this.effect('email', {
        template: a.email.template,
        to,
        recipient: a.email.to,
        marketing: template?.marketing ?? false,
      });
    }
    if ('subscribe' in a) {
      const email = lead.fields['email'];
      if (typeof email !== 'string' || email === '') return note(`subscribe to ${a.subscribe.list} skipped: no email`);
      if (this.suppressed(email)) return note(`subscribe to ${a.subscribe.list} skipped: the contact was erased`);
      // A mailing list sends marketing mail: someone who opted out is not put on one.
      if (optedOut(lead.fields))
        return note(`subscribe to ${a.subscribe.list} skipped: contact unsubscribed from marketing mail`);
      if (!lead.lists.includes(a.subscribe.list)) lead.lists.push(a.subscribe.list);
      // Kept for a move to a new address, which subscribes that one as this did the old one.
      lead.listTags = { ...lead.listTags, [a.subscribe.list]: a.subscribe.tags };
      note(`subscribe ${email} to ${a.subscribe.list}`);
      return this.effect('list.subscribe', {
        list: a.subscribe.list,
        email,
        tags: a.subscribe.tags,
        firstName: lead.fields['first_name'] ?? null,
        lastName: lead.fields['last_name'] ?? null,
      });
    }
    if ('unsubscribe' in a) {
      const email = lead.fields['email'];
      if (typeof email !== 'string' || email === '')
        return note(`unsubscribe from ${a.unsubscribe.list} skipped: no email`);
      if (this.suppressed(email)) return note(`unsubscribe from ${a.unsubscribe.list} skipped: the contact was erased`);
      if (!lead.lists.includes(a.unsubscribe.list))
        return note(`unsubscribe from ${a.unsubscribe.list} skipped: ${email} was never subscribed by this process`);
      lead.lists = lead.lists.filter((l) => l !== a.unsubscribe.list);
      if (lead.listTags) lead.listTags = dropKey(lead.listTags, a.unsubscribe.list);
      note(`unsubscribe ${email} from ${a.unsubscribe.list}`);
      return this.effect('list.unsubscribe', { list: a.unsubscribe.list, email });
    }
    if ('congratulate' in a) {
      const to = a.congratulate === 'owner' ? lead.owner : this.managerOf(lead.owner);
      if (!to) return note(`congratulate ${a.congratulate} skipped: nobody to congratulate`);
      note(`congratulate ${to}`);
      return this.effect('congratulate', {
        user: to,
        message:
          a.message ??
          (lead.status === 'won'
            ? `Well done: ${lead.fields['name'] ?? lead.id} was won`
            : `Well done: ${lead.fields['name'] ?? lead.id} reached ${this.stageName()}`),
      });
    }
    if ('webhook' in a) {
      note(`webhook ${a.webhook.url}`);
      // The lead as of the event: a webhook delivered late must announce the stage that was entered
      // (and the status and owner then), not wherever the lead has gone since.
      return this.effect('webhook', {
        url: a.webhook.url,
        event: this.trigger,
        cause: this.event.type,
        pipeline: lead.pipeline,
        stage: lead.stay.stage,
        status: lead.status,
        owner: lead.owner,
      });
    }
    if ('enrich' in a) {
      const email = lead.fields['email'];
      if (typeof email !== 'string' || email === '') return note('enrich skipped: no email');
      if (this.suppressed(email)) return note('enrich skipped: the contact was erased');
      note(`enrich from ${email}`);
      return this.effect('enrich', { email });
    }
    // move: an automation is a writer like any other, so gates apply to it too.
    if (lead.status !== 'open') return note(`move to ${a.move} ignored: lead ${lead.status}`);
    const pl = this.pipeline();
    const index = pl.stages.findIndex((s) => s.id === a.move);
    if (index === lead.stay.stageIndex) return note(`move to ${a.move} ignored: already there`);
    if (index > lead.stay.stageIndex) {
      try {
        this.gateForward(pl, lead.stay.stageIndex, index, false, a.move, `automation ${rule}`);
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        this.recordError(`automation ${rule} refused: ${e.error.message}`);
        return note(`move to ${a.move} refused: ${e.error.message}`);
      }
    }
    note(`move to ${a.move}`);
    this.transition(pl, index, 'moved', 'moved', `automation ${rule}`);
  }

  /** The contact as the mailing lists know them: the address and the opt-out. */
  private contactNow(): ListContact {
    const email = this.lead.fields['email'];
    return {
      email: typeof email === 'string' && email.trim() !== '' ? email : null,
      optedOut: optedOut(this.lead.fields),
    };
  }

  /**
   * Mailing lists follow the contact after a change to their fields (`before`: as they were).
   * One who has just opted out of marketing mail leaves every list our automations put them on,
   * as HubSpot's and Pipedrive's opt-outs reach their Mailchimp sync: a nurture list is marketing
   * mail; opting in again subscribes nobody, a later `subscribe` automation does. One whose address
   * changed is moved: the address that was subscribed is unsubscribed and the new one subscribed
   * with the same tags, so the address on the list is always the lead's, and a later `unsubscribe`
   * (or opt-out) reaches it rather than leaving the old one on the list.
   */
  private followContact(before: ListContact, rule: string | null): void {
    const lead = this.lead;
    if (lead.lists.length === 0) return;
    const now = this.contactNow();
    const optingOut = !before.optedOut && now.optedOut;
    const moved = before.email !== null && !sameAddress(before.email, now.email);
    if (!optingOut && !moved) return;
    const why = optingOut
      ? 'the contact unsubscribed from marketing mail'
      : `the address changed to ${now.email ?? 'none'}`;
    const target = optingOut || now.email === null || this.suppressed(now.email) ? null : now.email;
    const note = (message: string): void => void this.log.push({ kind: 'automation', rule, message });
    for (const list of lead.lists) {
      const from = before.email;
      if (from !== null && !this.suppressed(from)) {
        note(`unsubscribe ${from} from ${list}: ${why}`);
        this.effect('list.unsubscribe', { list, email: from });
      } else note(`left ${list}: ${why} (no address to unsubscribe)`);
      if (target === null) continue;
      note(`subscribe ${target} to ${list}: ${why}`);
      this.effect('list.subscribe', {
        list,
        email: target,
        tags: lead.listTags?.[list] ?? [],
        firstName: lead.fields['first_name'] ?? null,
        lastName: lead.fields['last_name'] ?? null,
      });
    }
    if (target === null) {
      lead.lists = [];
      delete lead.listTags;
    }
  }

  private taskTimer(type: 'task.due' | 'task.overdue', taskId: string): void {
    const t = this.lead.tasks.find((x) => x.id === taskId);
    if (!t || t.status !== 'open') return;
    if (type === 'task.due' && !t.dueFired) {
      t.dueFired = true;
      this.saveTask(t);
      // After scheduler downtime the overdue alert is due too: a reminder that the task "is due"
      // next to it is stale noise, so only the alert goes out.
      if (this.now > t.dueAt && this.now >= t.overdueAt) {
        const message = `task ${t.template} was due ${isoMinute(t.dueAt)}: reminder not sent, it is overdue already`;
        this.log.push({ kind: 'timer', rule: t.template, message });
        return;
      }
      this.log.push({
        kind: 'timer',
        rule: t.template,
        message: `task ${t.template} is due${late(t.dueAt, this.now)}`,
      });
      this.effect('task.reminder', { task: t.id, title: t.title, user: t.assignee, dueAt: t.dueAt });
    }
    if (type === 'task.overdue' && !t.overdueFired) {
      t.overdueFired = true;
      this.saveTask(t);
      const message = `task ${t.template} is overdue${late(t.overdueAt, this.now)}`;
      this.log.push({ kind: 'timer', rule: t.template, message });
      this.effect('task.overdue', {
        task: t.id,
        title: t.title,
        user: t.assignee,
        manager: this.managerOf(t.assignee),
        dueAt: t.dueAt,
      });
    }
  }

  private stalled(stayId: string): void {
    const lead = this.lead;
    if (lead.status !== 'open' || lead.stay.id !== stayId || lead.stay.stalledAt !== null) return;
    // Stamped when the stay crossed its threshold, not when a scheduler back from downtime noticed.
    lead.stay.stalledAt = Math.min(this.now, lead.stay.stallAt);
    this.changes.push({ kind: 'stay.stalled', stay: { ...lead.stay } });
    const message = `stalled in ${lead.stay.stage}${late(lead.stay.stallAt, this.now)}`;
    this.log.push({ kind: 'timer', rule: lead.stay.stage, message });
    this.effect('stage.stalled', {
      stage: lead.stay.stage,
      user: lead.owner,
      manager: this.managerOf(lead.owner),
      since: lead.stay.enteredAt,
    });
  }

  private effect(kind: Effect['kind'], payload: Record<string, unknown>): void {
    const lead = this.lead;
    const key = outboxKey(lead.id, lead.outboxSeries ?? 1, lead.seq + 1, this.effects.length, kind);
    this.effects.push({ kind, key, payload: { lead: lead.id, ...payload } });
  }

  // ---- lookups ----

  private recipient(to: 'contact' | 'owner' | 'manager'): string | null {
    const lead = this.lead;
    if (to === 'contact') {
      const email = lead.fields['email'];
      return typeof email === 'string' && email !== '' ? email : null;
    }
    const user = to === 'owner' ? lead.owner : this.managerOf(lead.owner);
    return this.p.users.find((u) => u.id === user)?.email ?? null;
  }

  /**
   * The manager of the first team listing `user` with a manager other than themselves: a
   * player-coach is nobody's report in their own team, so their own deal does not congratulate
   * them twice, nor alert them twice as rep and as manager.
   */
  private managerOf(user: string | null): string | null {
    if (!user) return null;
    return this.p.teams.find((t) => t.members.includes(user) && t.manager && t.manager !== user)?.manager ?? null;
  }

  private stageName(): string {
    return this.pipeline().stages[this.lead.stay.stageIndex]?.name ?? this.lead.stay.stage;
  }

  private pipeline(): Pipeline {
    return this.pipelineById(this.lead.pipeline);
  }

  /** Runs a `set` automation; returns what it did, for the run log. */
  private setField(s: SetAutomation): string {
    const lead = this.lead;
    const from = lead.fields[s.field] ?? null;
    if (s.if_empty && from !== null && from !== '') return `set ${s.field} skipped: already ${JSON.stringify(from)}`;
    const cal = (this.calendar ??= orgCalendar(this.p));
    const value = s.after ? dateAfter(this.now, s.after, cal) : (s.value ?? null);
    const to = this.stored(s.field, value);
    if (to === null) delete lead.fields[s.field];
    if (from !== to) {
      if (to !== null) lead.fields[s.field] = to;
      this.changes.push({ kind: 'field.changed', field: s.field, from, to });
    }
    if (!s.after) return `set ${s.field} = ${JSON.stringify(value)}`;
    const counted = s.after.days !== undefined ? `${s.after.days} days` : `${s.after.business_days} business days`;
    return `set ${s.field} = ${JSON.stringify(value)} (${counted} after ${dateAfter(this.now, { days: 0 }, cal)})`;
  }

  /**
   * A field's value as the lead keeps it: an expected close is that day (or time) in the
   * organisation's zone, with its offset, whoever wrote it (docs/process.md, expected close).
   */
  private stored(field: string, v: FieldValue): FieldValue {
    if (this.p.fields !== undefined) v = storedValue(catalogueField(this.p, field), v);
    // The opt-out is kept as the yes or no it spells (`TRUE`, `yes`, `1`: true), so every reader agrees.
    if (field === OPT_OUT_FIELD) return optOutValue(v) ?? v;
    if (field === FORECAST_FIELD) return forecastCategory(v) ?? v;
    if (field !== 'expected_close' || typeof v !== 'string' || v === '') return v;
    return closeDateField(v, this.p.organisation.timezone);
  }

  /**
   * With a field catalogue, a write names only fields the process knows, each with a value of its
   * type (the API answers the same 400 before it gets here; this holds for the CLI and event files).
   */
  private requireCatalogued(fields: Fields): void {
    const problems = fieldWriteProblems(this.p, fields);
    if (problems.length > 0) refuse('invalid_field', problems.map((p) => `fields.${p.field}: ${p.message}`).join('; '));
  }

  /** `field`: the event's input that named the pipeline, if one did. */
  private pipelineById(id: string, field?: string): Pipeline {
    const pl = this.p.pipelines.find((x) => x.id === id);
    if (!pl)
      refuse('unknown_pipeline', `no pipeline "${id}" in process version ${this.input.processVersion}`, {
        ...(field ? { field } : {}),
      });
    return pl;
  }

  /** `field`: the event's input that named the user (`owner`, `assignee`), if one did. */
  private requireUser(id: string, field?: string): void {
    if (!this.p.users.some((u) => u.id === id))
      refuse('unknown_user', `no user "${id}" in the process`, { ...(field ? { field } : {}) });
  }

  private isActiveUser(id: string): boolean {
    return this.p.users.some((u) => u.id === id && u.active);
  }

  /** Work is handed only to someone who takes it: a user kept with `active: false` has left. */
  private requireActiveUser(id: string, field?: string): void {
    this.requireUser(id, field);
    if (this.p.users.find((u) => u.id === id)?.active === false)
      refuse('inactive_user', `user "${id}" is inactive (active: false in the process); choose an active user`, {
        ...(field ? { field } : {}),
      });
  }

  private requireOpen(): void {
    if (this.lead.status !== 'open')
      refuse('lead_closed', `lead ${this.lead.id} is ${this.lead.status}; reopen it first`);
  }
}

function pick(fields: Fields, keys: string[]): Fields {
  return Object.fromEntries(keys.filter((k) => k in fields).map((k) => [k, fields[k] ?? null]));
}

/** A timer handled this long after its time (scheduler downtime) says so in the run log. */
const LATE_AFTER_MS = 15 * 60_000;

function isoMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}Z`;
}

/** `; fired late, it fell due …` when the scheduler handles a timer well after its time, else nothing. */
function late(at: number, now: number): string {
  return now - at > LATE_AFTER_MS ? `; fired late, it fell due ${isoMinute(at)}` : '';
}
