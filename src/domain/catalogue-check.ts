import type { Condition, FieldTest, Process } from './process-schema.js';
import {
  builtInDeclarationProblem,
  builtInField,
  fieldCatalogue,
  selectOption,
  TEMPLATE_NAMES,
  didYouMean,
  valueProblem,
  type CatalogueField,
} from './field-catalogue.js';

type Path = (string | number)[];

export interface CatalogueProblem {
  path: Path;
  message: string;
}

/**
 * With a field catalogue, every field the process itself names must be in it: a goal on
 * `decison_maker` would never be met, a `set` of a select to a value not among its options would
 * write what no form offers. Nothing is checked for a process without `fields:`.
 */
export function checkCatalogue(p: Process): CatalogueProblem[] {
  const catalogue = fieldCatalogue(p);
  if (catalogue === null || p.fields === undefined) return [];
  const out: CatalogueProblem[] = [];
  const byKey = new Map(catalogue.map((f) => [f.key, f]));
  const keys = [...byKey.keys()];
  const seen = new Set<string>();
  p.fields.forEach((f, i) => {
    if (seen.has(f.key)) out.push({ path: ['fields', i, 'key'], message: `field "${f.key}" is declared twice` });
    seen.add(f.key);
    const builtIn = builtInDeclarationProblem(f.key, f.type);
    if (builtIn) out.push({ path: ['fields', i, 'type'], message: builtIn });
  });

  const named = (key: string, at: Path): CatalogueField | undefined => {
    const field = byKey.get(key);
    if (!field) out.push({ path: at, message: unknownField(key, keys) });
    return field;
  };
  const condition = (c: Condition, at: Path): void => {
    if ('all' in c) c.all.forEach((s, i) => condition(s, [...at, 'all', i]));
    else if ('any' in c) c.any.forEach((s, i) => condition(s, [...at, 'any', i]));
    else if ('field' in c) {
      const field = named(c.field, [...at, 'field']);
      if (field) typedTest(field, c, at, out);
    }
  };

  p.assignment.rules.forEach((r, i) => {
    if (r.when) condition(r.when, ['assignment', 'rules', i, 'when']);
  });
  p.assignment.reroute_on_change.forEach((f, i) => named(f, ['assignment', 'reroute_on_change', i]));
  p.pipelines.forEach((pl, pi) => {
    const at: Path = ['pipelines', pi];
    if (pl.entry) condition(pl.entry, [...at, 'entry']);
    const automations = (list: typeof pl.on_won, where: Path): void =>
      list.forEach((a, k) => {
        if (!('set' in a)) return;
        const field = named(a.set.field, [...where, k, 'set', 'field']);
        if (!field) return;
        if (a.set.after !== undefined && field.type !== 'date' && field.type !== 'text')
          out.push({
            path: [...where, k, 'set', 'after'],
            message: `after writes a date, and ${field.key} is a ${field.type} field`,
          });
        const problem = a.set.value === undefined ? null : valueProblem(field, a.set.value);
        if (problem) out.push({ path: [...where, k, 'set', 'value'], message: `${field.key} ${problem}` });
      });
    automations(pl.on_won, [...at, 'on_won']);
    automations(pl.on_lost, [...at, 'on_lost']);
    pl.stages.forEach((s, si) => {
      const sat: Path = [...at, 'stages', si];
      if (s.goal) condition(s.goal, [...sat, 'goal']);
      s.required_fields.forEach((f, i) => named(f, [...sat, 'required_fields', i]));
      automations(s.on_enter, [...sat, 'on_enter']);
    });
  });
  for (const [id, t] of Object.entries(p.templates))
    for (const part of ['subject', 'body'] as const)
      for (const name of placeholders(t[part]))
        if (!TEMPLATE_NAMES.includes(name) && !byKey.has(name))
          out.push({
            path: ['templates', id, part],
            message: `{{${name}}}: ${unknownField(name, keys)}`,
          });
  return out;
}

