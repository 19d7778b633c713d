import { join } from 'node:path';
import { readCsv } from '../csv.js';
import { buildMapping, type Mapping } from '../mapping.js';
import { slug, type Organisation } from '../organisation.js';
import { missingRateMessage, type RateHint } from '../plan.js';
import type { Rates } from '../rates.js';
import type { ImportProblem, ImportRecord } from '../record.js';
import { parseNumber } from '../values.js';

/**
 * The Maven "CRM Sales Opportunities" data set: four files. sales_teams.csv gives the reps (their
 * regional office is their territory) and one team per manager; products.csv the list prices;
 * accounts.csv the companies; sales_pipeline.csv the deals, with the two dates the export has:
 * engage_date (entering Engaging) and close_date. Known dirty values are corrected and reported.
 */

export const MAVEN_FILES = {
  pipeline: 'sales_pipeline.csv',
  teams: 'sales_teams.csv',
  products: 'products.csv',
  accounts: 'accounts.csv',
} as const;

/** Misspellings in accounts.csv, corrected on import (each correction is listed as a warning). */
const ACCOUNT_FIXES: Record<string, Record<string, string>> = {
  sector: { technolgy: 'technology' },
  office_location: { Philipines: 'Philippines' },
};

/** The data set's amounts (close_value, list prices, account revenue) are US dollars. */
const MAVEN_CURRENCY = 'USD';

export interface MavenAccount {
  /** Its line in accounts.csv, which a problem names. */
  line: number;
  name: string;
  sector: string | null;
  yearEstablished: number | null;
  /** Minor units: US cents as read, the organisation's currency once accountsInCurrency has run. */
  revenueMinor: number | null;
  employees: number | null;
  location: string | null;
  parent: string | null;
}

export interface MavenProduct {
  line: number;
  name: string;
  series: string | null;
  listPriceMinor: number | null;
}

export interface MavenSideFiles {
  organisation: Organisation;
  accounts: MavenAccount[];
  products: MavenProduct[];
  /** The deals file's mapping, with product aliases learnt from products.csv. */
  mapping: Mapping;
  /**
   * Fills what the deals file leaves out (the rep's office as territory, an open deal's list price)
   * and corrects its product names to products.csv's, counting each correction.
   */
  complete(record: ImportRecord): ImportRecord;
  /** One warning per product name corrected since the last call, with its first line and count. */
  corrections(): ImportProblem[];
  problems: ImportProblem[];
}

const NUMBERS = { decimal: '.', thousands: '' } as const;

async function readTable(dir: string, file: string): Promise<{ line: number; row: Record<string, string> }[]> {
  const out: { line: number; row: Record<string, string> }[] = [];
  let header: string[] | null = null;
  for await (const r of readCsv(join(dir, file), file)) {
    if (!header) header = r.values.map((h) => h.trim());
    else out.push({ line: r.line, row: Object.fromEntries(header.map((h, i) => [h, r.values[i]?.trim() ?? ''])) });
  }
  return out;
}

