import { DateTime } from 'luxon';
import { z } from 'zod';

/** The process file's shape. Snake_case keys, because people write it by hand in YAML. */

const id = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_"');
const DATE_SHAPE = /^\d{4}-\d{2}-\d{2}$/;
const dateExample = (d: unknown): string =>
  `must be a date such as 2026-12-24${typeof d === 'string' ? `, not "${d}"` : ''}`;
/**
 * A calendar date that exists: 2026-02-30 would match by string and then never apply. The shape
 * check aborts, so the existence check never sees "next monday"; luxon says invalid where
 * `new Date(...).toISOString()` throws, which took the whole validation down with no path.
 */
const localDate = z
  .string({ error: (issue) => dateExample(issue.input) })
  .refine((d) => DATE_SHAPE.test(d), { error: (issue) => dateExample(issue.input), abort: true })
  .refine((d) => DateTime.fromISO(d, { zone: 'utc' }).toISODate() === d, 'is not a date that exists');
const CLOCK_TIME = /^([01]\d|2[0-3]):[0-5]\d$/;
const clockTime = z.string().regex(CLOCK_TIME, 'must be a time HH:MM');
const scalar = z.union([z.string(), z.number(), z.boolean()]);

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A mapping told by which of `kinds`' keys it holds and parsed by that kind's schema alone, with
 * its defaults (or one of `words`, as written). A z.union would report any mistake inside one kind
 * as "Invalid input" at the mapping: neither the key nor the value that is wrong, nor the kinds there are.
 */
function oneKindOf<K extends Record<string, z.ZodType>, W extends string = never>(
  what: string,
  kinds: K,
  words: readonly W[] = [],
) {
  const names = Object.keys(kinds);
  const isWord = (v: unknown): v is W => words.some((w) => w === v);
  const expected = [...words, `a mapping with one of ${names.join(', ')}`].join(' or ');
  return z
    .custom<W | Record<string, unknown>>((v) => isWord(v) || isMapping(v), `must be ${expected}`)
    .transform((v, ctx): W | z.output<K[keyof K]> => {
      if (isWord(v)) return v;
      const present = names.filter((k) => k in v);
      const [kind, second] = present;
      if (kind === undefined || second !== undefined) {
        ctx.addIssue({ code: 'custom', message: kindProblem(what, names, Object.keys(v), present) });
        return z.NEVER;
      }
      const parsed = (kinds[kind] as K[keyof K]).safeParse(v);
      if (parsed.success) return parsed.data as z.output<K[keyof K]>;
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    });
}

/** Why a mapping is no known kind: an unknown key (and the likely one meant), none, or two kinds at once. */
function kindProblem(what: string, names: string[], keys: string[], present: string[]): string {
  if (present.length > 1)
    return `has both ${present.slice(0, 2).join(' and ')}: one ${what} per entry (write each as its own list item)`;
  const known = `${what}s are ${names.join(', ')}`;
  if (keys.length === 0) return `is empty: ${known}`;
  const unknown = keys.map((k) => `"${k}"`).join(', ');
  const meant = keys.map((k) => closestName(k, names)).find((n) => n !== undefined);
  return `unknown ${what} ${unknown}${meant ? ` (did you mean ${meant}?)` : ''}: ${known}`;
}

/** A name within two edits of `typed`, the usual size of a typo ("emial", "statuz", "usr"). */
export function closestName(typed: string, names: string[]): string | undefined {
  return names.find((n) => editDistance(typed, n) <= Math.min(2, n.length - 1));
}

/** Levenshtein distance: how many one-letter edits turn `a` into `b` (for did-you-mean hints). */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min(substitute, (row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1));
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

const FIELD_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'set'] as const;

/** A condition on lead fields; used by entry criteria, assignment rules and goals. */
export const fieldTestSchema = z
  .object({
    field: z.string().min(1),
    eq: scalar.optional(),
    ne: scalar.optional(),
    gt: z.number().optional(),
    gte: z.number().optional(),
    lt: z.number().optional(),
    lte: z.number().optional(),
    in: z.array(scalar).optional(),
    set: z.boolean().optional(),
  })
  .strict()
  .refine((t) => FIELD_OPERATORS.filter((op) => t[op] !== undefined).length === 1, {
    // Without one, the test would be true for every lead: a goal met at once, a rule always matching.
    message: `needs exactly one of ${['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'set'].join(', ')}`,
  });

