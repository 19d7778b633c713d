import { isCloseDate } from './close-date.js';
import type { Fields, FieldValue } from './conditions.js';
import { textKey } from './conditions.js';
import { OPT_OUT_FIELD, optOutValue } from './consent.js';
import { isEmailAddress } from './events.js';
import { FORECAST_CATEGORIES, FORECAST_FIELD } from './forecast-category.js';
import { editDistance, type FieldType, type Process } from './process-schema.js';

/**
 * The field catalogue: every lead field a process knows, as a front end needs it for a form or a
 * filter (Pipedrive's dealFields, HubSpot's properties). The built-in fields are those Stageflow
 * itself reads or writes; the process file's `fields:` adds its own. A process without `fields:`
 * has no catalogue, and a lead's fields stay an open map.
 */

export interface CatalogueField {
  key: string;
  label: string;
  type: FieldType;
  options?: string[];
  help?: string;
  /** Read or written by Stageflow itself, whatever the process declares. */
  builtIn: boolean;
}

type BuiltIn = Omit<CatalogueField, 'builtIn'>;

const enrichment = (key: string, label: string, type: FieldType): BuiltIn => ({
  key,
  label,
  type,
  help: 'Written by the enrich automation',
});

/** What the engine, the reports, mail, routing and enrichment read or write, by name. */
export const BUILT_IN_FIELDS: readonly BuiltIn[] = [
  { key: 'name', label: 'Name', type: 'text', help: "The lead's name, as lists and mail show it" },
  { key: 'first_name', label: 'First name', type: 'text', help: "The contact's first name ({{first_name}} in mail)" },
  { key: 'last_name', label: 'Last name', type: 'text', help: "The contact's last name" },
  {
    key: 'email',
    label: 'Email',
    type: 'email',
    help: "The contact's address: mail, opt-outs and same-contact routing go by it",
  },
  { key: 'phone', label: 'Phone', type: 'text' },
  { key: 'company', label: 'Company', type: 'text' },
  {
    key: 'value',
    label: 'Value',
    type: 'money',
    help: "The deal's value in the organisation's currency (not negative); the reports sum it",
  },
  { key: 'expected_close', label: 'Expected close', type: 'date', help: 'The forecast counts the deal in its period' },
  {
    key: FORECAST_FIELD,
    label: 'Forecast category',
    type: 'select',
    options: [...FORECAST_CATEGORIES],
    help: 'The forecast report and its snapshots count the deal in this category',
  },
  {
    key: OPT_OUT_FIELD,
    label: 'Unsubscribed',
    type: 'boolean',
    help: 'The marketing opt-out: no marketing mail while true',
  },
  { key: 'source', label: 'Source', type: 'text', help: 'Where the lead came from; the reports group by it' },
  { key: 'territory', label: 'Territory', type: 'text', help: "Routing pools match it with users' territories" },
  { key: 'product', label: 'Product', type: 'text', help: "Routing pools match it with users' product lines" },
  // store/outbox-delivery.ts BOUNCED_FIELD (the domain imports nothing from the store).
  {
    key: 'email_bounced',
    label: 'Bounced address',
    type: 'email',
    help: 'The address that bounced for good; mail to it is cancelled until the address changes or this is cleared',
  },
  enrichment('enriched_at', 'Enriched at', 'date'),
  enrichment('email_domain', 'Email domain', 'text'),
  enrichment('email_free_provider', 'Free mail provider', 'boolean'),
  enrichment('email_disposable', 'Disposable address', 'boolean'),
  enrichment('email_domain_accepts_mail', 'Domain accepts mail', 'boolean'),
  enrichment('company_website', 'Company website', 'url'),
  enrichment('company_name', 'Company name', 'text'),
  enrichment('company_description', 'Company description', 'text'),
  enrichment('company_logo_url', 'Company logo', 'url'),
  ...['linkedin', 'twitter', 'facebook', 'instagram', 'youtube', 'github'].map((n) =>
    enrichment(`company_${n}_url`, `Company ${n === 'github' ? 'GitHub' : n[0]?.toUpperCase() + n.slice(1)}`, 'url'),
  ),
];

