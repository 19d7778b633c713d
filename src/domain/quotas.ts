import { parse as parseCsv } from 'csv-parse/sync';
import { isSeq, LineCounter, parseDocument } from 'yaml';

/**
 * Quotas as people write them: a subject (a rep, or a team), a period key and an amount in major
 * units. Pure checks shared by `stageflow quota set` and `quota import`; a file is checked whole,
 * every problem with its line, so an import is all-or-nothing and fixable in one pass.
 */

export type QuotaSubjectScope = 'user' | 'team';

export interface QuotaLine {
  scope: QuotaSubjectScope;
  subject: string;
  period: string;
  amountMinor: number;
  line: number;
}

export interface QuotaProblem {
  line: number | null;
  message: string;
}

/** Who a quota can be for: the current process's users and teams. */
export interface QuotaDirectory {
  users: readonly { id: string; name: string }[];
  teams: readonly { id: string; name: string }[];
}

/** A month (2026-11) or quarter (2026-Q4) key, the periods forecasts and quotas use. */
export function isPeriodKey(key: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(key) || /^\d{4}-Q[1-4]$/.test(key);
}

/** An amount in major units (e.g. 50000 or 50000.50), not negative, as integer minor units; null if invalid. */
export function parseAmount(raw: unknown): number | null {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (!/^\d+(\.\d{1,2})?$/.test(text)) return null;
  return Math.round(Number(text) * 100);
}

/** The id of a user or team given by id or (case-insensitive) name; null when unknown. */
export function resolveSubject(dir: QuotaDirectory, scope: QuotaSubjectScope, raw: string): string | null {
  const list = scope === 'team' ? dir.teams : dir.users;
  const wanted = raw.trim();
  const hit = list.find((x) => x.id === wanted) ?? list.find((x) => x.name.toLowerCase() === wanted.toLowerCase());
  return hit?.id ?? null;
}

/** Checks one quota as written; returns it or the problems (without line numbers). */
export function checkQuota(
  dir: QuotaDirectory,
  input: { scope?: unknown; subject?: unknown; period?: unknown; amount?: unknown },
): { ok: true; quota: Omit<QuotaLine, 'line'> } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const rawScope = input.scope === undefined || input.scope === null || input.scope === '' ? 'user' : input.scope;
  const scope: QuotaSubjectScope | null = rawScope === 'user' || rawScope === 'team' ? rawScope : null;
  if (scope === null) problems.push(`scope must be user or team, not ${JSON.stringify(rawScope)}`);
  const subjectText =
    typeof input.subject === 'string' || typeof input.subject === 'number' ? String(input.subject) : '';
  let subject: string | null = null;
  if (subjectText.trim() === '') problems.push('subject is missing');
  else if (scope !== null) {
    subject = resolveSubject(dir, scope, subjectText);
    if (subject === null) problems.push(`unknown ${scope} "${subjectText}"`);
  }
  const period = typeof input.period === 'string' ? input.period.trim() : '';
  if (!isPeriodKey(period))
    problems.push(`period must be a month (2026-11) or quarter (2026-Q4), not ${JSON.stringify(input.period ?? '')}`);
  const amountMinor = parseAmount(input.amount);
  if (amountMinor === null)
    problems.push(`amount must be a number >= 0 with at most 2 decimals, not ${JSON.stringify(input.amount ?? '')}`);
  if (problems.length > 0 || scope === null || subject === null || amountMinor === null) return { ok: false, problems };
  return { ok: true, quota: { scope, subject, period, amountMinor } };
}

export type QuotaFileResult = { ok: true; quotas: QuotaLine[] } | { ok: false; problems: QuotaProblem[] };

/**
 * A quota file: CSV with a header (subject, period, amount, and optionally scope: user | team), or
 * YAML (or JSON) holding a list of records with the same keys. Later lines may not repeat a
 * subject and period of an earlier one, since which of the two is meant is unclear.
 */
export function parseQuotaFile(text: string, format: 'csv' | 'yaml', dir: QuotaDirectory): QuotaFileResult {
  const read = format === 'csv' ? readCsvRecords(text) : readYamlRecords(text);
  if (!read.ok) return read;
  const problems: QuotaProblem[] = [];
  const quotas: QuotaLine[] = [];
  const seen = new Map<string, number>();
  for (const { line, record } of read.records) {
    const checked = checkQuota(dir, record);
    if (!checked.ok) {
      for (const message of checked.problems) problems.push({ line, message });
      continue;
    }
    const q = checked.quota;
    const key = `${q.scope}\u0000${q.subject}\u0000${q.period}`;
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ line, message: `${q.scope} ${q.subject} already has a quota for ${q.period} (line ${first})` });
      continue;
    }
    seen.set(key, line);
    quotas.push({ ...q, line });
  }
  if (read.records.length === 0) problems.push({ line: null, message: 'the file holds no quotas' });
  return problems.length > 0 ? { ok: false, problems } : { ok: true, quotas };
}

interface RawRecord {
  line: number;
  record: Record<string, unknown>;
}

type Read = { ok: true; records: RawRecord[] } | { ok: false; problems: QuotaProblem[] };

const COLUMNS = ['subject', 'period', 'amount', 'scope'];

function readCsvRecords(text: string): Read {
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parseCsv(text, { columns: true, info: true, skip_empty_lines: true, trim: true, bom: true }) as typeof rows;
  } catch (e) {
    const err = e as { message: string; lines?: number };
    return { ok: false, problems: [{ line: err.lines ?? null, message: err.message }] };
  }
  const header = Object.keys(rows[0]?.record ?? {});
  const missing = ['subject', 'period', 'amount'].filter((c) => rows.length > 0 && !header.includes(c));
  const unknown = header.filter((c) => !COLUMNS.includes(c));
  if (missing.length > 0 || unknown.length > 0)
    return {
      ok: false,
      problems: [
        ...missing.map((c) => ({
          line: 1,
          message: `column "${c}" is missing (columns: subject, period, amount, scope)`,
        })),
        ...unknown.map((c) => ({
          line: 1,
          message: `unknown column "${c}" (columns: subject, period, amount, scope)`,
        })),
      ],
    };
  return { ok: true, records: rows.map((r) => ({ line: r.info.lines, record: r.record })) };
}

function readYamlRecords(text: string): Read {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        line: lines.linePos(e.pos[0]).line,
        message: e.message.split('\n')[0] ?? e.message,
      })),
    };
  const root = doc.contents;
  if (!isSeq(root)) return { ok: false, problems: [{ line: 1, message: 'expected a list of quotas' }] };
  const records: RawRecord[] = [];
  const problems: QuotaProblem[] = [];
  for (const item of root.items) {
    const node = item as { range?: [number, number, number]; toJSON?: () => unknown } | null;
    const line = node?.range ? lines.linePos(node.range[0]).line : 1;
    const value: unknown = node && typeof node.toJSON === 'function' ? node.toJSON() : null;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ line, message: 'expected a record with subject, period and amount' });
      continue;
    }
    const record = value as Record<string, unknown>;
    const unknown = Object.keys(record).filter((k) => !COLUMNS.includes(k));
    for (const k of unknown)
      problems.push({ line, message: `unknown key "${k}" (keys: subject, period, amount, scope)` });
    if (unknown.length === 0) records.push({ line, record });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, records };
}
