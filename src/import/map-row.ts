import type { Fields } from '../domain/conditions.js';
import { OPT_OUT_FIELD, optOutValue } from '../domain/consent.js';
import { FORECAST_CATEGORY_PROBLEM, FORECAST_FIELD, forecastCategory } from '../domain/forecast-category.js';
import { splitPersonName } from '../domain/person-name.js';
import { isEmailAddress } from '../domain/events.js';
import type { MappedField, Mapping } from './mapping.js';
import type { DateCell, ImportProblem, ImportRecord, ImportStatus } from './record.js';
import { swapDayMonth, type ColumnEvidence, type Guesses } from './column-sense.js';
import { amountReading, parseDate, parseNumber, swappedSeparators } from './values.js';

/**
 * Turns one CSV record into an ImportRecord with the mapping compiled against the file's header:
 * column names become indexes once, so each row costs a few array reads. Every problem names its
 * file, line and column. A record with errors is still returned, with the fields that could not be
 * read left empty and named in `unreadable`, so that the plan checks the rest of the row (owner,
 * stage, duplicates) and a dry run lists every problem at once.
 */

export interface RowResult {
  record: ImportRecord;
  /** The record id as written, also when the record has errors (for the list of skipped records). */
  sourceId: string | null;
  problems: ImportProblem[];
  /**
   * The row has more or fewer fields than the header: its cells cannot be trusted to be under the
   * right columns, so its only problem is the field count and nothing else is checked.
   */
  misshapen: boolean;
}

export interface CompiledMapping {
  /** Problems with the header itself (a mapped column that is missing): nothing can be imported. */
  headerProblems: ImportProblem[];
  mapRow(values: readonly string[], line: number): RowResult;
  /** Whether this record ends the data (a report footer such as Salesforce's "Grand Totals"). */
  isFooter(values: readonly string[]): boolean;
  /** The header's per-stage date columns (a mapping's stage_dates, then its pattern), by the header as written. */
  stageDateColumns: readonly StageDateColumn[];
}

/** A column holding when a deal entered a stage (HubSpot `Date entered "…"`, a mapping's stage_dates). */
export interface StageDateColumn {
  stage: string;
  index: number;
  header: string;
}

const DATE_FIELDS = ['created_at', 'closed_at', 'won_at', 'lost_at', 'expected_close', 'last_stage_change'] as const;

