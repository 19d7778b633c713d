import type { AssignmentRule, Pipeline, Process, Team, User } from '../domain/process-schema.js';
import { FIRST_NAMES, LAST_NAMES, slug } from './names.js';
import { Random } from './random.js';

/**
 * The demo company: about thirty reps in five teams, each team with a manager, a VP who owns
 * what no rule routes, a deal desk; assignment rules by value tier, product and territory; and
 * each rep's selling profile, which the workload uses to decide how their leads go. Pure: the
 * seed and the range decide everything.
 */

export interface DemoRange {
  from: number;
  to: number;
}

export type RepTier = 'junior' | 'senior' | 'closer';

/** How a rep sells. The workload reads it; the process never sees it. */
export interface RepProfile {
  id: string;
  team: string;
  tier: RepTier;
  /** Multiplies the chance of getting a lead past each stage. */
  skill: number;
  /** Share of their tasks done by the due time. */
  onTime: number;
  /** Share of the tasks no goal needs that they do at all. */
  diligence: number;
  /** Mean activities (calls, emails, meetings) logged per stage stay. */
  activity: number;
  /** `pipeline/stage` where this rep falls behind, or null. */
  weakStage: string | null;
  /** How much more often and further than most (1) this rep pushes a close date out. */
  slip: number;
  top: boolean;
}

/** People who are not reps (managers, the deal desk, the VP) work to this profile. */
export const STAFF_PROFILE: Omit<RepProfile, 'id' | 'team' | 'tier'> = {
  skill: 1,
  onTime: 0.86,
  diligence: 0.8,
  activity: 0.6,
  weakStage: null,
  slip: 1,
  top: false,
};

export interface DemoOrganisation {
  users: User[];
  teams: Team[];
  assignment: Process['assignment'];
  reps: RepProfile[];
  vp: string;
  dealDesk: string;
}

export const TERRITORIES = ['EMEA', 'Americas', 'APAC'] as const;
export const PRODUCTS = ['Core', 'Analytics'] as const;
/** Value tiers (EUR a year): under SMB_BELOW goes to inside sales, from ENTERPRISE_FROM to the closers. */
export const SMB_BELOW = 10_000;
export const ENTERPRISE_FROM = 40_000;

type Strategy = 'round_robin' | 'weighted' | 'least_open';

interface RepSpec {
  tier: RepTier;
  zone: string;
  territories: string[];
}

interface TeamSpec {
  id: string;
  name: string;
  strategy: Strategy;
  managerZone: string;
  reps: RepSpec[];
}

const rep = (tier: RepTier, zone: string, ...territories: string[]): RepSpec => ({ tier, zone, territories });

/** 7 + 6 + 5 + 7 + 5 = 30 reps. Regional teams sell mid-market deals, inside sales the small ones. */
const TEAMS: readonly TeamSpec[] = [
  {
    id: 'emea',
    name: 'EMEA',
    strategy: 'weighted',
    managerZone: 'Europe/Berlin',
    reps: [
      rep('senior', 'Europe/Berlin', 'EMEA'),
      rep('senior', 'Europe/London', 'EMEA'),
      rep('senior', 'Europe/Paris', 'EMEA'),
      rep('junior', 'Europe/Stockholm', 'EMEA'),
      rep('junior', 'Europe/Madrid', 'EMEA'),
      rep('junior', 'Europe/Amsterdam', 'EMEA'),
      rep('junior', 'Europe/Dublin', 'EMEA'),
    ],
  },
  {
    id: 'americas',
    name: 'Americas',
    strategy: 'round_robin',
    managerZone: 'America/New_York',
    reps: [
      rep('senior', 'America/New_York', 'Americas'),
      rep('senior', 'America/Chicago', 'Americas'),
      rep('senior', 'America/Toronto', 'Americas'),
      rep('junior', 'America/Los_Angeles', 'Americas'),
      rep('junior', 'America/Denver', 'Americas'),
      rep('junior', 'America/Sao_Paulo', 'Americas'),
    ],
  },
  {
    id: 'apac',
    name: 'APAC',
    strategy: 'least_open',
    managerZone: 'Asia/Singapore',
    reps: [
      rep('senior', 'Asia/Singapore', 'APAC'),
      rep('senior', 'Australia/Sydney', 'APAC'),
      rep('junior', 'Asia/Tokyo', 'APAC'),
      rep('junior', 'Asia/Kolkata', 'APAC'),
      rep('junior', 'Pacific/Auckland', 'APAC'),
    ],
  },
  {
    id: 'inside-sales',
    name: 'Inside Sales',
    strategy: 'round_robin',
    managerZone: 'Europe/Dublin',
    reps: [
      rep('junior', 'Europe/Dublin', 'EMEA'),
      rep('junior', 'Europe/Lisbon', 'EMEA'),
      rep('junior', 'Europe/Warsaw', 'EMEA'),
      rep('junior', 'America/New_York', 'Americas'),
      rep('junior', 'America/Mexico_City', 'Americas'),
      rep('junior', 'Asia/Manila', 'APAC'),
      rep('junior', 'Asia/Singapore', 'APAC'),
    ],
  },
  {
    id: 'closers',
    name: 'Closers',
    strategy: 'least_open',
    managerZone: 'Europe/Berlin',
    reps: [
      rep('closer', 'Europe/Berlin', 'EMEA'),
      rep('closer', 'Europe/London', 'EMEA'),
      rep('closer', 'America/New_York', 'Americas'),
      rep('closer', 'America/Chicago', 'Americas'),
      rep('closer', 'Asia/Singapore', 'APAC'),
    ],
  },
];

