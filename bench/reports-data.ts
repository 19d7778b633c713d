/**
 * The report benchmark's data: a seeded organisation (200 reps in 20 teams, two pipelines) and
 * its leads over three years with their stage stays, tasks, activities, owner and expected_close
 * history, then quotas and forecast snapshots. Rows are made in chunks of leads and handed to the
 * caller as arrays in the column order of `COLUMNS`, so no more than one chunk is ever in memory.
 * Written straight into the tables (not through the engine), the way the engine would have left
 * them: see bench/README.md for what is generated.
 */
import { DateTime } from 'luxon';
import { reachAfter, type StayPlace } from '../src/store/lead-reach.js';

export const ZONE = 'Europe/Berlin';
const DAY = 86_400_000;
const HOUR = 3_600_000;
/** The benchmark's "now": Wednesday 1 April 2026, 10:00 in Berlin. Data covers the 3 years before. */
export const NOW = Date.UTC(2026, 3, 1, 8, 0, 0);
export const START = NOW - 3 * 365 * DAY;
export const REPS = 200;
export const TEAMS = 20;
const PER_TEAM = REPS / TEAMS;

export type Cell = string | number | null;
export type Row = Cell[];

/** Columns each generated table is written with (a table's other columns keep their defaults). */
export const COLUMNS = {
  leads: [
    'id',
    'process_version',
    'pipeline',
    'stage',
    'stage_index',
    'stay_id',
    'stage_entered_at',
    'status',
    'owner',
    'name',
    'email',
    'value_minor',
    'source',
    'product',
    'territory',
    'expected_close',
    'created_at',
    'closed_at',
    'close_reason',
    'fields',
    'state',
    'seq',
    'version',
    'error',
    'updated_at',
    'furthest_index',
    'other_pipelines',
  ],
  stage_stays: [
    'id',
    'lead_id',
    'seq',
    'pipeline',
    'stage',
    'stage_index',
    'process_version',
    'entered_at',
    'exited_at',
    'exit_kind',
    'entered_via',
    'stall_at',
    'stalled_at',
    'imported',
  ],
  tasks: [
    'id',
    'lead_id',
    'stay_id',
    'template',
    'title',
    'kind',
    'status',
    'assignee_rule',
    'assignee',
    'due_at',
    'overdue_at',
    'created_at',
    'completed_at',
    'skipped_at',
    'skip_reason',
    'due_fired',
    'overdue_fired',
  ],
  activities: ['lead_id', 'seq', 'idx', 'stay_id', 'kind', 'note', 'at', 'actor'],
  owner_history: ['lead_id', 'seq', 'idx', 'from_owner', 'to_owner', 'reason', 'rule', 'at'],
  field_history: ['lead_id', 'seq', 'idx', 'field', 'old_value', 'new_value', 'at'],
  quotas: ['scope', 'subject', 'period', 'amount_minor', 'set_by', 'set_at'],
  forecast_snapshots: [
    'snapshot_id',
    'period',
    'period_from',
    'period_to',
    'pipeline',
    'taken_at',
    'kind',
    'owner',
    'won_minor',
    'weighted_minor',
    'forecast_minor',
    'open_leads',
    'without_close_date',
    'by_category',
  ],
} as const;

export type Table = keyof typeof COLUMNS;
export const TABLES = Object.keys(COLUMNS) as Table[];
export type Chunk = Record<Table, Row[]>;

function emptyChunk(): Chunk {
  return {
    leads: [],
    stage_stays: [],
    tasks: [],
    activities: [],
    owner_history: [],
    field_history: [],
    quotas: [],
    forecast_snapshots: [],
  };
}

