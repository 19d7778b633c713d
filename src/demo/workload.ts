import { DateTime } from 'luxon';
import { closeDateInstant } from '../domain/close-date.js';
import { evaluate, type Fields, type FieldValue } from '../domain/conditions.js';
import type { LeadState } from '../domain/lead.js';
import type { Pipeline, Process, Stage } from '../domain/process-schema.js';
import { arrivals, leadId } from './arrivals.js';
import { ENTERPRISE_FROM, SMB_BELOW, STAFF_PROFILE, type DemoOrganisation, type DemoRange } from './organisation.js';
import { Random } from './random.js';
import { planStay, type FieldUpdate, type People, type PlannedEvent, type StayOutcome } from './stay-plan.js';
import { stageTimerGaps } from './timer-gap.js';
import { nextAtWork, workPattern, type WorkPattern } from './worktime.js';

/**
 * The demo's sales floor: a seeded, I/O-free generator of timed events. It starts with every
 * lead's arrival; then, each time the engine reports a lead's new state, it plans what happens
 * next from that state: a stay just entered gets its work and its ending (by the owner's profile
 * and the deal), a lost lead may be reopened, a won one comes back as a renewal. Reacting to the
 * engine's state rather than predicting it keeps the plans true to the process file (real due
 * times, real owners from the routing rules).
 */

const DAY = 86_400_000;

/** Chance that a rep reviewing a close date still well ahead pulls it in: about one change in five is a pull. */
const PULL_CHANCE = 0.05;
/** Only a date at least this many days after the stay began is worth pulling in. */
const PULL_MIN_DAYS = 10;
/** The stages, counted from the end, where a rep dates the deal by what they know rather than guess. */
const FIRM_STAGES = 2;
/** Chance that a rep firming up a deal pulls in a date that lies later than what they now know. */
const FIRM_PULL_CHANCE = 0.35;

/** A field update the owner makes during a stay; a pull remembers the date it pulled in. */
interface OwnerUpdate {
  share: number;
  fields: Fields;
  pulledFrom?: string;
}

