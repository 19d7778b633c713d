import { z } from 'zod';
import { formatProblem, parseYamlWith } from '../domain/process-load.js';
import { currencyCode } from './mapping.js';

/**
 * The exchange-rate table of `stageflow import --rates FILE`: for each currency, how many units of
 * the organisation's currency one unit is worth. A CSV file (`currency,rate` lines, an optional
 * header, `#` comments) or, named `.yaml` / `.yml`, a YAML map (`USD: 0.92`). Every problem is
 * listed with its line, so one fix of the file is enough.
 */

export type Rates = ReadonlyMap<string, number>;

export type RatesResult = { ok: true; rates: Rates } | { ok: false; problems: string[] };

const rateSchema = z.record(currencyCode, z.number().positive().finite());

export function parseRates(text: string, label: string, home: string): RatesResult {
  const entries = /\.ya?ml$/i.test(label) ? yamlEntries(text, label) : csvEntries(text, label);
  const problems = [...entries.problems];
  const rates = new Map<string, number>();
  const lineOf = new Map<string, number>();
  for (const { code, rate, line } of entries.rows) {
    const where = line === null ? label : `${label}:${line}`;
    const earlier = lineOf.get(code);
    if (earlier !== undefined) problems.push(`${where}: ${code} has a rate already (line ${earlier})`);
    // The organisation's own currency is worth exactly one of itself; another rate is a mistake.
    else if (code === home.toUpperCase() && rate !== 1)
      problems.push(`${where}: ${code} is the organisation's currency: its rate can only be 1`);
    else {
      rates.set(code, rate);
      lineOf.set(code, line ?? 0);
    }
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rates };
}

/** The rows that read, and the problems of those that did not. */
interface Entries {
  rows: { code: string; rate: number; line: number | null }[];
  problems: string[];
}

function yamlEntries(text: string, label: string): Entries {
  const parsed = parseYamlWith(rateSchema, text);
  if (!parsed.ok) return { rows: [], problems: parsed.problems.map((p) => `${label}: ${formatProblem(p)}`) };
  return {
    problems: [],
    rows: Object.entries(parsed.value).map(([code, rate]) => ({ code, rate, line: parsed.lineOf([code]) })),
  };
}

function csvEntries(text: string, label: string): Entries {
  const problems: string[] = [];
  const rows: { code: string; rate: number; line: number }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/^\uFEFF/, '').trim();
    if (content === '' || content.startsWith('#')) return;
    const cells = content.split(',').map((c) => c.trim());
    if (rows.length === 0 && problems.length === 0 && /^currency$/i.test(cells[0] ?? '')) return; // the header
    const [code = '', rate = '', ...rest] = cells;
    if (rest.length > 0 || cells.length < 2) {
      problems.push(`${label}:${line}: expected "currency,rate" (such as USD,0.92), found "${content}"`);
      return;
    }
    const okCode = /^[A-Za-z]{3}$/.test(code);
    const value = /^\d+(\.\d+)?$|^\.\d+$/.test(rate) ? Number(rate) : NaN;
    if (!okCode) problems.push(`${label}:${line}: "${code}" is not a currency code (three letters such as USD)`);
    if (!(value > 0))
      problems.push(
        `${label}:${line}: the rate "${rate}" is not a positive number with a decimal point (such as 0.92)`,
      );
    if (okCode && value > 0) rows.push({ code: code.toUpperCase(), rate: value, line });
  });
  return { rows, problems };
}