/** mulberry32: small, fast and seedable; the whole data set follows from the seed. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  /** Exponential with this mean. */
  expo(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
  /** Poisson by counting exponential gaps (small means only). */
  poisson(mean: number): number {
    let n = 0;
    for (let t = this.expo(1); t < mean; t += this.expo(1)) n++;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// The process.

interface TaskSpec {
  id: string;
  title: string;
  kind: 'call' | 'email' | 'meeting' | 'demo' | 'todo';
  dueDays: number;
}

interface StageSpec {
  id: string;
  name: string;
  /** Mean days of a stay. */
  meanDays: number;
  /** Chance to get past the stage (to win, at the last one) for a rep of skill 1. */
  advance: number;
  probability?: number;
  stallDays?: number;
  ask?: boolean;
  tasks: TaskSpec[];
}

const t = (id: string, title: string, kind: TaskSpec['kind'], dueDays: number): TaskSpec => ({
  id,
  title,
  kind,
  dueDays,
});

/**
 * new-business: eight stages; `contacted` has neither a probability (historical) nor a stall
 * threshold (the median rule), so those code paths are measured too. renewals: three stages.
 */
const PIPELINES: readonly { id: string; name: string; share: number; stages: StageSpec[] }[] = [
  {
    id: 'new-business',
    name: 'New business',
    share: 0.9,
    stages: [
      {
        id: 'new',
        name: 'New lead',
        meanDays: 2,
        advance: 0.93,
        probability: 0.05,
        stallDays: 3,
        tasks: [t('first-touch', 'First call', 'call', 1)],
      },
      { id: 'contacted', name: 'Contacted', meanDays: 4, advance: 0.9, tasks: [] },
      {
        id: 'qualify',
        name: 'Qualification',
        meanDays: 6,
        advance: 0.85,
        probability: 0.15,
        stallDays: 10,
        tasks: [t('discovery-call', 'Discovery call', 'call', 2)],
      },
      {
        id: 'discovery',
        name: 'Discovery',
        meanDays: 8,
        advance: 0.88,
        probability: 0.25,
        stallDays: 14,
        tasks: [t('needs-analysis', 'Write the needs analysis', 'todo', 4)],
      },
      {
        id: 'demo',
        name: 'Demo',
        meanDays: 7,
        advance: 0.85,
        probability: 0.35,
        stallDays: 12,
        tasks: [t('run-demo', 'Run the demo', 'demo', 5)],
      },
      {
        id: 'proposal',
        name: 'Proposal',
        meanDays: 10,
        advance: 0.8,
        probability: 0.5,
        stallDays: 15,
        ask: true,
        tasks: [t('send-proposal', 'Send the proposal', 'email', 2)],
      },
      {
        id: 'negotiation',
        name: 'Negotiation',
        meanDays: 12,
        advance: 0.8,
        probability: 0.7,
        stallDays: 20,
        tasks: [],
      },
      {
        id: 'contract',
        name: 'Contract',
        meanDays: 6,
        advance: 0.88,
        probability: 0.9,
        stallDays: 10,
        tasks: [t('order-form', 'Prepare the order form', 'todo', 3)],
      },
    ],
  },
  {
    id: 'renewals',
    name: 'Renewals',
    share: 0.1,
    stages: [
      {
        id: 'renewal-review',
        name: 'Account review',
        meanDays: 8,
        advance: 0.9,
        probability: 0.7,
        stallDays: 10,
        tasks: [t('usage-review', 'Review seat usage', 'todo', 3)],
      },
      {
        id: 'renewal-quote',
        name: 'Renewal quote',
        meanDays: 10,
        advance: 0.9,
        probability: 0.85,
        stallDays: 14,
        ask: true,
        tasks: [t('send-quote', 'Send the renewal quote', 'email', 2)],
      },
      {
        id: 'renewal-signature',
        name: 'Signature',
        meanDays: 6,
        advance: 0.92,
        probability: 0.95,
        stallDays: 10,
        tasks: [t('renewal-order-form', 'Prepare the renewal order form', 'todo', 2)],
      },
    ],
  },
];

const TERRITORIES = ['EMEA', 'Americas', 'APAC'] as const;
const PRODUCTS = ['Core', 'Analytics', 'Platform'] as const;
const SOURCES = ['web', 'referral', 'outbound', 'event', 'partner'] as const;
const LOST_REASONS = ['no budget', 'competitor', 'no decision', 'timing', 'self-serve fit'] as const;
const ACTIVITY_KINDS = ['call', 'email', 'meeting'] as const;

interface Rep {
  id: string;
  team: number;
  territory: string;
  skill: number;
  onTime: number;
  activity: number;
  /** Chance per lead that the rep changes its expected_close at all. */
  slips: number;
}

function makeReps(seed: number): Rep[] {
  const r = new Rng(seed ^ 0x5eed);
  return Array.from({ length: REPS }, (_, i) => {
    const team = Math.floor(i / PER_TEAM);
    return {
      id: `rep-${String(i + 1).padStart(3, '0')}`,
      team,
      territory: TERRITORIES[team % 3] as string,
      skill: 0.9 + r.next() * 0.2,
      onTime: 0.45 + r.next() * 0.5,
      activity: 0.1 + r.next() * 0.2,
      slips: 0.1 + r.next() * 0.5,
    };
  });
}

/** The process as the YAML/JSON file a user would apply (validated by loadProcessText). */
export function processDefinition(seed: number): object {
  const reps = makeReps(seed);
  return {
    name: 'Report benchmark organisation',
    organisation: { timezone: ZONE, currency: 'EUR', default_stall_days: 14 },
    users: reps.map((r) => ({ id: r.id, name: `Rep ${r.id.slice(4)}`, territories: [r.territory] })),
    teams: Array.from({ length: TEAMS }, (_, k) => ({
      id: `team-${String(k + 1).padStart(2, '0')}`,
      name: `Team ${k + 1}`,
      manager: reps[k * PER_TEAM]?.id,
      members: reps.filter((r) => r.team === k).map((r) => r.id),
    })),
    // Routing is not exercised (rows are written directly); the file needs an assignment section.
    assignment: {
      default_owner: reps[0]?.id,
      rules: TERRITORIES.map((territory, k) => ({
        id: `route-${territory.toLowerCase()}`,
        when: { field: 'territory', eq: territory },
        to: { team: `team-${String(k + 1).padStart(2, '0')}`, strategy: 'round_robin' },
      })),
    },
    pipelines: PIPELINES.map((p, pi) => ({
      id: p.id,
      name: p.name,
      default: pi === 0,
      ...(pi === 1 ? { entry: { field: 'type', eq: 'renewal' } } : {}),
      stages: p.stages.map((s) => ({
        id: s.id,
        name: s.name,
        guidance: `How to win ${s.name}.`,
        ...(s.probability !== undefined ? { probability: s.probability } : {}),
        ...(s.stallDays !== undefined ? { stall_after_days: s.stallDays } : {}),
        ...(s.ask ? { ask: true } : {}),
        tasks: s.tasks.map((k) => ({ id: k.id, title: k.title, kind: k.kind, due: { days: k.dueDays } })),
        ...(s.tasks.length > 0 ? { goal: { task_done: (s.tasks[0] as TaskSpec).id } } : {}),
      })),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Months (in the organisation's zone) for the won-per-month tally behind the snapshots.

interface Month {
  label: string;
  quarter: string;
  from: number;
  to: number;
}

function monthsOf(from: number, to: number): Month[] {
  const out: Month[] = [];
  for (let m = DateTime.fromMillis(from, { zone: ZONE }).startOf('month'); m.toMillis() < to; m = m.plus({ months: 1 }))
    out.push({
      label: m.toFormat('yyyy-MM'),
      quarter: `${m.year}-Q${m.quarter}`,
      from: m.toMillis(),
      to: m.plus({ months: 1 }).toMillis(),
    });
  return out;
}

function monthIndex(months: readonly Month[], at: number): number {
  let lo = 0;
  let hi = months.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((months[mid] as Month).from <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// Leads.

export interface Counts {
  leads: number;
  rows: Record<Table, number>;
}

/**
 * Yields the data set in chunks of `chunkLeads` leads (each chunk holds those leads' rows in every
 * table), then one last chunk with the quotas and forecast snapshots.
 */
export function* generate(leads: number, seed: number, chunkLeads: number): Generator<Chunk> {
  const r = new Rng(seed);
  const reps = makeReps(seed);
  const months = monthsOf(START, NOW);
  // Won value per month and rep (final owner, as the reports read it), for the snapshots.
  const wonBy = months.map(() => new Float64Array(REPS));
  const span = NOW - START - DAY;
  let chunk = emptyChunk();
  for (let i = 0; i < leads; i++) {
    if (i > 0 && i % chunkLeads === 0) {
      yield chunk;
      chunk = emptyChunk();
    }
    const id = `L${String(i + 1).padStart(8, '0')}`;
    const created = Math.floor(START + ((i + r.next()) / leads) * span);
    let repIx = r.int(REPS);
    let rep = reps[repIx] as Rep;
    let pl = r.next() < (PIPELINES[1]?.share ?? 0) ? 1 : 0;
    const territory = r.next() < 0.8 ? rep.territory : r.pick(TERRITORIES);
    const product = r.pick(PRODUCTS);
    const source = r.pick(SOURCES);
    const value = Math.round(Math.exp(9.2 + r.next() * 1.6 + (pl === 1 ? 0.5 : 0))) * 100;
    let ev = 1; // the lead's event counter: seq of its history rows
    chunk.owner_history.push([id, ev, 0, null, rep.id, 'rules', `team-${rep.team + 1}`, created]);
    // A reassignment (one lead in 20), to another rep of the same team, some time into the lead's life.
    const reassignAt = r.next() < 0.05 ? created + Math.floor(r.expo(20) * DAY) : Infinity;

    // expected_close: most leads have one; a rep who slips pushes it (or pulls it) now and then.
    let expectedClose: number | null = r.next() < 0.88 ? created + Math.floor((30 + r.next() * 120) * DAY) : null;
    const slipTimes: number[] = [];
    if (expectedClose !== null && r.next() < rep.slips) {
      const n = 1 + r.int(3);
      for (let k = 0; k < n; k++) slipTimes.push(created + Math.floor(r.expo(25) * DAY));
      slipTimes.sort((a, b) => a - b);
    }

    // Walk the stages.
    let idx = 0;
    let at = created;
    let seq = 0;
    let via = 'created';
    let status = 'open';
    let closedAt: number | null = null;
    let closeReason: string | null = null;
    let stayId: string;
    let stayEntered: number;
    let stage: string;
    const places: StayPlace[] = [];
    for (;;) {
      seq++;
      const spec = PIPELINES[pl] as (typeof PIPELINES)[number];
      const st = spec.stages[idx] as StageSpec;
      stayId = `${id}#${seq}`;
      stayEntered = at;
      stage = st.id;
      places.push({ pipeline: spec.id, stage_index: idx });
      const dur = Math.max(HOUR, Math.floor(r.expo(st.meanDays) * (1.15 - rep.skill * 0.15) * DAY));
      const exitAt = at + dur;
      const open = exitAt >= NOW;
      let exit: string | null = null;
      let nextPl = pl;
      let nextIdx = idx;
      if (!open) {
        const u = r.next();
        const last = idx === spec.stages.length - 1;
        const adv = Math.min(0.985, st.advance * rep.skill);
        if (u < adv) {
          if (last) exit = 'won';
          else if (u < adv * 0.04 && idx + 2 < spec.stages.length) [exit, nextIdx] = ['moved', idx + 2];
          else [exit, nextIdx] = [u < adv * 0.1 ? 'moved' : 'goal', idx + 1];
        } else if (idx > 0 && u < adv + (1 - adv) * 0.25) [exit, nextIdx] = ['moved', idx - 1];
        else if (pl === 0 && idx >= 2 && u < adv + (1 - adv) * 0.3) [exit, nextPl, nextIdx] = ['pipeline', 1, 0];
        else exit = 'lost';
      }
      const stallAt = at + Math.round((st.stallDays ?? 14) * DAY);
      const endOrNow = open ? NOW : exitAt;
      chunk.stage_stays.push([
        stayId,
        id,
        seq,
        spec.id,
        st.id,
        idx,
        1,
        at,
        open ? null : exitAt,
        exit,
        via,
        stallAt,
        stallAt < endOrNow ? stallAt : null,
        0,
      ]);
      for (const tk of st.tasks) {
        const due = at + tk.dueDays * DAY;
        const done = r.next() < rep.onTime ? at + Math.floor(r.next() * (due - at)) : due + Math.floor(r.expo(2) * DAY);
        let tStatus = 'open';
        let completed: number | null = null;
        let skipped: number | null = null;
        let skipReason: string | null = null;
        if (done < endOrNow) [tStatus, completed] = ['done', done];
        else if (!open) [tStatus, skipped, skipReason] = ['skipped', exitAt, exit === 'goal' ? 'goal' : 'left'];
        chunk.tasks.push([
          `${stayId}:${tk.id}`,
          id,
          stayId,
          tk.id,
          tk.title,
          tk.kind,
          tStatus,
          'owner',
          rep.id,
          due,
          due + 24 * HOUR,
          at,
          completed,
          skipped,
          skipReason,
          due < endOrNow ? 1 : 0,
          due + 24 * HOUR < endOrNow && (completed === null || completed > due + 24 * HOUR) ? 1 : 0,
        ]);
      }
      const acts = r.poisson(rep.activity * Math.min(3, (endOrNow - at) / (5 * DAY)));
      for (let k = 0; k < acts; k++) {
        const aAt = at + Math.floor(r.next() * (endOrNow - at));
        chunk.activities.push([
          id,
          ++ev,
          0,
          stayId,
          r.pick(ACTIVITY_KINDS),
          null,
          aAt,
          r.next() < 0.9 ? rep.id : 'integration:mail',
        ]);
      }
      if (reassignAt < endOrNow && reassignAt >= at) {
        const other = rep.team * PER_TEAM + r.int(PER_TEAM);
        if (other !== repIx) {
          const to = reps[other] as Rep;
          chunk.owner_history.push([id, ++ev, 0, rep.id, to.id, 'manual', null, reassignAt]);
          repIx = other;
          rep = to;
        }
      }
      if (open) break;
      at = exitAt;
      if (exit === 'won' || exit === 'lost') {
        status = exit;
        closedAt = exitAt;
        closeReason = exit === 'lost' ? r.pick(LOST_REASONS) : null;
        break;
      }
      via = exit === 'pipeline' ? 'pipeline' : (exit as string);
      pl = nextPl;
      idx = nextIdx;
      if (seq >= 30) {
        // A lead going back and forth this long is closed as lost.
        status = 'lost';
        closedAt = exitAt;
        closeReason = 'no decision';
        break;
      }
    }
    const end = closedAt ?? NOW;
    for (const s of slipTimes) {
      if (s >= end || expectedClose === null) continue;
      const push = r.next() < 0.75 ? Math.floor((7 + r.next() * 50) * DAY) : -Math.floor((3 + r.next() * 20) * DAY);
      const next = expectedClose + push;
      chunk.field_history.push([
        id,
        ++ev,
        0,
        'expected_close',
        JSON.stringify(isoDay(expectedClose)),
        JSON.stringify(isoDay(next)),
        s,
      ]);
      expectedClose = Date.parse(isoDay(next));
    }
    if (status === 'won' && closedAt !== null) {
      const m = monthIndex(months, closedAt);
      const w = wonBy[m];
      if (w) w[repIx] = (w[repIx] ?? 0) + value;
    }
    const cat = r.next();
    const category = cat < 0.15 ? 'commit' : cat < 0.35 ? 'best_case' : cat < 0.8 ? 'pipeline' : null;
    const fields = JSON.stringify({
      territory,
      product,
      source,
      ...(category ? { forecast_category: category } : {}),
      ...(pl === 1 ? { type: 'renewal' } : {}),
    });
    const pipelineId = (PIPELINES[pl] as (typeof PIPELINES)[number]).id;
    const reach = reachAfter(pipelineId, null, places);
    chunk.leads.push([
      id,
      1,
      pipelineId,
      stage,
      idx,
      stayId,
      stayEntered,
      status,
      rep.id,
      `Lead ${i + 1}`,
      `lead${i + 1}@example.com`,
      value,
      source,
      product,
      territory,
      expectedClose,
      created,
      closedAt,
      closeReason,
      fields,
      '{}',
      ev,
      1,
      null,
      closedAt ?? Math.max(stayEntered, created),
      reach.furthest_index,
      reach.other_pipelines,
    ]);
  }
  yield chunk;

  // Quotas per rep and team, per month and quarter; a 'period_start' forecast snapshot per month.
  const last = emptyChunk();
  const quarters = new Map<string, number[]>();
  months.forEach((m, mi) => {
    const reps0 = new Array<number>(REPS).fill(0);
    for (let k = 0; k < REPS; k++) {
      const q = Math.round(((leads / REPS / 36) * 12_000 * (0.8 + r.next() * 0.4)) / 100) * 10_000;
      reps0[k] = q;
      last.quotas.push(['user', (reps[k] as Rep).id, m.label, q, 'bench', m.from]);
    }
    const qs = quarters.get(m.quarter) ?? new Array<number>(REPS).fill(0);
    reps0.forEach((q, k) => (qs[k] = (qs[k] ?? 0) + q));
    quarters.set(m.quarter, qs);
    for (let tm = 0; tm < TEAMS; tm++)
      last.quotas.push([
        'team',
        `team-${String(tm + 1).padStart(2, '0')}`,
        m.label,
        reps0.slice(tm * PER_TEAM, (tm + 1) * PER_TEAM).reduce((a, b) => a + b, 0),
        'bench',
        m.from,
      ]);
    // The forecast at the start of the month: the actual, give or take what reps could not know.
    const won = wonBy[mi] as Float64Array;
    const taken = m.from + HOUR;
    const rows: Row[] = [];
    let total = 0;
    for (let k = 0; k < REPS; k++) {
      const f = Math.round((won[k] ?? 0) * (0.6 + r.next() * 0.8));
      total += f;
      rows.push(snapshotRow(m, taken, (reps[k] as Rep).id, f, r.int(40)));
    }
    last.forecast_snapshots.push(snapshotRow(m, taken, '', total, 0), ...rows);
  });
  for (const [key, qs] of quarters)
    qs.forEach((q, k) => last.quotas.push(['user', (reps[k] as Rep).id, key, q, 'bench', START]));
  yield last;
}

function snapshotRow(m: Month, taken: number, owner: string, forecast: number, open: number): Row {
  const commit = Math.round(forecast * 0.3);
  const best = Math.round(forecast * 0.2);
  return [
    `snap-${m.label}`,
    m.label,
    m.from,
    m.to,
    '',
    taken,
    'period_start',
    owner,
    0,
    forecast,
    forecast,
    open,
    0,
    JSON.stringify({ commit, best_case: best, pipeline: forecast - commit - best }),
  ];
}