export type FieldTest = z.infer<typeof fieldTestSchema>;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | FieldTest
  | { task_done: string }
  | { activity: string; min?: number }
  | { signal: string };

/**
 * Each kind of condition is told by its key, and parsed by its own schema: a union would report
 * any mistake inside one as "Invalid input" at the condition, not at the key that is wrong.
 */
const conditionKinds: Record<string, () => z.ZodType> = {
  all: () => z.object({ all: z.array(conditionSchema).min(1) }).strict(),
  any: () => z.object({ any: z.array(conditionSchema).min(1) }).strict(),
  task_done: () => z.object({ task_done: id }).strict(),
  activity: () => z.object({ activity: z.string().min(1), min: z.number().int().positive().optional() }).strict(),
  signal: () => z.object({ signal: z.string().min(1) }).strict(),
  field: () => fieldTestSchema,
};

export const conditionSchema: z.ZodType<Condition> = z
  .custom<Condition>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'must be a condition (a mapping)')
  .superRefine((v, ctx) => {
    const kind = Object.keys(conditionKinds).find((k) => k in v);
    if (!kind) {
      ctx.addIssue({ code: 'custom', message: `needs one of ${Object.keys(conditionKinds).join(', ')}` });
      return;
    }
    const parsed = conditionKinds[kind]?.().safeParse(v);
    for (const issue of parsed?.error?.issues ?? [])
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

const workingHoursSchema = z
  .object({
    days: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
    start: clockTime.default('09:00'),
    end: clockTime.default('17:00'),
  })
  .strict()
  // Compared only when both are times: zod runs this refinement even when `start` or `end` failed,
  // and "end must be after start" would then send the author to a field that may be right.
  .refine((h) => !CLOCK_TIME.test(h.start) || !CLOCK_TIME.test(h.end) || h.start < h.end, {
    message: 'end must be after start (shifts past midnight are not supported)',
    path: ['end'],
  });

const periodSchema = z.object({ from: localDate, to: localDate }).strict();

const userSchema = z
  .object({
    id,
    name: z.string().min(1),
    email: z.email().optional(),
    timezone: z.string().optional(),
    territories: z.array(z.string()).default([]),
    products: z.array(z.string()).default([]),
    tier: z.string().optional(),
    weight: z.number().positive().default(1),
    active: z.boolean().default(true),
    working_hours: workingHoursSchema.optional(),
    out_of_office: z.array(periodSchema).default([]),
    capacity: z
      .object({
        per_day: z.number().int().positive().optional(),
        per_week: z.number().int().positive().optional(),
        max_open: z.number().int().positive().optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const teamSchema = z
  .object({
    id,
    name: z.string().min(1),
    manager: id.optional(),
    members: z.array(id).min(1),
  })
  .strict();

export const strategySchema = z.enum(['round_robin', 'weighted', 'least_open']);

/**
 * A pool picks reps by their own attributes: those whose territories include the lead's
 * territory, whose product lines include its product, of the given tiers, optionally in a team.
 */
const poolSchema = z
  .object({
    territory: z.boolean().default(false),
    product: z.boolean().default(false),
    tier: z.array(z.string(), { error: 'must be a list of tiers, such as [closer]' }).optional(),
    team: id.optional(),
  })
  .strict();
export type Pool = z.infer<typeof poolSchema>;

const targetSchema = oneKindOf('target', {
  user: z.object({ user: id }).strict(),
  team: z.object({ team: id, strategy: strategySchema.default('round_robin') }).strict(),
  pool: z.object({ pool: poolSchema, strategy: strategySchema.default('round_robin') }).strict(),
});
export type AssignmentTarget = z.infer<typeof targetSchema>;

const assignmentRuleSchema = z
  .object({
    id,
    when: conditionSchema.optional(),
    to: targetSchema,
    fallback: z.array(targetSchema).default([]),
  })
  .strict();

const assignmentSchema = z
  .object({
    rules: z.array(assignmentRuleSchema).default([]),
    default_owner: id,
    reroute_on_change: z.array(z.string()).default([]),
    /**
     * A new lead whose contact (email) already has an open lead: `owner` gives it to that lead's
     * owner (if active and not away), before any rule, so one person is not worked by two reps;
     * `rules` routes it like any other.
     */
    same_contact: z.enum(['rules', 'owner']).default('rules'),
    /**
     * A lead a rep creates herself (met at a fair, a referral): `creator` makes it hers, as HubSpot,
     * Pipedrive and Salesforce do, with no cap holding it back or charged for it (caps ration what
     * the rules hand out); `rules` routes it like any other. The default keeps what a process file
     * written before the setting meant: an organisation that pools every lead opts in.
     */
    self_sourced: z.enum(['rules', 'creator']).default('rules'),
  })
  .strict();

/** Due time relative to stage entry: exactly one of days, business_days, hours. */
const dueSchema = z
  .object({
    days: z.number().int().min(0).optional(),
    business_days: z.number().int().min(0).optional(),
    hours: z.number().positive().optional(),
    at: clockTime.optional(),
  })
  .strict()
  .refine((d) => [d.days, d.business_days, d.hours].filter((v) => v !== undefined).length === 1, {
    message: 'needs exactly one of days, business_days, hours',
  })
  .refine((d) => d.at === undefined || d.hours === undefined, { message: '"at" goes with days, not hours' });
export type DueSpec = z.infer<typeof dueSchema>;

const taskAssigneeSchema = oneKindOf(
  'assignee',
  { user: z.object({ user: id }).strict(), team: z.object({ team: id }).strict() },
  ['owner'],
);
export type TaskAssignee = z.infer<typeof taskAssigneeSchema>;

/** What a task asks for; a task a person adds takes one of these too. */
export const TASK_KINDS = ['call', 'email', 'meeting', 'demo', 'todo'] as const;

const taskTemplateSchema = z
  .object({
    id,
    title: z.string().min(1),
    kind: z.enum(TASK_KINDS).default('todo'),
    due: dueSchema,
    assignee: taskAssigneeSchema.default('owner'),
  })
  .strict();
export type TaskTemplate = z.infer<typeof taskTemplateSchema>;

/** A date relative to the event that runs a `set`: exactly one of days, business_days (the organisation's calendar). */
const dateAfterSchema = z
  .object({
    days: z.number().int().min(0).optional(),
    business_days: z.number().int().min(0).optional(),
  })
  .strict()
  .refine((d) => (d.days === undefined) !== (d.business_days === undefined), {
    message: 'needs exactly one of days, business_days',
  });
export type DateAfter = z.infer<typeof dateAfterSchema>;

/**
 * Writes a field: `value` as written (null clears it), or `after`, the organisation's date that
 * many (business) days after the event, as in "expected close 30 days after entering Proposal".
 * `if_empty` leaves a field someone already filled in alone.
 */
const setSchema = z
  .object({
    field: z.string().min(1),
    value: z.union([scalar, z.null()]).optional(),
    after: dateAfterSchema.optional(),
    // Optional, not defaulted: a stored version without it must compare equal to the same file re-applied.
    if_empty: z.boolean().optional(),
  })
  .strict()
  .refine((s) => (s.value === undefined) !== (s.after === undefined), {
    message: 'needs exactly one of value, after',
  });
export type SetAutomation = z.infer<typeof setSchema>;

/** A webhook posts lead data: only to a web address, not ftp:, file: or a custom scheme. */
const webhookUrl = z.url({ protocol: /^https?$/, error: 'must be an http or https URL' });

export const automationSchema = oneKindOf('automation', {
  assign: z.object({ assign: z.literal('rules') }).strict(),
  set: z.object({ set: setSchema }).strict(),
  status: z.object({ status: z.enum(['won', 'lost']), reason: z.string().optional() }).strict(),
  email: z
    .object({
      email: z.object({ template: id, to: z.enum(['contact', 'owner', 'manager']).default('contact') }).strict(),
    })
    .strict(),
  subscribe: z
    .object({ subscribe: z.object({ list: z.string().min(1), tags: z.array(z.string()).default([]) }).strict() })
    .strict(),
  unsubscribe: z.object({ unsubscribe: z.object({ list: z.string().min(1) }).strict() }).strict(),
  congratulate: z.object({ congratulate: z.enum(['owner', 'manager']), message: z.string().optional() }).strict(),
  webhook: z.object({ webhook: z.object({ url: webhookUrl }).strict() }).strict(),
  enrich: z.object({ enrich: z.literal(true) }).strict(),
  move: z.object({ move: id }).strict(),
});
export type Automation = z.infer<typeof automationSchema>;

const stageSchema = z
  .object({
    id,
    name: z.string().min(1),
    guidance: z.string().default(''),
    goal: conditionSchema.optional(),
    tasks: z.array(taskTemplateSchema).default([]),
    probability: z.number().min(0).max(1).optional(),
    stall_after_days: z.number().positive().optional(),
    ask: z.boolean().default(false),
    strict: z.boolean().default(false),
    required_fields: z.array(z.string()).default([]),
    on_enter: z.array(automationSchema).default([]),
  })
  .strict();
export type Stage = z.infer<typeof stageSchema>;

const pipelineSchema = z
  .object({
    id,
    name: z.string().min(1),
    entry: conditionSchema.optional(),
    default: z.boolean().default(false),
    stages: z.array(stageSchema).min(1),
    on_won: z.array(automationSchema).default([]),
    on_lost: z.array(automationSchema).default([]),
  })
  .strict();
export type Pipeline = z.infer<typeof pipelineSchema>;

const emailTemplateSchema = z
  .object({
    subject: z.string().min(1),
    body: z.string().min(1),
    marketing: z.boolean().default(false),
  })
  .strict();

/**
 * The kinds of value a declared lead field takes (the field catalogue, `fields:`): what a form
 * shows and what a write is checked against. `money` is a number in the organisation's currency.
 */
export const FIELD_TYPES = ['text', 'number', 'money', 'date', 'boolean', 'select', 'email', 'url'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** A field name as conditions, forms and query parameters write it. */
export const FIELD_KEY = /^[a-z][a-z0-9_]*$/;

/** One field of the catalogue: what a front end needs to build a form and a filter for it. */
const fieldDefinitionSchema = z
  .object({
    key: z.string().regex(FIELD_KEY, 'must be lowercase letters, digits or "_", starting with a letter'),
    label: z.string().min(1),
    type: z.enum(FIELD_TYPES),
    options: z.array(z.string().trim().min(1)).min(1).optional(),
    help: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.type === 'select' && f.options === undefined)
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'a select field needs its options, such as [a, b]' });
    if (f.type !== 'select' && f.options !== undefined)
      ctx.addIssue({ code: 'custom', path: ['options'], message: `only a select field takes options, not ${f.type}` });
    const seen = new Set<string>();
    (f.options ?? []).forEach((o, i) => {
      if (seen.has(o.toLowerCase()))
        ctx.addIssue({ code: 'custom', path: ['options', i], message: `option "${o}" is listed twice` });
      seen.add(o.toLowerCase());
    });
  });
export type FieldDefinition = z.infer<typeof fieldDefinitionSchema>;

export const processSchema = z
  .object({
    name: z.string().min(1),
    organisation: z
      .object({
        timezone: z.string().default('UTC'),
        currency: z.string().length(3).default('EUR'),
        workweek: z.array(z.number().int().min(1).max(7)).min(1).default([1, 2, 3, 4, 5]),
        holidays: z.array(localDate).default([]),
        overdue_after_hours: z.number().min(0).default(24),
        default_stall_days: z.number().positive().default(14),
      })
      .strict()
      // Every key has its default, so the block may be left out.
      .prefault({}),
    users: z.array(userSchema).min(1),
    teams: z.array(teamSchema).default([]),
    assignment: assignmentSchema,
    pipelines: z.array(pipelineSchema).min(1),
    templates: z.record(id, emailTemplateSchema).default({}),
    /**
     * The field catalogue. Left out, a lead's fields are an open map (as before catalogues);
     * given, even empty, only the built-in fields and these may be written, each checked by its
     * type. Optional, not defaulted: a stored version without it must compare equal to the same file re-applied.
     */
    fields: z.array(fieldDefinitionSchema).optional(),
  })
  .strict();

export type Process = z.infer<typeof processSchema>;
export type User = Process['users'][number];
export type Team = Process['teams'][number];
export type AssignmentRule = Process['assignment']['rules'][number];
