import { IANAZone } from 'luxon';
import { z } from 'zod';

/**
 * How an export's columns become an ImportRecord. The generic format reads one from a YAML file;
 * the built-in formats (Pipedrive, HubSpot, Salesforce, Maven) are mappings shipped in code, and
 * a user's mapping file may refine them (stage names, aliases, date formats).
 */

const columnName = z.string().min(1);

/** An ISO 4217 code such as EUR or USD (written in any case, kept in capitals). */
export const currencyCode = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'must be a three-letter currency code such as EUR or USD')
  .transform((c) => c.toUpperCase());

export const mappingColumnsSchema = z
  .object({
    id: columnName,
    name: columnName,
    /** The contact's full name, split into the fields first_name and last_name (docs/import.md). */
    contact_name: columnName,
    email: columnName,
    phone: columnName,
    company: columnName,
    owner: columnName,
    value: columnName,
    /** The ISO code of the value's currency (Pipedrive's "Deal - Currency"). */
    currency: columnName,
    product: columnName,
    territory: columnName,
    source: columnName,
    pipeline: columnName,
    stage: columnName,
    status: columnName,
    created_at: columnName,
    closed_at: columnName,
    won_at: columnName,
    lost_at: columnName,
    expected_close: columnName,
    close_reason: columnName,
    last_stage_change: columnName,
  })
  .partial()
  .strict();

export type MappedField = keyof z.infer<typeof mappingColumnsSchema>;

export const mappingSchema = z
  .object({
    /** Names the system the file came from; with the record id it keys re-imports. */
    source: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, "-" or "_"'),
    /** Every record goes to this pipeline (otherwise a `pipeline` column, then the stage's pipeline). */
    pipeline: z.string().min(1).optional(),
    /** The currency of values whose row names none (no currency column, no code or sign in the amount). */
    currency: currencyCode.optional(),
    columns: mappingColumnsSchema.refine((c) => c.id !== undefined, 'must name the record id column (id)'),
    /** Columns a built-in format may do without; a user's mapping requires every column it names. */
    optional_columns: z.array(z.string()).default([]),
    /** Custom lead field -> column. */
    fields: z.record(z.string().min(1), columnName).default({}),
    /** Stage name -> the column holding when the deal entered it. */
    stage_dates: z.record(z.string().min(1), columnName).default({}),
    /** A pattern over column names whose first capture group names a stage (HubSpot's "Date entered …"). */
    stage_date_pattern: z.string().optional(),
    /** Field -> { value as exported: value to store } (e.g. product: { GTXPro: GTX Pro }). */
    aliases: z.record(z.string().min(1), z.record(z.string(), z.string())).default({}),
    /** Stage name as exported -> stage id, or `won` / `lost`. */
    stages: z.record(z.string(), z.string().min(1)).default({}),
    /** Status column values, compared without case. */
    status_values: z
      .object({
        open: z.array(z.string()).default(['open']),
        won: z.array(z.string()).default(['won', 'closed won']),
        lost: z.array(z.string()).default(['lost', 'closed lost']),
      })
      .strict()
      .default({ open: ['open'], won: ['won', 'closed won'], lost: ['lost', 'closed lost'] }),
    dates: z
      .object({
        /** Luxon format tokens (e.g. `dd/MM/yyyy`, `M/d/yyyy h:mm a`), or `iso`; tried in order. */
        formats: z.array(z.string().min(1)).min(1).default(['iso']),
        /** Time zone of dates without an offset; default the organisation's. */
        zone: z
          .string()
          .refine((zone) => IANAZone.isValidZone(zone), {
            error: (issue) =>
              `unknown time zone "${String(issue.input)}" (an IANA name such as Europe/Berlin or America/New_York)`,
          })
          .optional(),
      })
      .strict()
      .default({ formats: ['iso'] }),
    numbers: z
      .object({
        decimal: z.enum(['.', ',']).default('.'),
        /** Default: `.` with a decimal comma, `,` otherwise. */
        thousands: z.enum([',', '.', ' ', "'", '']).optional(),
      })
      .strict()
      .transform((n) => ({ decimal: n.decimal, thousands: n.thousands ?? (n.decimal === ',' ? '.' : ',') }))
      .refine((n) => n.decimal !== n.thousands, 'decimal and thousands separators must differ')
      .default({ decimal: '.', thousands: ',' }),
    /** A record whose first cell matches one of these patterns (and what follows) is not data. */
    footer: z.array(z.string()).default([]),
    /** The field separator: `;` for spreadsheets saved with a decimal comma, a tab for TSV. */
    delimiter: z.enum([',', ';', '\t', '|']).default(','),
  })
  .strict();

export type Mapping = z.infer<typeof mappingSchema>;
export type MappingInput = z.input<typeof mappingSchema>;

export function buildMapping(input: MappingInput): Mapping {
  return mappingSchema.parse(input);
}

/**
 * A user's mapping file over a built-in format, as written: no defaults filled in (they would
 * replace the format's own dates and numbers) and no record id column required (the format has one).
 */
export const refinementSchema = mappingSchema.extend({ columns: mappingColumnsSchema }).partial();
export type MappingRefinement = z.input<typeof refinementSchema>;

/** A user's mapping file over a built-in format: its tables add to (and win over) the format's. */
export function refineMapping(base: Mapping, extra: MappingRefinement): Mapping {
  return buildMapping({
    ...base,
    ...(extra.source ? { source: extra.source } : {}),
    ...(extra.pipeline ? { pipeline: extra.pipeline } : {}),
    ...(extra.currency ? { currency: extra.currency } : {}),
    ...(extra.stage_date_pattern ? { stage_date_pattern: extra.stage_date_pattern } : {}),
    columns: { ...base.columns, ...(extra.columns ?? {}) },
    optional_columns: [...base.optional_columns, ...(extra.optional_columns ?? [])],
    fields: { ...base.fields, ...(extra.fields ?? {}) },
    stage_dates: { ...base.stage_dates, ...(extra.stage_dates ?? {}) },
    aliases: mergeAliases(base.aliases, extra.aliases ?? {}),
    stages: { ...base.stages, ...(extra.stages ?? {}) },
    status_values: { ...base.status_values, ...(extra.status_values ?? {}) },
    dates: { ...base.dates, ...(extra.dates ?? {}) },
    // A decimal comma alone brings its own thousands separator rather than the format's.
    numbers: extra.numbers ? { decimal: base.numbers.decimal, ...extra.numbers } : base.numbers,
    footer: [...base.footer, ...(extra.footer ?? [])],
    delimiter: extra.delimiter ?? base.delimiter,
  });
}

function mergeAliases(
  a: Record<string, Record<string, string>>,
  b: Record<string, Record<string, string>>,
): Record<string, Record<string, string>> {
  const out = { ...a };
  for (const [field, table] of Object.entries(b)) out[field] = { ...(out[field] ?? {}), ...table };
  return out;
}