const REGIONAL: Record<string, string> = { EMEA: 'emea', Americas: 'americas', APAC: 'apac' };

/** Hands out distinct names (and ids derived from them) in a seeded order. */
class NameBook {
  private readonly firsts: string[];
  private readonly lasts: string[];
  private n = 0;
  private readonly ids = new Set<string>();

  constructor(r: Random) {
    this.firsts = r.shuffle(FIRST_NAMES);
    this.lasts = r.shuffle(LAST_NAMES);
  }

  next(): { id: string; name: string; email: string } {
    const first = this.firsts[this.n % this.firsts.length] ?? 'Alex';
    const last = this.lasts[(this.n * 7) % this.lasts.length] ?? 'Smith';
    this.n++;
    let id = slug(`${first}-${last}`);
    for (let k = 2; this.ids.has(id); k++) id = slug(`${first}-${last}-${k}`);
    this.ids.add(id);
    return { id, name: `${first} ${last}`, email: `${id.replace(/-/g, '.')}@northwind.example.com` };
  }
}

function user(
  who: { id: string; name: string; email: string },
  zone: string,
  extra: Partial<User> & Pick<User, 'tier'>,
): User {
  return {
    ...who,
    timezone: zone,
    territories: [],
    products: [],
    weight: 1,
    active: true,
    out_of_office: [],
    capacity: {},
    ...extra,
  };
}

const DAY = 86_400_000;

/** A couple of holidays a year, in blocks of 5 to 12 days somewhere in the range. */
function holidays(r: Random, range: DemoRange): User['out_of_office'] {
  const months = (range.to - range.from) / (30 * DAY);
  const blocks = Math.max(1, Math.round(months / 7));
  const out: User['out_of_office'] = [];
  for (let i = 0; i < blocks; i++) {
    const start = range.from + Math.floor(r.next() * (range.to - range.from - 14 * DAY));
    const length = r.int(4, 11);
    out.push({
      from: new Date(start).toISOString().slice(0, 10),
      to: new Date(start + length * DAY).toISOString().slice(0, 10),
    });
  }
  return out.sort((a, b) => a.from.localeCompare(b.from));
}