export function compileMapping(
  mapping: Mapping,
  header: readonly string[],
  file: string,
  zone: string,
  /** Whether every row must have the header's number of fields (CSV; a worksheet drops empty trailing cells). */
  fieldCount = false,
  /** The header's line, which its problems name. */
  headerLine = 1,
  /** What may be guessed from the whole file, and where the cells that tell are noted. */
  sense: { guesses: Guesses; evidence: ColumnEvidence } | null = null,
): CompiledMapping {
  const index = new Map<string, number>();
  header.forEach((h, i) => {
    const name = h.trim();
    if (!index.has(name)) index.set(name, i);
  });
  const headerProblems: ImportProblem[] = [];
  const optional = new Set(mapping.optional_columns);
  const col = (what: string, name: string | undefined): number | null => {
    if (name === undefined) return null;
    const i = index.get(name);
    if (i === undefined && !optional.has(name))
      headerProblems.push({
        file,
        line: headerLine,
        column: name,
        message: `column "${name}" (mapped to ${what}) is not in the file's header`,
        severity: 'error',
      });
    return i ?? null;
  };

  const columns = new Map<MappedField, number>();
  for (const [field, name] of Object.entries(mapping.columns) as [MappedField, string][]) {
    const i = col(field, name);
    if (i !== null) columns.set(field, i);
  }
  const custom = Object.entries(mapping.fields)
    .map(([field, name]) => ({ field, i: col(`field ${field}`, name) }))
    .filter((c): c is { field: string; i: number } => c.i !== null);
  const stageDates: StageDateColumn[] = Object.entries(mapping.stage_dates)
    .map(([stage, name]) => ({ stage, index: col(`the date entering ${stage}`, name), header: name }))
    .filter((c): c is StageDateColumn => c.index !== null);
  if (mapping.stage_date_pattern) {
    const pattern = new RegExp(mapping.stage_date_pattern);
    header.forEach((h, index) => {
      const m = pattern.exec(h.trim());
      if (m?.[1]) stageDates.push({ stage: m[1], index, header: h.trim() });
    });
  }
  const footers = mapping.footer.map((f) => new RegExp(f, 'i'));
  const statusOf = statusTable(mapping);
  const zoneOf = mapping.dates.zone ?? zone;
  const evidence = sense?.evidence ?? null;
  const guessNumbers = sense?.guesses.numbers === true;
  // The formats with day and month swapped: a date that reads only so is evidence of the file's order.
  const swappedFormats = sense?.guesses.dates === true ? mapping.dates.formats.map(swapDayMonth) : null;
  const valueColumn = mapping.columns.value ?? 'value';
  // "12.500 €", "EUR 8.000": one decimal separator and exactly three digits after it (see amountReading).
  const ambiguousShape = new RegExp(`^[^\\d.,-]*-?\\d{1,3}\\${mapping.numbers.decimal}\\d{3}[^\\d.,]*$`);

  function mapRow(values: readonly string[], line: number): RowResult {
    const problems: ImportProblem[] = [];
    const unreadable = new Set<string>();
    const problem = (field: MappedField | string, message: string): void => {
      const column = columns.has(field as MappedField)
        ? (mapping.columns[field as MappedField] ?? null)
        : (mapping.fields[field] ?? field);
      // Two fields read from one column (Close Date as close and expected close): one problem.
      if (!problems.some((p) => p.column === column && p.message === message))
        problems.push({ file, line, column, message, severity: 'error' });
    };
    const raw = (field: MappedField): string | null => {
      const i = columns.get(field);
      if (i === undefined) return null;
      const v = values[i]?.trim() ?? '';
      return v === '' ? null : v;
    };
    const text = (field: MappedField): string | null => alias(mapping, field, raw(field));
    const date = (field: MappedField): DateCell | null => {
      const v = raw(field);
      if (v === null) return null;
      const d = parseDate(v, mapping.dates.formats, zoneOf, zone);
      if (d.ok) return { at: d.value, text: v, dateOnly: d.dateOnly };
      noteSwappedDate(v, line, mapping.columns[field] ?? field);
      problem(field, d.message);
      unreadable.add(field);
      return null;
    };

    // Every column is read and checked whatever the others hold, so one pass lists all of a row's problems.
    const sourceId = raw('id');
    if (sourceId === null) problem('id', 'the record id is empty');
    let value: number | null = null;
    let amountCurrency: string | null = null;
    let amountSign: string | null = null;
    const rawValue = raw('value');
    if (rawValue !== null) {
      const n = parseNumber(rawValue, mapping.numbers);
      const ambiguous = guessNumbers && noteAmount(rawValue, n.ok, line);
      if (n.ok && ambiguous) {
        const swapped = swappedSeparators(mapping.numbers);
        const other = swapped ? parseNumber(rawValue, swapped) : null;
        problem(
          'value',
          `"${rawValue}" is ambiguous: ${n.value} or ${other?.ok ? other.value : '?'}? No other amount in the file ` +
            `says which separator is for decimals: set the mapping's numbers (numbers: { decimal: "${swapped?.decimal ?? ','}" } ` +
            `if "${swapped?.thousands ?? '.'}" separates thousands)`,
        );
        unreadable.add('value');
      } else if (n.ok && n.value < 0) problem('value', `${rawValue} is negative`);
      else if (n.ok) [value, amountCurrency, amountSign] = [n.value, n.code, n.sign];
      else problem('value', n.message);
      if (!n.ok || n.value < 0) unreadable.add('value');
    }
    const currency = currencyOf(raw('currency'), amountCurrency, amountSign, rawValue, problem, unreadable);
    const dates = Object.fromEntries(DATE_FIELDS.map((f) => [f, date(f)])) as Record<
      (typeof DATE_FIELDS)[number],
      DateCell | null
    >;
    let status: ImportStatus | null = null;
    const rawStatus = raw('status');
    if (rawStatus !== null) {
      status = statusOf.get(rawStatus.toLowerCase()) ?? null;
      if (status === null) {
        problem('status', `unknown status "${rawStatus}" (expected ${[...statusOf.keys()].join(', ')})`);
        unreadable.add('status');
      }
    }
    const enteredStages: { stage: string; date: DateCell }[] = [];
    for (const { stage, index, header: column } of stageDates) {
      const v = values[index]?.trim() ?? '';
      if (v === '') continue;
      const d = parseDate(v, mapping.dates.formats, zoneOf, zone);
      if (d.ok) enteredStages.push({ stage, date: { at: d.value, text: v, dateOnly: d.dateOnly } });
      else {
        noteSwappedDate(v, line, column);
        problems.push({ file, line, column, message: d.message, severity: 'error' });
        unreadable.add('stage_dates');
      }
    }
    const fields: Fields = {};
    for (const { field, i } of custom) {
      const v = values[i]?.trim() ?? '';
      if (v === '') continue;
      const cell = alias(mapping, field, v);
      if (field === OPT_OUT_FIELD) optOut(cell, v, (message) => problem(field, message), fields, unreadable);
      else if (field === FORECAST_FIELD) forecast(cell, v, (message) => problem(field, message), fields, unreadable);
      else fields[field] = cell;
    }
    // A first or last name column of its own wins over splitting the full name.
    const contactName = text('contact_name');
    if (contactName !== null && fields['first_name'] === undefined && fields['last_name'] === undefined)
      Object.assign(fields, splitPersonName(contactName));
    const width = fieldCount ? widthProblem(values.length, line) : null;
    return {
      problems: width ? [width] : problems,
      sourceId,
      misshapen: width !== null,
      record: {
        file,
        line,
        sourceId: sourceId ?? '',
        name: text('name'),
        email: firstEmail(text('email'), line, problems),
        phone: text('phone'),
        company: text('company'),
        owner: text('owner'),
        value,
        currency: currency?.code ?? null,
        currencyFrom: currency?.from ?? null,
        product: text('product'),
        territory: text('territory'),
        source: text('source'),
        // The mapping's pipeline is for every record; a pipeline column only without one.
        pipeline: mapping.pipeline ?? text('pipeline'),
        stage: text('stage'),
        status,
        createdAt: dates.created_at,
        closedAt: dates.closed_at ?? dates.won_at ?? dates.lost_at,
        expectedClose: dates.expected_close,
        closeReason: text('close_reason'),
        lastStageChange: dates.last_stage_change,
        stageDates: enteredStages,
        fields,
        unreadable,
      },
    };
  }

  /**
   * A person with several addresses (Pipedrive writes `a@x.example, b@y.example` in one cell): the
   * first is the lead's, with a warning, rather than the whole deal refused as "not an email address".
   */
  function firstEmail(cell: string | null, line: number, problems: ImportProblem[]): string | null {
    if (cell === null) return null;
    const email = cell.toLowerCase();
    if (!/[,;]/.test(email)) return email;
    const all = email
      .split(/[,;]/)
      .map((a) => a.trim())
      .filter((a) => a !== '');
    if (all.length < 2 || !all.every(isEmailAddress)) return email;
    problems.push({
      file,
      line,
      column: mapping.columns.email ?? 'email',
      message: `${all.length} addresses: the first, ${all[0]}, is the lead's email; the others are not imported`,
      severity: 'warning',
    });
    return all[0] ?? null;
  }

  /** Notes what an amount tells of its column's separators; whether it is ambiguous. */
  function noteAmount(text: string, readsAsMapped: boolean, line: number): boolean {
    if (evidence === null) return false;
    // Per row only a regular expression, once each kind of evidence is in: an amount that reads as
    // mapped can then only add an ambiguity, one that does not only what the first one said.
    if (
      readsAsMapped ? evidence.asMappedNumber !== null && !ambiguousShape.test(text) : evidence.swappedNumber !== null
    )
      return false;
    const reading = amountReading(text, mapping.numbers);
    if (reading === 'plain' || reading === 'both' || reading === 'neither') return false;
    const sample = { line, column: valueColumn, text };
    if (reading === 'ambiguous') evidence.ambiguousNumber ??= sample;
    else if (reading === 'as-mapped') evidence.asMappedNumber ??= sample;
    else evidence.swappedNumber ??= sample;
    return reading === 'ambiguous';
  }

  /** A date that does not read, but would with day and month swapped: evidence of the file's order. */
  function noteSwappedDate(text: string, line: number, column: string): void {
    if (evidence === null || swappedFormats === null || evidence.swappedDate !== null) return;
    if (parseDate(text, swappedFormats, zoneOf, zone).ok) evidence.swappedDate = { line, column, text };
  }

  /**
   * A row of another width than the header: a truncated export, or an unquoted delimiter inside a
   * value (`1,500`) that moves every later cell one column on. Said once, instead of the errors of
   * each shifted cell.
   */
  function widthProblem(fields: number, line: number): ImportProblem | null {
    if (fields === header.length) return null;
    const why =
      fields > header.length
        ? `: a value holding the delimiter "${mapping.delimiter}" must be in double quotes`
        : ': the row is cut short';
    return {
      file,
      line,
      column: null,
      message: `the row has ${fields} fields, the header has ${header.length}${why}`,
      severity: 'error',
    };
  }

  /**
   * The value's currency: the currency column, else a code in the amount (`USD 12,500.00`), else
   * the mapping's `currency`, else a sign in the amount ($, €, £, ¥); null means the organisation's.
   * A column and a code that disagree are an error: which one is right is for the user to say.
   */
  function currencyOf(
    column: string | null,
    code: string | null,
    sign: string | null,
    rawValue: string | null,
    problem: (field: MappedField, message: string) => void,
    unreadable: Set<string>,
  ): { code: string; from: 'currency' | 'value' | null } | null {
    if (column !== null && !/^[A-Za-z]{3}$/.test(column)) {
      problem('currency', `"${column}" is not a currency code (three letters such as EUR or USD)`);
      unreadable.add('currency');
      return null;
    }
    const named = column?.toUpperCase() ?? null;
    if (named !== null && code !== null && named !== code) {
      problem('value', `"${rawValue}" is in ${code}, but the currency column says ${named}`);
      unreadable.add('currency');
      return null;
    }
    if (named !== null) return { code: named, from: 'currency' };
    if (code !== null) return { code, from: 'value' };
    if (mapping.currency !== undefined) return { code: mapping.currency, from: null };
    return sign === null ? null : { code: sign, from: 'value' };
  }

  return {
    headerProblems,
    mapRow,
    isFooter: (values) => footers.some((f) => f.test(values[0]?.trim() ?? '')),
    stageDateColumns: stageDates,
  };
}