/** A date alone, as reps write close dates. */
function dateOnly(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Chance of getting past each stage, by position, for pipelines of the example's lengths. */
const BASE_CONVERSION: Record<number, readonly number[]> = {
  6: [0.83, 0.55, 0.69, 0.64, 0.59, 0.85],
  3: [0.9, 0.85, 0.95],
};

const SOURCE_FACTOR: Record<string, number> = { referral: 1.25, partner: 1.1, web: 1, event: 0.9, outbound: 0.75 };
const TERRITORY_FACTOR: Record<string, number> = { EMEA: 1, Americas: 1.04, APAC: 0.93 };

const LOST_EARLY = [
  ['no response', 5],
  ['not a fit', 3],
  ['self-serve fit: under 5 seats', 2],
  ['no budget this year', 2],
  ['duplicate lead', 1],
] as const;
const LOST_MIDDLE = [
  ['chose a competitor', 4],
  ['no budget this year', 2],
  ['timing: revisit next year', 2],
  ['trial not activated', 2],
  ['lost the champion', 1],
] as const;
const LOST_LATE = [
  ['chose a competitor', 4],
  ['price', 3],
  ['no decision', 3],
  ['procurement blocked', 1],
  ['budget cut', 1],
] as const;
const CHURNED = [
  ['churned: budget cuts', 3],
  ['churned: moved to a competitor', 3],
  ['churned: low adoption', 2],
  ['churned: company acquired', 1],
] as const;

export interface WorkloadOptions {
  seed: number;
  leads: number;
  range: DemoRange;
  process: Process;
  org: DemoOrganisation;
}

/** What the generator remembers about a lead between reactions. */
interface LeadAgent {
  r: Random;
  pace: number;
  factor: number;
  plannedStay: string | null;
  handledClose: string | null;
  backMoves: number;
  reopens: number;
  movedPipeline: boolean;
  reopened: boolean;
  closeDateDecided: boolean;
}

export class DemoWorkload {
  private readonly agents = new Map<string, LeadAgent>();
  private readonly patterns = new Map<string, WorkPattern>();
  private readonly people: People;
  private readonly defaultPipeline: Pipeline;
  private readonly gaps: Map<string, number>;

  constructor(private readonly o: WorkloadOptions) {
    const byId = new Map(o.org.reps.map((p) => [p.id, p]));
    const zone = o.process.organisation.timezone;
    // Someone with no user record (no owner yet) keeps office hours in the organisation's zone.
    const staff: WorkPattern = { zone, days: [1, 2, 3, 4, 5], startMinute: 540, endMinute: 1020, away: new Set() };
    this.people = {
      profile: (id) => (id ? (byId.get(id) ?? STAFF_PROFILE) : STAFF_PROFILE),
      pattern: (id) => {
        if (!id) return staff;
        let p = this.patterns.get(id);
        if (!p) {
          const u = o.process.users.find((x) => x.id === id);
          p = u ? workPattern(u, zone) : staff;
          this.patterns.set(id, p);
        }
        return p;
      },
    };
    const pl = o.process.pipelines.find((p) => p.default) ?? o.process.pipelines[0];
    if (!pl) throw new Error('the process has no pipeline');
    this.defaultPipeline = pl;
    this.gaps = stageTimerGaps(o.process);
  }

  private gap(pipeline: string, stage: string): number {
    return this.gaps.get(`${pipeline}/${stage}`) ?? 0;
  }

  /** Where a new lead lands, as the engine decides it: the first pipeline whose entry criteria match. */
  private createdGap(fields: Fields): number {
    const pl = this.o.process.pipelines.find((p) => p.entry && evaluate(p.entry, { fields })) ?? this.defaultPipeline;
    return this.gap(pl.id, pl.stages[0]?.id ?? '');
  }

  /** Every lead's arrival, earliest first. */
  arrivals(): PlannedEvent[] {
    return arrivals(this.o.seed, this.o.leads, this.o.range, this.o.org).map((a) => ({
      ...a,
      stay: null,
      timerGap: this.createdGap(a.event.fields),
    }));
  }

  /** What follows from a lead's state after an event: the events planned for its new stay, reopening, a renewal. */
  react(lead: LeadState): PlannedEvent[] {
    const a = this.agent(lead);
    if (lead.status === 'open') {
      if (a.plannedStay === lead.stay.id) return [];
      a.plannedStay = lead.stay.id;
      return this.planStay(a, lead);
    }
    const key = `${lead.stay.id}:${lead.status}:${lead.closedAt ?? 0}`;
    if (a.handledClose === key) return [];
    a.handledClose = key;
    return lead.status === 'won' ? this.afterWon(a, lead) : this.afterLost(a, lead);
  }

  private agent(lead: LeadState): LeadAgent {
    let a = this.agents.get(lead.id);
    if (a) return a;
    const r = Random.of(this.o.seed, 'agent', lead.id);
    const value = Number(lead.fields['value'] ?? 0);
    const source = String(lead.fields['source'] ?? '');
    const territory = String(lead.fields['territory'] ?? '');
    const tier = value >= ENTERPRISE_FROM ? 1.25 : value < SMB_BELOW ? 0.92 : 1;
    a = {
      r,
      // Enterprise deals move slower; small ones faster.
      pace: (value >= ENTERPRISE_FROM ? 1.7 : value < SMB_BELOW ? 0.75 : 1) * r.between(0.8, 1.25),
      factor:
        (SOURCE_FACTOR[source] ?? 1) *
        (TERRITORY_FACTOR[territory] ?? 1) *
        (lead.fields['product'] === 'Analytics' ? 0.93 : 1) *
        (tier === 1.25 ? 0.85 : tier === 0.92 ? 0.92 : 1),
      plannedStay: null,
      handledClose: null,
      backMoves: 0,
      reopens: 0,
      movedPipeline: false,
      reopened: false,
      closeDateDecided: false,
    };
    this.agents.set(lead.id, a);
    return a;
  }

  private pipeline(id: string): Pipeline {
    const pl = this.o.process.pipelines.find((p) => p.id === id);
    if (!pl) throw new Error(`unknown pipeline ${id}`);
    return pl;
  }

  private planStay(a: LeadAgent, lead: LeadState): PlannedEvent[] {
    const pl = this.pipeline(lead.pipeline);
    const stage = pl.stages[lead.stay.stageIndex];
    if (!stage) return [];
    if (lead.stay.via === 'reopened') a.reopened = true;
    const stageKey = `${pl.id}/${stage.id}`;
    const outcome = this.outcome(a, lead, pl, stage, stageKey);
    if (outcome.kind === 'move' && outcome.stage === pl.stages[lead.stay.stageIndex - 1]?.id) a.backMoves++;
    if (outcome.kind === 'pipeline') a.movedPipeline = true;
    const firming = this.firmsUp(lead, pl);
    const updates = this.updates(a, lead, pl, firming);
    const planned = planStay({
      stage,
      stageKey,
      lead,
      outcome,
      pace: a.pace,
      r: a.r,
      people: this.people,
      hint: (field) => this.fieldHint(a, lead, pl, field),
      updates,
      nextStage: pl.stages[lead.stay.stageIndex + 1]?.id ?? null,
      gap: (pipeline, stage) => this.gap(pipeline, stage),
      ...(firming ? { firmClose: (end: number) => this.firmClose(a, lead, pl, end) } : {}),
    });
    return this.keepPullsAhead(planned, updates);
  }

  /**
   * Whether the deal has firmed up enough in this stay for the owner to date it by what they now
   * know: in the last two stages (the first stage, where no rep dates a lead yet, never).
   */
  private firmsUp(lead: LeadState, pl: Pipeline): boolean {
    return pl.stages.length - lead.stay.stageIndex <= FIRM_STAGES && lead.stay.stageIndex > 0;
  }

  /**
   * The close date the owner writes once the deal is firm: near when the stay's plan closes it (in
   * the last stage, the end of the stay; one stage earlier, that plus a typical last stage), a few
   * days off and more often too early than too late. A struggling rep writes it later in the stay
   * and further off, and sometimes not at all. Never a day already past when it is written.
   */
  private firmClose(a: LeadAgent, lead: LeadState, pl: Pipeline, end: number): FieldUpdate[] {
    const { r } = a;
    const struggling = this.people.profile(lead.owner).slip > 1;
    if (!r.chance(struggling ? 0.75 : 0.92)) return [];
    const last = lead.stay.stageIndex === pl.stages.length - 1;
    const close = end + (last ? 0 : r.between(2, 7) * a.pace * DAY);
    // Days too early / too late a rep may be: a struggling rep is further off, and more hopeful.
    const [early, late] = struggling ? [12, 3] : [6, 2];
    const E = lead.stay.enteredAt;
    const pattern = this.people.pattern(lead.owner);
    let at = nextAtWork(pattern, E + (end - E) * (struggling ? r.between(0.4, 0.9) : r.between(0.05, 0.4)));
    let date = this.dayNoEarlierThan(close + r.between(-early, late) * DAY, at);
    const current = lead.fields['expected_close'];
    const zone = this.o.process.organisation.timezone;
    const out: FieldUpdate[] = [];
    const was = typeof current === 'string' ? (closeDateInstant(current, zone)?.toISODate() ?? null) : null;
    // A later date already there is often left alone: reps pull a date in far less than they push one out.
    if (was !== null && date < was && !r.chance(FIRM_PULL_CHANCE)) date = was;
    else if (was !== date) out.push({ at, fields: { expected_close: date } });
    // The date comes and the deal is not signed yet: the rep moves it to when it now looks likely;
    // a struggling rep, still hopeful, may miss that one too.
    for (let k = 0; k < 3; k++) {
      const passed = DateTime.fromISO(date, { zone }).plus({ days: 1 }).toMillis();
      if (passed >= end || !r.chance(struggling ? 0.95 : 0.6)) break;
      at = nextAtWork(pattern, passed);
      date = this.dayNoEarlierThan(close + r.between(-early / 2, late) * DAY, at);
      out.push({ at, fields: { expected_close: date } });
    }
    return out;
  }

  /** The day `ms` falls on in the organisation's zone, or the day of `now` if that is later. */
  private dayNoEarlierThan(ms: number, now: number): string {
    const zone = this.o.process.organisation.timezone;
    const today = DateTime.fromMillis(now, { zone }).toISODate() ?? '';
    const day = DateTime.fromMillis(ms, { zone }).toISODate() ?? '';
    return day < today ? today : day;
  }

  /**
   * A pull's date is drawn before the stay's timing is known. Now that it is: a pulled date never
   * falls before the day the rep makes the change (in the organisation's zone), and a pull whose
   * old date has come by then is dropped, since there is nothing left to pull in.
   */
  private keepPullsAhead(planned: PlannedEvent[], updates: readonly OwnerUpdate[]): PlannedEvent[] {
    const pulls = updates.filter((u) => u.pulledFrom !== undefined);
    if (pulls.length === 0) return planned;
    const zone = this.o.process.organisation.timezone;
    return planned.flatMap((p) => {
      const e = p.event;
      const pull = e.type === 'lead.updated' ? pulls.find((u) => u.fields === e.fields) : undefined;
      if (e.type !== 'lead.updated' || pull?.pulledFrom === undefined) return [p];
      const today = DateTime.fromMillis(p.at, { zone }).toISODate() ?? '';
      if (today >= pull.pulledFrom) return [];
      if (String(e.fields['expected_close']) >= today) return [p];
      return [{ ...p, event: { ...e, fields: { ...e.fields, expected_close: today } } }];
    });
  }

  /** How this stay ends: the stage's base rate, the owner's skill and weak stage, the deal's odds. */
  private outcome(a: LeadAgent, lead: LeadState, pl: Pipeline, stage: Stage, stageKey: string): StayOutcome {
    const { r } = a;
    const idx = lead.stay.stageIndex;
    const n = pl.stages.length;
    const last = idx === n - 1;
    const profile = this.people.profile(lead.owner);
    const weak = profile.weakStage === stageKey;
    const skill = profile.skill;
    const base = BASE_CONVERSION[n]?.[idx] ?? (last ? 0.85 : 0.7);
    const renewal = pl.id !== this.defaultPipeline.id;
    const conversion = Math.min(
      0.97,
      Math.max(
        0.03,
        base *
          Math.sqrt(skill) *
          (renewal ? 1 : Math.pow(a.factor, 0.25)) *
          (weak ? 0.45 : 1) *
          (a.reopened ? 0.75 : 1),
      ),
    );
    // Some leads nobody moves on: left alone, or worked while the buyer went quiet. Most get closed out later.
    if (r.chance(0.04 + (weak ? 0.05 : 0))) {
      return { kind: 'abandon', lostAfterDays: r.chance(0.6) ? r.between(25, 80) : null, worked: r.chance(0.5) };
    }
    const other = this.o.process.pipelines.find((p) => p.id !== pl.id && p.entry);
    if (!renewal && other && idx <= 1 && !a.movedPipeline && r.chance(0.02)) {
      const first = other.stages[0];
      if (first)
        return {
          kind: 'pipeline',
          pipeline: other.id,
          stage: first.id,
          reason: 'existing customer: handled as a renewal',
        };
    }
    if (r.chance(conversion)) {
      if (last) return !stage.goal || r.chance(0.3) ? { kind: 'won', reason: 'signed' } : { kind: 'goal' };
      const forward = this.forwardTarget(pl, idx);
      if (forward && (!stage.goal || r.chance(0.05))) {
        return { kind: 'move', stage: forward, reason: r.pick(FORWARD_REASONS) };
      }
      if (!stage.goal) return { kind: 'move', stage: pl.stages[idx + 1]?.id ?? stage.id, reason: 'next step' };
      return { kind: 'goal' };
    }
    const back = pl.stages[idx - 1];
    if (idx >= 2 && back && a.backMoves === 0 && r.chance(0.12)) {
      return { kind: 'move', stage: back.id, reason: r.pick(BACK_REASONS) };
    }
    return { kind: 'lost', reason: this.lostReason(r, renewal, idx / Math.max(1, n - 1)) };
  }

  /** A stage a person may move the lead to by hand: one or two ahead, never past or out of a strict stage. */
  private forwardTarget(pl: Pipeline, idx: number): string | null {
    if (pl.stages[idx]?.strict) return null;
    const targets: string[] = [];
    for (let k = idx + 1; k <= Math.min(idx + 2, pl.stages.length - 1); k++) {
      targets.push(pl.stages[k]?.id ?? '');
      if (pl.stages[k]?.strict) break;
    }
    return targets.at(-1) ?? null;
  }

  private lostReason(r: Random, renewal: boolean, position: number): string {
    if (renewal) return r.weighted(CHURNED);
    return r.weighted(position < 0.34 ? LOST_EARLY : position < 0.67 ? LOST_MIDDLE : LOST_LATE);
  }

  /** Values a rep enters for the fields goals and strict stages ask for. */
  private fieldHint(a: LeadAgent, lead: LeadState, pl: Pipeline, field: string): FieldValue | undefined {
    const value = Number(lead.fields['value'] ?? 0);
    if (field === 'seats') return Math.max(5, Math.round(value / 600));
    if (field === 'expected_close') return this.closeDate(a, lead, pl);
    if (field === 'decision_maker') {
      const first = String(lead.fields['first_name'] ?? 'Alex');
      return a.r.chance(0.5) ? `${first} ${String(lead.fields['last_name'] ?? '')}`.trim() : 'CFO';
    }
    return undefined;
  }

  /** The rep's guess at the close date: a little optimistic, as reps are. */
  private closeDate(a: LeadAgent, lead: LeadState, pl: Pipeline): string {
    // A struggling rep (slip above 1) is the optimist: their guesses come early.
    const optimism = this.people.profile(lead.owner).slip > 1 ? 0.7 : 1;
    const days = this.typicalDaysLeft(a, lead, pl) * a.r.between(0.5, 1.25) * optimism;
    return new Date(lead.stay.enteredAt + days * DAY).toISOString().slice(0, 10);
  }

  /** What experience tells a rep about the time a deal at this stage still needs: about a week a stage, a bit more for a big deal. */
  private typicalDaysLeft(a: LeadAgent, lead: LeadState, pl: Pipeline): number {
    return (pl.stages.length - lead.stay.stageIndex) * 6.5 * Math.sqrt(a.pace);
  }

  /** Close date, its slips, and forecast categories, as the owner maintains them. */
  private updates(a: LeadAgent, lead: LeadState, pl: Pipeline, firming: boolean): OwnerUpdate[] {
    const { r } = a;
    const out: OwnerUpdate[] = [];
    const idx = lead.stay.stageIndex;
    const renewal = pl.id !== this.defaultPipeline.id;
    const close = lead.fields['expected_close'];
    // A firm deal is dated by what the plan knows (firmClose), not by a guess; a struggling rep
    // still reviews the old date by habit first, and firms it up only later in the stay.
    const struggling = this.people.profile(lead.owner).slip > 1;
    if (!firming && (close === undefined || close === null) && !a.closeDateDecided && (idx >= 1 || renewal)) {
      a.closeDateDecided = true;
      // Most reps put a close date on a lead once it is qualified; some never do until asked. A
      // renewal comes with its date to think about, so it is dated sooner.
      if (r.chance(renewal ? 0.92 : 0.82))
        out.push({
          share: renewal ? r.between(0.05, 0.3) : r.between(0.05, 0.5),
          fields: { expected_close: this.closeDate(a, lead, pl) },
        });
    } else if ((!firming || struggling) && typeof close === 'string') {
      const moved = this.movedCloseDate(a, lead, pl, close);
      if (moved) out.push(moved);
    }
    const category = lead.fields['forecast_category'];
    if (!renewal && (idx === 2 || idx === 3) && (category === undefined || category === null) && r.chance(0.45))
      out.push({ share: r.between(0.1, 0.8), fields: { forecast_category: 'pipeline' } });
    if (!renewal && category === 'best_case' && r.chance(0.15))
      out.push({ share: r.between(0.3, 0.9), fields: { forecast_category: 'commit' } });
    if (renewal && idx === 1 && r.chance(0.5))
      out.push({ share: r.between(0.1, 0.6), fields: { forecast_category: 'commit' } });
    return out;
  }

  /**
   * A close date already set, reviewed as the stay begins. The date comes and the deal is not
   * done: the rep pushes it out, sometimes early; a struggling rep (slip above 1) more often and
   * further. A date still well ahead is now and then pulled in: the buyer signs early, or the rep
   * tidies an optimistic date (never before the stage entry; keepPullsAhead keeps it from the past).
   */
  private movedCloseDate(a: LeadAgent, lead: LeadState, pl: Pipeline, close: string): OwnerUpdate | null {
    const { r } = a;
    const entered = lead.stay.enteredAt;
    const due = Date.parse(close);
    const slip = this.people.profile(lead.owner).slip;
    if ((due < entered + 5 * DAY && r.chance(Math.min(0.95, 0.7 * slip))) || r.chance(0.08 * slip)) {
      // Out by about what the deal still needs: the rep re-guesses rather than adding a month.
      const pushed = Math.max(due, entered) + this.typicalDaysLeft(a, lead, pl) * r.between(0.5, 1.5) * slip * DAY;
      return { share: r.between(0.1, 0.6), fields: { expected_close: dateOnly(pushed) } };
    }
    // A rep who slips is the optimist: the one least likely to bring a date in.
    if (due >= entered + PULL_MIN_DAYS * DAY && r.chance(PULL_CHANCE / slip)) {
      const pulled = entered + (due - entered) * r.between(0.3, 0.8);
      // The field holds the instant in the organisation's zone; the day it names is what a pull moves.
      const from = closeDateInstant(close, this.o.process.organisation.timezone)?.toISODate();
      if (!from) return null;
      return { share: r.between(0.05, 0.3), fields: { expected_close: dateOnly(pulled) }, pulledFrom: from };
    }
    return null;
  }

  /** A lost lead is now and then revived: the buyer came back. */
  private afterLost(a: LeadAgent, lead: LeadState): PlannedEvent[] {
    if (a.reopens > 0 || !a.r.chance(0.035) || lead.closedAt === null) return [];
    a.reopens++;
    const owner = this.people.pattern(lead.owner);
    const at = nextAtWork(owner, lead.closedAt + a.r.between(7, 60) * DAY);
    return [
      {
        at,
        event: {
          type: 'lead.reopened',
          lead: lead.id,
          actor: { kind: 'user', ...(lead.owner ? { id: lead.owner } : {}) },
        },
        stay: lead.stay.id,
        timerGap: this.gap(lead.pipeline, lead.stay.stage),
      },
    ];
  }

  /** A new customer's subscription comes up for renewal: billing opens it 90 days before the year ends. */
  private afterWon(a: LeadAgent, lead: LeadState): PlannedEvent[] {
    if (lead.pipeline !== this.defaultPipeline.id || lead.closedAt === null || !a.r.chance(0.8)) return [];
    const n = Number(lead.id.replace(/^\D+-/, ''));
    if (!Number.isFinite(n)) return [];
    const day = lead.closedAt + (275 + a.r.int(-3, 3)) * DAY;
    const at = day - (day % DAY) + 6 * 3_600_000;
    const f = lead.fields;
    const value = Number(f['value'] ?? 0);
    const upsell = f['product'] === 'Core' && a.r.chance(0.15);
    const renewed = Math.max(1000, Math.round((value * a.r.between(0.95, 1.3)) / 500) * 500);
    const fields: Fields = {
      type: 'renewal',
      name: f['name'] ?? null,
      company: f['company'] ?? null,
      first_name: f['first_name'] ?? null,
      last_name: f['last_name'] ?? null,
      email: f['email'] ?? null,
      territory: f['territory'] ?? null,
      product: upsell ? 'Analytics' : (f['product'] ?? null),
      value: renewed,
      seats: f['seats'] ?? Math.max(5, Math.round(renewed / 600)),
      source: 'renewal',
    };
    return [
      {
        at,
        event: {
          type: 'lead.created',
          lead: leadId('R', n),
          fields,
          ...(lead.owner ? { owner: lead.owner } : {}),
          actor: { kind: 'api', id: 'billing' },
        },
        stay: null,
        timerGap: this.createdGap(fields),
      },
    ];
  }
}

const FORWARD_REASONS = [
  'enterprise buyer: no trial, security review first',
  'buyer ready to go ahead',
  'scope agreed on the call',
] as const;
const BACK_REASONS = ['buyer asked for another demo', 'new stakeholder joined', 'scope changed'] as const;