function workingHours(r: Random): NonNullable<User['working_hours']> {
  return r.pick([
    { days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00' },
    { days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30' },
    { days: [1, 2, 3, 4, 5], start: '09:00', end: '18:00' },
  ]);
}

/**
 * The stages where the two struggling reps fall behind: the middle and the next-to-last stage
 * of the default pipeline (demo and proposal in the example), where a weak rep costs the most.
 */
export function weakStages(pipelines: readonly Pipeline[]): string[] {
  const pl = pipelines.find((p) => p.default) ?? pipelines[0];
  if (!pl) return [];
  const n = pl.stages.length;
  const picks = n >= 4 ? [Math.floor(n / 2) - 1, n - 2] : [Math.max(0, n - 1)];
  return [...new Set(picks)].map((i) => `${pl.id}/${pl.stages[i]?.id ?? ''}`);
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function profile(r: Random, id: string, team: string, tier: RepTier): RepProfile {
  const base = { junior: [0.95, 0.76], senior: [1.03, 0.84], closer: [1.05, 0.84] }[tier];
  return {
    id,
    team,
    tier,
    skill: clamp(r.normal(base[0] ?? 1, 0.05), 0.85, 1.12),
    onTime: clamp(r.normal(base[1] ?? 0.8, 0.04), 0.65, 0.92),
    diligence: r.between(0.55, 0.9),
    activity: r.between(0.5, 1.2),
    weakStage: null,
    slip: 1,
    top: false,
  };
}

export function buildOrganisation(seed: number, range: DemoRange, pipelines: readonly Pipeline[]): DemoOrganisation {
  const r = Random.of(seed, 'organisation');
  const names = new NameBook(r);
  const users: User[] = [];
  const teams: Team[] = [];
  const reps: RepProfile[] = [];

  const vp = names.next();
  users.push(
    user(vp, 'Europe/Berlin', {
      tier: 'vp',
      territories: [...TERRITORIES],
      products: [...PRODUCTS],
      working_hours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' },
    }),
  );
  const desk = names.next();
  users.push(
    user(desk, 'Europe/Berlin', {
      tier: 'deal-desk',
      working_hours: { days: [1, 2, 3, 4, 5], start: '08:30', end: '17:30' },
    }),
  );

  for (const spec of TEAMS) {
    const manager = names.next();
    users.push(user(manager, spec.managerZone, { tier: 'manager', working_hours: workingHours(r) }));
    const members: string[] = [];
    for (const rs of spec.reps) {
      const who = names.next();
      members.push(who.id);
      users.push(
        user(who, rs.zone, {
          tier: rs.tier,
          territories: rs.territories,
          // Juniors in the regional teams sell Core only; Analytics is a technical sale.
          products: rs.tier === 'junior' && spec.id !== 'inside-sales' ? ['Core'] : [...PRODUCTS],
          weight: rs.tier === 'senior' ? 2 : 1,
          working_hours: workingHours(r),
          out_of_office: holidays(r, range),
          // An enterprise cycle needs attention: beyond this many open deals the team's fallback takes over.
          capacity: rs.tier === 'closer' ? { max_open: 45 } : {},
        }),
      );
      reps.push(profile(r, who.id, spec.id, rs.tier));
    }
    teams.push({ id: spec.id, name: spec.name, manager: manager.id, members });
  }

  // One newcomer in each regional team still ramping: a weekly cap on new leads.
  for (const team of ['emea', 'americas']) {
    const junior = reps.filter((p) => p.team === team && p.tier === 'junior').at(-1);
    const u = users.find((x) => x.id === junior?.id);
    if (u) u.capacity = { per_week: 4 };
  }

  markStrugglersAndStars(r, reps, weakStages(pipelines));
  return { users, teams, assignment: assignmentRules(vp.id), reps, vp: vp.id, dealDesk: desk.id };
}

/** How much more often and further a struggling rep pushes close dates than most reps. */
const STRUGGLER_SLIP = 1.6;

/** Two regional reps weak at one stage each; one visibly better rep in every team. */
function markStrugglersAndStars(r: Random, reps: RepProfile[], weak: readonly string[]): void {
  const strugglers = ['emea', 'americas'].map((team, i) => {
    const candidates = reps.filter((p) => p.team === team && p.tier === 'senior');
    const p = r.pick(candidates);
    p.weakStage = weak[i % weak.length] ?? null;
    p.skill = 0.97;
    p.onTime = 0.74;
    // A rep who falls behind keeps promising dates the deal does not make.
    p.slip = STRUGGLER_SLIP;
    return p.id;
  });
  for (const team of TEAMS) {
    const candidates = reps.filter((p) => p.team === team.id && !strugglers.includes(p.id));
    const star = r.pick(candidates);
    star.top = true;
    star.skill = 1.16;
    star.onTime = 0.94;
    star.diligence = 0.92;
  }
}

function assignmentRules(vp: string): Process['assignment'] {
  const rules: AssignmentRule[] = [
    {
      id: 'enterprise-to-closers',
      when: { field: 'value', gte: ENTERPRISE_FROM },
      to: { pool: { territory: true, product: false, tier: ['closer'] }, strategy: 'least_open' },
      fallback: [{ team: 'closers', strategy: 'least_open' }, { user: vp }],
    },
    {
      id: 'smb-to-inside-sales',
      when: { field: 'value', lt: SMB_BELOW },
      to: { pool: { territory: true, product: false, team: 'inside-sales' }, strategy: 'round_robin' },
      fallback: [{ team: 'inside-sales', strategy: 'round_robin' }],
    },
  ];
  for (const spec of TEAMS) {
    const territory = Object.keys(REGIONAL).find((t) => REGIONAL[t] === spec.id);
    if (!territory) continue;
    rules.push({
      id: `analytics-${spec.id}`,
      when: {
        all: [
          { field: 'product', eq: 'Analytics' },
          { field: 'territory', eq: territory },
        ],
      },
      to: { pool: { territory: true, product: true, team: spec.id }, strategy: 'weighted' },
      fallback: [{ team: spec.id, strategy: spec.strategy }],
    });
  }
  for (const spec of TEAMS) {
    const territory = Object.keys(REGIONAL).find((t) => REGIONAL[t] === spec.id);
    if (!territory) continue;
    rules.push({
      id: spec.id,
      when: { field: 'territory', eq: territory },
      to: { team: spec.id, strategy: spec.strategy },
      fallback: [],
    });
  }
  return { default_owner: vp, reroute_on_change: ['territory'], same_contact: 'rules', self_sourced: 'rules', rules };
}

/** Public holidays that fall on the same date every year, for the years the example does not list. */
const FIXED_HOLIDAYS = ['01-01', '05-01', '12-24', '12-25', '12-26', '12-31'];

/**
 * The example process with the demo company in it: its organisation settings, pipelines,
 * stages, goals, tasks, guidance and templates as they are, users, teams and routing replaced,
 * and every task assignee that named an example user or team pointed at the demo's equivalent.
 */
export function demoProcess(base: Process, org: DemoOrganisation, range: DemoRange): Process {
  const years = new Set<number>();
  for (let y = new Date(range.from).getUTCFullYear(); y <= new Date(range.to).getUTCFullYear() + 1; y++) years.add(y);
  const holidays = new Set(base.organisation.holidays);
  for (const y of years) for (const md of FIXED_HOLIDAYS) holidays.add(`${y}-${md}`);
  const userMap = mapUsers(base, org);
  const teamMap = mapTeams(base, org);
  return {
    ...base,
    name: `${base.name} (demo)`,
    organisation: { ...base.organisation, holidays: [...holidays].sort() },
    users: org.users,
    teams: org.teams,
    assignment: org.assignment,
    pipelines: base.pipelines.map((pl) => ({
      ...pl,
      stages: pl.stages.map((s) => ({
        ...s,
        tasks: s.tasks.map((t) => {
          const a = t.assignee;
          if (a === 'owner') return t;
          if ('user' in a) return { ...t, assignee: { user: userMap(a.user) } };
          return { ...t, assignee: { team: teamMap(a.team) } };
        }),
      })),
    })),
  };
}

/** An example user by role: the VP, the deal desk, a closer, else a rep of the same tier and territory. */
function mapUsers(base: Process, org: DemoOrganisation): (id: string) => string {
  return (id) => {
    const u = base.users.find((x) => x.id === id);
    if (!u || u.tier === 'vp') return org.vp;
    if (u.tier === 'deal-desk') return org.dealDesk;
    const same = org.users.find(
      (x) => x.tier === u.tier && (u.territories.length === 0 || x.territories.some((t) => u.territories.includes(t))),
    );
    return same?.id ?? org.vp;
  };
}

/** An example team by id, else by a shared territory, else the first team. */
function mapTeams(base: Process, org: DemoOrganisation): (id: string) => string {
  return (id) => {
    if (org.teams.some((t) => t.id === id)) return id;
    const example = base.teams.find((t) => t.id === id);
    const territories = new Set(
      (example?.members ?? []).flatMap((m) => base.users.find((u) => u.id === m)?.territories ?? []),
    );
    const match = org.teams.find((t) =>
      t.members.some((m) => org.users.find((u) => u.id === m)?.territories.some((x) => territories.has(x))),
    );
    return match?.id ?? org.teams[0]?.id ?? id;
  };
}