/**
 * The opt-out is stored as the yes or no it spells (`Yes`, `TRUE`, `1`: true), as decide() stores
 * it, so conditions and every reader agree. A word that spells neither (`Subscribed`, a status from
 * another system) is an error naming it, not a silent opt-out: consent is never guessed.
 */
function optOut(
  cell: string | null,
  written: string,
  problem: (message: string) => void,
  fields: Fields,
  unreadable: Set<string>,
): void {
  const yes = optOutValue(cell);
  if (yes === undefined) {
    problem(
      `"${written}" is neither yes nor no: ${OPT_OUT_FIELD} must be true or false (yes/no, 1/0, on/off; ` +
        `the mapping's aliases can translate other words)`,
    );
    unreadable.add(OPT_OUT_FIELD);
  } else if (yes !== null) fields[OPT_OUT_FIELD] = yes;
}

/**
 * The forecast category is stored as the category it spells (`Commit`, `Best case`), as decide()
 * stores it; another word would count as pipeline in every forecast, so it is an error naming it.
 */
function forecast(
  cell: string | null,
  written: string,
  problem: (message: string) => void,
  fields: Fields,
  unreadable: Set<string>,
): void {
  const category = forecastCategory(cell);
  if (category === undefined) {
    problem(
      `"${written}": ${FORECAST_FIELD} ${FORECAST_CATEGORY_PROBLEM} (the mapping's aliases can translate other words)`,
    );
    unreadable.add(FORECAST_FIELD);
  } else if (category !== null) fields[FORECAST_FIELD] = category;
}

function statusTable(mapping: Mapping): Map<string, ImportStatus> {
  const out = new Map<string, ImportStatus>();
  for (const s of ['open', 'won', 'lost'] as const)
    for (const v of mapping.status_values[s]) out.set(v.toLowerCase(), s);
  return out;
}

function alias(mapping: Mapping, field: string, v: string | null): string | null {
  if (v === null) return null;
  return mapping.aliases[field]?.[v] ?? v;
}