const BUILT_IN = new Map(BUILT_IN_FIELDS.map((f) => [f.key, f]));

export function builtInField(key: string): BuiltIn | undefined {
  return BUILT_IN.get(key);
}

/**
 * Placeholders mail templates fill from something other than a lead field
 * (integrations/mail/render.ts), so a template may use them whatever the catalogue says.
 */
export const TEMPLATE_NAMES: readonly string[] = ['unsubscribe_url', 'owner.name', 'owner.email', 'lead.id', 'stage'];

/**
 * The catalogue of a process: the built-in fields (a declaration of one gives its label, help
 * and, for a text field, its options as a select) and then the declared ones, in the file's
 * order. Null for a process without `fields:`, whose leads take any field.
 */
export function fieldCatalogue(p: Process): CatalogueField[] | null {
  if (p.fields === undefined) return null;
  // decide() asks for every written field: a process version is parsed once and never changed.
  const known = catalogues.get(p);
  if (known) return known;
  const made = makeCatalogue(p.fields);
  catalogues.set(p, made);
  return made;
}

const catalogues = new WeakMap<Process, CatalogueField[]>();

function makeCatalogue(fields: NonNullable<Process['fields']>): CatalogueField[] {
  const declared = new Map(fields.map((f) => [f.key, f]));
  const builtIns = BUILT_IN_FIELDS.map((b): CatalogueField => {
    const d = declared.get(b.key);
    return d ? { ...b, ...withoutUndefined(d), builtIn: true } : { ...b, builtIn: true };
  });
  const own = fields.filter((f) => !BUILT_IN.has(f.key)).map((f) => ({ ...withoutUndefined(f), builtIn: false }));
  return [...builtIns, ...own];
}

function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** One field's entry, or undefined when the process has a catalogue without it (or none at all). */
export function catalogueField(p: Process, key: string): CatalogueField | undefined {
  return fieldCatalogue(p)?.find((f) => f.key === key);
}

/**
 * Why a declaration of a built-in field cannot stand: a built-in keeps its type (the engine reads
 * it so), except that a text field may list its options as a select (territories, sources).
 */
export function builtInDeclarationProblem(key: string, type: FieldType): string | null {
  const b = BUILT_IN.get(key);
  if (!b || b.type === type || (b.type === 'text' && type === 'select')) return null;
  return `"${key}" is a built-in ${b.type} field: declare it as ${b.type}${b.type === 'text' ? ' or select' : ''}, or leave it out (it is in the catalogue anyway)`;
}

/** A problem with one field of a write, named by its key. */
export interface FieldProblem {
  field: string;
  message: string;
}

/**
 * What is wrong with writing `fields` under a process's catalogue: a field it does not know (with
 * the likely one meant), or a value not of the field's type. Nothing for a process without a
 * catalogue, and nothing for null, which clears a field. The built-ins' own rules (a value that is
 * not negative, an email address) are `fieldsSchema`'s, checked wherever a write is read.
 */
export function fieldWriteProblems(p: Process, fields: Fields): FieldProblem[] {
  const catalogue = fieldCatalogue(p);
  if (catalogue === null) return [];
  const byKey = new Map(catalogue.map((f) => [f.key, f]));
  const problems: FieldProblem[] = [];
  for (const [key, value] of Object.entries(fields)) {
    // Removing a field is never a harmful typo, and is how a lead drops one the catalogue no longer
    // declares (held from before the catalogue, or from an import's extra column).
    if (value === null) continue;
    const field = byKey.get(key);
    if (!field) {
      problems.push({ field: key, message: unknownFieldMessage(key, [...byKey.keys()]) });
      continue;
    }
    const problem = valueProblem(field, value);
    if (problem) problems.push({ field: key, message: problem });
  }
  return problems;
}

/** `not a field of the process (did you mean decision_maker?)`, and where fields are declared. */
export function unknownFieldMessage(key: string, known: readonly string[]): string {
  return `not a field of the process${didYouMean(key, known)}: the process file's fields section lists those a lead may have`;
}