export async function readMavenSideFiles(dir: string): Promise<MavenSideFiles> {
  const problems: ImportProblem[] = [];
  const warn = (file: string, line: number, column: string, message: string): void => {
    problems.push({ file, line, column, message, severity: 'warning' });
  };
  const error = (file: string, line: number, column: string | null, message: string): void => {
    problems.push({ file, line, column, message, severity: 'error' });
  };
  const number = (file: string, line: number, column: string, v: string): number | null => {
    if (v === '') return null;
    const n = parseNumber(v, NUMBERS);
    if (!n.ok) error(file, line, column, n.message);
    return n.ok ? n.value : null;
  };

  // Reps and teams.
  const officeOf = new Map<string, string>();
  const users: Organisation['users'] = [];
  const teams = new Map<string, Organisation['teams'][number]>();
  for (const { line, row } of await readTable(dir, MAVEN_FILES.teams)) {
    const agent = row['sales_agent'] ?? '';
    const manager = row['manager'] ?? '';
    const office = row['regional_office'] ?? '';
    if (agent === '') {
      error(MAVEN_FILES.teams, line, 'sales_agent', 'the sales agent is empty');
      continue;
    }
    users.push({ id: slug(agent), name: agent, territories: office ? [office] : [] });
    if (office) officeOf.set(agent.toLowerCase(), office);
    if (manager) {
      const id = slug(manager);
      const team = teams.get(id) ?? { id, name: `${manager}'s team`, manager: id, members: [] };
      team.members.push(slug(agent));
      teams.set(id, team);
    }
  }
  // Managers are users too (they lead teams), without a territory of their own.
  for (const t of teams.values()) {
    const name = t.name.replace(/'s team$/, '');
    if (!users.some((u) => u.id === t.id)) users.push({ id: t.id, name, territories: [] });
  }

  const products: MavenProduct[] = [];
  for (const { line, row } of await readTable(dir, MAVEN_FILES.products)) {
    const name = row['product'] ?? '';
    if (name === '') {
      error(MAVEN_FILES.products, line, 'product', 'the product name is empty');
      continue;
    }
    const price = number(MAVEN_FILES.products, line, 'sales_price', row['sales_price'] ?? '');
    products.push({
      line,
      name,
      series: row['series'] || null,
      listPriceMinor: price === null ? null : Math.round(price * 100),
    });
  }

  const accounts: MavenAccount[] = [];
  for (const { line, row } of await readTable(dir, MAVEN_FILES.accounts)) {
    const name = row['account'] ?? '';
    if (name === '') {
      error(MAVEN_FILES.accounts, line, 'account', 'the account name is empty');
      continue;
    }
    const fixed = (column: string): string | null => {
      const v = row[column] ?? '';
      const fix = ACCOUNT_FIXES[column]?.[v];
      if (fix) warn(MAVEN_FILES.accounts, line, column, `"${v}" corrected to "${fix}"`);
      return (fix ?? v) || null;
    };
    const revenue = number(MAVEN_FILES.accounts, line, 'revenue', row['revenue'] ?? '');
    accounts.push({
      line,
      name,
      sector: fixed('sector'),
      yearEstablished: number(MAVEN_FILES.accounts, line, 'year_established', row['year_established'] ?? ''),
      // revenue is in millions of USD
      revenueMinor: revenue === null ? null : Math.round(revenue * 1_000_000 * 100),
      employees: number(MAVEN_FILES.accounts, line, 'employees', row['employees'] ?? ''),
      location: fixed('office_location'),
      parent: row['subsidiary_of'] || null,
    });
  }

  // "GTXPro" in the deals is "GTX Pro" in products.csv: names compared without spaces. Corrected in
  // complete(), not by the mapping's aliases, so that the correction is counted and reported.
  const productAliases = new Map(products.map((p) => [p.name.replace(/\s+/g, ''), p.name]));
  const productFixes = new Map<string, { to: string; line: number; count: number }>();
  const correctProduct = (record: ImportRecord): string | null => {
    const written = record.product;
    const fixed = written === null ? undefined : productAliases.get(written);
    if (written === null || fixed === undefined || fixed === written) return written;
    const seen = productFixes.get(written) ?? { to: fixed, line: record.line, count: 0 };
    seen.count++;
    productFixes.set(written, seen);
    return fixed;
  };
  const listPrice = new Map(products.map((p) => [p.name, p.listPriceMinor]));

  const mapping = buildMapping({
    source: 'maven',
    // Every deal is in the data set's own pipeline, also when the process has another default.
    pipeline: 'maven',
    columns: {
      id: 'opportunity_id',
      owner: 'sales_agent',
      product: 'product',
      company: 'account',
      stage: 'deal_stage',
      // The export's first date is the engagement: the deal's creation as far as anyone can tell.
      created_at: 'engage_date',
      closed_at: 'close_date',
      value: 'close_value',
    },
    stage_dates: { Engaging: 'engage_date' },
    // close_value and the list prices are US dollars and the file has no currency column: into an
    // organisation in another currency they are converted at the --rates rate, like any other format.
    currency: MAVEN_CURRENCY,
    numbers: NUMBERS,
    dates: { formats: ['yyyy-MM-dd'] },
  });

  return {
    organisation: {
      users,
      teams: [...teams.values()],
      currency: MAVEN_CURRENCY,
      pipeline: {
        id: 'maven',
        name: 'Maven sales',
        stages: [
          {
            id: 'prospecting',
            name: 'Prospecting',
            guidance: 'Qualify the account: the right contact, a real need, a budget.',
          },
          {
            id: 'engaging',
            name: 'Engaging',
            guidance: 'Demo the product to the buying group, send the quote, and ask for the order.',
            ask: true,
          },
        ],
      },
    },
    accounts,
    products,
    mapping,
    problems,
    complete(written) {
      const record = { ...written, product: correctProduct(written) };
      const territory = record.territory ?? (record.owner ? (officeOf.get(record.owner.toLowerCase()) ?? null) : null);
      const open = record.closedAt === null && !/^(won|lost)$/i.test(record.stage ?? '');
      const price = record.product ? listPrice.get(record.product) : undefined;
      // An open deal has no close_value yet; its product's list price is the best estimate.
      const estimate = open && record.value === null && price != null;
      return {
        ...record,
        territory,
        value: estimate ? price / 100 : record.value,
        fields: estimate ? { ...record.fields, value_source: 'list_price' } : record.fields,
      };
    },
    corrections() {
      const out = [...productFixes].map(([from, fix]): ImportProblem => ({
        file: MAVEN_FILES.pipeline,
        line: fix.line,
        column: 'product',
        message: `"${from}" corrected to "${fix.to}" (the name in ${MAVEN_FILES.products}) on ${fix.count} ${fix.count === 1 ? 'row' : 'rows'}`,
        severity: 'warning',
      }));
      productFixes.clear();
      return out;
    },
  };
}

/**
 * The accounts' revenue and the products' list prices in the organisation's currency: converted at
 * the same `--rates` USD rate as the deals' close_value, so an EUR organisation does not show
 * dollars as euros. Without a rate, the side files are refused in the deals' words, with the fix,
 * once, at the first revenue (else the first list price): also when no deal would have said it (a
 * deals file without rows, or every deal skipped as invalid).
 */
export function catalogInCurrency(
  side: { accounts: readonly MavenAccount[]; products: readonly MavenProduct[] },
  home: string,
  rates: Rates,
  hint?: RateHint,
): { accounts: MavenAccount[]; products: MavenProduct[]; problems: ImportProblem[] } {
  const code = home.toUpperCase();
  if (code === MAVEN_CURRENCY) return { accounts: [...side.accounts], products: [...side.products], problems: [] };
  const rate = rates.get(MAVEN_CURRENCY);
  if (rate === undefined) {
    // Once: the whole file set needs the one rate, and the deals' own problems, one per deal,
    // should not drown under a copy per account and product.
    const account = side.accounts.find((a) => a.revenueMinor !== null);
    const product = side.products.find((p) => p.listPriceMinor !== null);
    const at = account
      ? { file: MAVEN_FILES.accounts, line: account.line, column: 'revenue' }
      : product
        ? { file: MAVEN_FILES.products, line: product.line, column: 'sales_price' }
        : null;
    const problems: ImportProblem[] = at
      ? [{ ...at, message: missingRateMessage(MAVEN_CURRENCY, code, hint), severity: 'error' }]
      : [];
    return { accounts: [...side.accounts], products: [...side.products], problems };
  }
  const convert = (minor: number | null): number | null => (minor === null ? null : Math.round(minor * rate));
  return {
    accounts: side.accounts.map((a) => ({ ...a, revenueMinor: convert(a.revenueMinor) })),
    products: side.products.map((p) => ({ ...p, listPriceMinor: convert(p.listPriceMinor) })),
    problems: [],
  };
}