/** The operators that compare numbers (conditions.ts reads the value with Number()). */
const NUMERIC_OPS = ['gt', 'gte', 'lt', 'lte'] as const;

/**
 * A test that can never hold for the field's type: `gt: 1000` on a boolean, a select or a date
 * (the engine compares numbers, and those are none), `eq: lots` on a number, `eq: yes` on a
 * boolean (stored as true or false), or a value that is not among a select's options.
 */
function typedTest(field: CatalogueField, t: FieldTest, at: Path, out: CatalogueProblem[]): void {
  const numeric = field.type === 'number' || field.type === 'money';
  for (const op of NUMERIC_OPS)
    if (t[op] !== undefined && !numeric)
      out.push({
        path: [...at, op],
        message: `${op} compares numbers, and ${field.key} is a ${field.type} field: the test never holds`,
      });
  const compared: [string, (string | number | boolean)[]][] = [
    ['eq', t.eq === undefined ? [] : [t.eq]],
    ['ne', t.ne === undefined ? [] : [t.ne]],
    ['in', t.in ?? []],
  ];
  for (const [op, values] of compared)
    values.forEach((v, i) => {
      const problem = comparedValueProblem(field, v);
      if (problem) out.push({ path: op === 'in' ? [...at, op, i] : [...at, op], message: problem });
    });
}

function comparedValueProblem(field: CatalogueField, v: string | number | boolean): string | null {
  switch (field.type) {
    case 'select':
      return selectOption(field, typeof v === 'string' ? v : String(v)) === undefined
        ? `${JSON.stringify(v)} is not an option of ${field.key}: ${(field.options ?? []).join(', ')}`
        : null;
    case 'number':
    case 'money':
      // A lead keeps a number as a number, which equals no text ("40" included).
      return typeof v === 'number'
        ? null
        : `${field.key} is a ${field.type} field: compare it with a number, not ${JSON.stringify(v)}`;
    case 'boolean':
      return typeof v === 'boolean'
        ? null
        : `${field.key} is a boolean field: compare it with true or false, not ${JSON.stringify(v)}`;
    default: {
      if (typeof v === 'boolean') return `${field.key} is a ${field.type} field: compare it with text, not ${v}`;
      const problem = valueProblem(field, v);
      return problem ? `${field.key} ${problem}` : null;
    }
  }
}

/**
 * Without a catalogue, the built-in fields still have types the engine keeps them in (value is a
 * number, expected_close a date): a condition that can never hold on them is refused too.
 */
export function checkBuiltInConditions(p: Process): CatalogueProblem[] {
  if (p.fields !== undefined) return []; // checkCatalogue covers every field then
  const out: CatalogueProblem[] = [];
  const condition = (c: Condition, at: Path): void => {
    if ('all' in c) c.all.forEach((s, i) => condition(s, [...at, 'all', i]));
    else if ('any' in c) c.any.forEach((s, i) => condition(s, [...at, 'any', i]));
    else if ('field' in c) {
      const b = builtInField(c.field);
      if (b) typedTest({ ...b, builtIn: true }, c, at, out);
    }
  };
  forEachCondition(p, condition);
  return out;
}

function forEachCondition(p: Process, visit: (c: Condition, at: Path) => void): void {
  p.assignment.rules.forEach((r, i) => {
    if (r.when) visit(r.when, ['assignment', 'rules', i, 'when']);
  });
  p.pipelines.forEach((pl, pi) => {
    if (pl.entry) visit(pl.entry, ['pipelines', pi, 'entry']);
    pl.stages.forEach((s, si) => {
      if (s.goal) visit(s.goal, ['pipelines', pi, 'stages', si, 'goal']);
    });
  });
}

function unknownField(key: string, keys: readonly string[]): string {
  return `unknown field "${key}"${didYouMean(key, keys)}: declare it under fields (or fix its name)`;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** The names a template's placeholders read; a default after a bar (`{{first_name | there}}`) is not a name. */
function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => (m[1] ?? '').split('|')[0]?.trim() ?? '');
}
