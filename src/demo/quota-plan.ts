import type { Team } from '../domain/process-schema.js';
import type { RepProfile } from './organisation.js';
import { monthKey, monthsOf, periodsOverlapping } from './periods.js';
import { Random } from './random.js';

/**
 * Quotas the way a sales leader sets them: each month's target follows what the floor as a whole
 * closes (so a young, ramping organisation gets small targets and a busy quarter big ones), split
 * by what reps of the same team and tier close, with a stretch of a few percent that differs per
 * rep. Peers share a target, so the better ones beat it and the struggling ones miss it.
 * Quarters are the sum of their months, teams the sum of their members.
 */

export interface Win {
  owner: string;
  valueMinor: number;
  closedAt: number;
}

export interface PlannedQuota {
  scope: 'user' | 'team';
  subject: string;
  period: string;
  amountMinor: number;
}

export interface QuotaPlanInput {
  seed: number;
  reps: readonly RepProfile[];
  teams: readonly Team[];
  wins: readonly Win[];
  from: number;
  to: number;
  zone: string;
}

/** Targets are round figures: 500 EUR steps. */
const STEP_MINOR = 50_000;
const FLOOR_MINOR = 500_000;

export function planQuotas(i: QuotaPlanInput): PlannedQuota[] {
  const periods = periodsOverlapping(i.from, i.to, i.zone);
  const months = periods.filter((p) => p.kind === 'month');
  const repIds = new Set(i.reps.map((r) => r.id));
  const wonByMonth = new Map<string, number>();
  const wonByRep = new Map<string, number>();
  for (const w of i.wins) {
    if (!repIds.has(w.owner)) continue;
    const key = monthKey(w.closedAt, i.zone);
    wonByMonth.set(key, (wonByMonth.get(key) ?? 0) + w.valueMinor);
    wonByRep.set(w.owner, (wonByRep.get(w.owner) ?? 0) + w.valueMinor);
  }
  // The month still running is only partly won: plan it at the level of the last three whole months.
  const whole = months.filter((m) => m.to <= i.to);
  const recent = whole.slice(-3).map((m) => wonByMonth.get(m.key) ?? 0);
  const running = recent.length > 0 ? recent.reduce((a, b) => a + b, 0) / recent.length : 0;
  const floorWon = (key: string, to: number): number => (to > i.to ? running : (wonByMonth.get(key) ?? 0));

  const perRep = [...wonByRep.values()].reduce((a, b) => a + b, 0) / Math.max(1, i.reps.length);
  const share = new Map<string, number>();
  for (const r of i.reps) {
    const peers = i.reps.filter((p) => p.team === r.team && p.tier === r.tier);
    const peerMean = peers.reduce((s, p) => s + (wonByRep.get(p.id) ?? 0), 0) / peers.length;
    share.set(r.id, perRep > 0 ? peerMean / perRep : 1);
  }

  const out: PlannedQuota[] = [];
  const monthly = new Map<string, number>();
  for (const r of i.reps) {
    const rng = Random.of(i.seed, 'quota', r.id);
    const stretch = rng.between(0.98, 1.2);
    for (const m of months) {
      const base = (floorWon(m.key, m.to) / i.reps.length) * (share.get(r.id) ?? 1) * stretch * rng.between(0.95, 1.05);
      const amount = Math.max(FLOOR_MINOR, Math.round(base / STEP_MINOR) * STEP_MINOR);
      monthly.set(`${r.id}|${m.key}`, amount);
      out.push({ scope: 'user', subject: r.id, period: m.key, amountMinor: amount });
    }
  }
  // A quarter that starts before the range counts its missing months at the first month's target.
  const first = months[0];
  const monthAmount = (rep: string, key: string): number =>
    monthly.get(`${rep}|${key}`) ?? (first ? (monthly.get(`${rep}|${first.key}`) ?? 0) : 0);
  for (const q of periods.filter((p) => p.kind === 'quarter')) {
    const keys = monthsOf(q, i.zone);
    for (const r of i.reps) {
      const amount = keys.reduce((s, k) => s + monthAmount(r.id, k), 0);
      out.push({ scope: 'user', subject: r.id, period: q.key, amountMinor: amount });
    }
  }
  const byKey = new Map(out.map((q) => [`${q.subject}|${q.period}`, q.amountMinor]));
  for (const team of i.teams) {
    for (const p of periods) {
      const amount = team.members.reduce((s, m) => s + (byKey.get(`${m}|${p.key}`) ?? 0), 0);
      if (amount > 0) out.push({ scope: 'team', subject: team.id, period: p.key, amountMinor: amount });
    }
  }
  return out;
}