/** ` (did you mean decision_maker?)` for a close misspelling, else nothing. */
export function didYouMean(key: string, known: readonly string[]): string {
  const meant = closestField(key, known);
  return meant ? ` (did you mean ${meant}?)` : '';
}

/** A known field within two edits of `typed`, or one that differs only in letter case ("Value"). */
export function closestField(typed: string, known: readonly string[]): string | undefined {
  const lower = typed.toLowerCase();
  return (
    known.find((k) => k === lower) ??
    known.find((k) => editDistance(lower, k) <= Math.min(2, Math.max(1, k.length - 2)))
  );
}

/** Why `v` is no value of `field`; null when it is one (or null or '', which clear it). */
export function valueProblem(field: CatalogueField, v: FieldValue): string | null {
  if (v === null || v === '') return null;
  switch (field.type) {
    case 'text':
      return typeof v === 'boolean' ? `must be text, not ${v}` : null;
    case 'number':
    case 'money':
      return Number.isFinite(numberOf(v)) ? null : `must be a number, not ${JSON.stringify(v)}`;
    case 'date':
      return typeof v === 'string' && isCloseDate(v)
        ? null
        : `must be a date such as 2027-03-31, not ${JSON.stringify(v)}`;
    case 'boolean':
      return optOutValue(v) === undefined ? `must be true or false, not ${JSON.stringify(v)}` : null;
    case 'email':
      return typeof v === 'string' && isEmailAddress(v) ? null : `must be an email address, not ${JSON.stringify(v)}`;
    case 'url':
      return typeof v === 'string' && isWebAddress(v) ? null : `must be an http or https URL, not ${JSON.stringify(v)}`;
    case 'select':
      return selectOption(field, v) === undefined
        ? `must be one of ${(field.options ?? []).join(', ')}, not ${JSON.stringify(v)}`
        : null;
  }
}

function numberOf(v: string | number | boolean): number {
  if (typeof v === 'number') return v;
  return typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}

function isWebAddress(v: string): boolean {
  try {
    const url = new URL(v);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** The option a select value spells, in the catalogue's spelling (letter case and spaces aside). */
export function selectOption(field: CatalogueField, v: FieldValue): string | undefined {
  if (typeof v !== 'string') return undefined;
  return field.options?.find((o) => textKey(o) === textKey(v));
}

/**
 * A declared field's value as the lead keeps it: a select in its option's spelling, a number
 * or a boolean as one (a form posts "40" and "yes"). Anything else as written.
 */
export function storedValue(field: CatalogueField | undefined, v: FieldValue): FieldValue {
  if (!field || v === null || v === '') return v;
  if (field.type === 'select') return selectOption(field, v) ?? v;
  // The other built-ins are kept as the engine's own rules keep them (decide's `stored`).
  if (field.builtIn) return v;
  if (field.type === 'number' || field.type === 'money') {
    const n = numberOf(v);
    return Number.isFinite(n) ? n : v;
  }
  if (field.type === 'boolean') return optOutValue(v) ?? v;
  return v;
}

/**
 * A filter's value (`field.seats=40`, always text in a query) as the JSON text a lead holding it
 * keeps, or why it is no value of the field: a number as a number, yes/no as a boolean, a select
 * in its option's spelling. Text is compared without regard to letter case, as conditions do.
 */
export function filterValue(
  field: CatalogueField,
  text: string,
): { json: string; caseless: boolean } | { problem: string } {
  const problem = valueProblem(field, text);
  if (problem !== null || text === '') return { problem: problem ?? 'give a value to compare with' };
  switch (field.type) {
    case 'number':
    case 'money':
      return { json: JSON.stringify(numberOf(text)), caseless: false };
    case 'boolean':
      return { json: JSON.stringify(optOutValue(text) ?? false), caseless: false };
    case 'select':
      return { json: JSON.stringify(selectOption(field, text) ?? text), caseless: true };
    default:
      return { json: JSON.stringify(text), caseless: true };
  }
}
