import type { Fields } from '../domain/conditions.js';
import type { LeadEvent } from '../domain/events.js';
import { companyDomain, companyName, FIRST_NAMES, LAST_NAMES, slug } from './names.js';
import { ENTERPRISE_FROM, SMB_BELOW, type DemoOrganisation, type DemoRange } from './organisation.js';
import { Random } from './random.js';
import { localClock } from './worktime.js';

/**
 * When leads arrive and what they look like. Volume grows over the range (the company is
 * growing), follows the working week and day of the lead's region, dips in August and December.
 * Most leads are new business from the web form, referrals, outbound, partners and events; a
 * few are renewals of customers won before the range, which the billing system opens with the
 * account's owner.
 */

export type CreatedEvent = Extract<LeadEvent, { type: 'lead.created' }>;

export interface Arrival {
  at: number;
  event: CreatedEvent;
}

const TERRITORY_WEIGHTS = [
  ['EMEA', 45],
  ['Americas', 35],
  ['APAC', 20],
] as const;

/** A business-hours clock for each territory's leads. */
const TERRITORY_ZONE: Record<string, string> = {
  EMEA: 'Europe/Berlin',
  Americas: 'America/Chicago',
  APAC: 'Asia/Singapore',
};

const SOURCES = [
  ['web', 38],
  ['referral', 14],
  ['outbound', 20],
  ['partner', 16],
  ['event', 12],
] as const;

/** Share of arrivals that are renewals of customers won before the range. */
const RENEWAL_SHARE = 0.07;
/** Volume at the end of the range relative to its start. */
const GROWTH = 1.6;

function hourWeight(hour: number): number {
  if (hour >= 8 && hour < 18) return 1;
  if (hour >= 18 && hour < 22) return 0.3;
  return 0.08;
}

function monthWeight(at: number): number {
  const m = new Date(at).getUTCMonth();
  return m === 11 ? 0.75 : m === 7 ? 0.85 : 1;
}

/** A moment in the range: linear growth by inverse transform, then rejection on the region's clock. */
function arrivalTime(r: Random, range: DemoRange, zone: string): number {
  const g = GROWTH - 1;
  for (;;) {
    const u = r.next();
    const x = g === 0 ? u : (-1 + Math.sqrt(1 + 2 * g * u * (1 + g / 2))) / g;
    const at = range.from + Math.floor(x * (range.to - range.from));
    const { hour, weekday } = localClock(zone, at);
    const w = hourWeight(hour) * (weekday >= 6 ? 0.25 : 1) * monthWeight(at);
    if (r.next() < w) return at;
  }
}

function round(x: number, step: number): number {
  return Math.max(step, Math.round(x / step) * step);
}

/** Annual contract value in EUR: SMB, mid-market or enterprise; Analytics sells a little higher. */
export function dealValue(r: Random, product: string): number {
  const uplift = product === 'Analytics' ? 1.2 : 1;
  const tier = r.weighted([
    ['smb', 40],
    ['mid', 45],
    ['enterprise', 15],
  ] as const);
  if (tier === 'smb') return Math.min(SMB_BELOW - 100, round(r.between(2400, 9600) * uplift, 100));
  if (tier === 'mid') return Math.min(ENTERPRISE_FROM - 500, round(r.logBetween(SMB_BELOW, 39_000) * uplift, 500));
  return round(r.logBetween(ENTERPRISE_FROM, 220_000) * uplift, 1000);
}

export function contact(r: Random): Fields {
  const company = companyName(r);
  const first = r.pick(FIRST_NAMES);
  const last = r.pick(LAST_NAMES);
  return {
    name: company,
    company,
    first_name: first,
    last_name: last,
    email: `${slug(first)}.${slug(last)}@${companyDomain(company)}`,
  };
}

export function leadId(kind: 'L' | 'R', n: number): string {
  return `${kind}-${String(n).padStart(6, '0')}`;
}

/** The account owner billing names on a renewal: a closer for big accounts, else a regional rep. */
function accountOwner(r: Random, org: DemoOrganisation, territory: string, value: number): string {
  const owners = org.reps.filter((p) => {
    const u = org.users.find((x) => x.id === p.id);
    if (!u?.territories.includes(territory)) return false;
    return value >= ENTERPRISE_FROM ? p.tier === 'closer' : p.tier !== 'closer' && p.team !== 'inside-sales';
  });
  return r.pick(owners.length > 0 ? owners : org.reps).id;
}

export function arrivals(seed: number, count: number, range: DemoRange, org: DemoOrganisation): Arrival[] {
  const r = Random.of(seed, 'arrivals');
  const slots: { at: number; territory: string; renewal: boolean }[] = [];
  for (let i = 0; i < count; i++) {
    const territory = r.weighted(TERRITORY_WEIGHTS);
    const renewal = r.chance(RENEWAL_SHARE);
    let at = arrivalTime(r, range, TERRITORY_ZONE[territory] ?? 'UTC');
    // The billing system opens renewals in its nightly run at 06:00 UTC.
    if (renewal) at = Math.max(range.from, at - (at % 86_400_000) + 6 * 3_600_000);
    slots.push({ at, territory, renewal });
  }
  slots.sort((a, b) => a.at - b.at);
  return slots.map((s, i) => {
    const lr = Random.of(seed, 'lead', i);
    const product = lr.weighted([
      ['Core', 68],
      ['Analytics', 32],
    ] as const);
    if (s.renewal) {
      const value = round(lr.logBetween(6000, 90_000), 500);
      const lead = leadId('R', i + 1);
      return {
        at: s.at,
        event: {
          type: 'lead.created',
          lead,
          fields: {
            type: 'renewal',
            ...contact(lr),
            territory: s.territory,
            product,
            value,
            seats: Math.max(5, Math.round(value / 600)),
            source: 'renewal',
          },
          owner: accountOwner(lr, org, s.territory, value),
          actor: { kind: 'api', id: 'billing' },
        },
      };
    }
    const source = lr.weighted(SOURCES);
    return {
      at: s.at,
      event: {
        type: 'lead.created',
        lead: leadId('L', i + 1),
        fields: {
          ...contact(lr),
          territory: s.territory,
          product,
          value: dealValue(lr, product),
          source,
        },
        actor: { kind: 'api', id: source === 'web' ? 'web-form' : source },
      },
    };
  });
}
