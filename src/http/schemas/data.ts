import { z } from 'zod';
import { isoTime, jsonObject, pageOf } from './common.js';

/** Data in and out: accounts, contacts, a contact's export and erasure, imports, exports. */

export const companyAccountSchema = z
  .object({
    id: z
      .string()
      .describe("The imported record's id (`maven:Acme Corporation`), else `company:` and the normalised name"),
    name: z.string().describe('As the imported record, else the leads, spell it'),
    leads: z.number().int().describe('Leads of this company within your reach'),
    openLeads: z.number().int(),
    wonLeads: z.number().int(),
    lostLeads: z.number().int(),
    pipelineValue: z.number().describe("The open leads' value, in major units of the organisation's currency"),
    wonValue: z.number().describe("The won leads' value, in major units"),
    owners: z
      .array(z.object({ id: z.string(), leads: z.number().int() }))
      .describe('Who owns those leads, most leads first'),
    lastActivityAt: isoTime.nullable().describe('The latest change to any of those leads'),
    sector: z.string().nullable(),
    yearEstablished: z.number().nullable(),
    revenue: z.number().nullable().describe('In major units'),
    employees: z.number().nullable(),
    location: z.string().nullable(),
    parent: z.string().nullable(),
    importedFrom: z.string().nullable().describe('The import that brought the company record, if any'),
    updatedAt: isoTime.nullable().describe('When an import last wrote the company record'),
  })
  .meta({ id: 'CompanyAccount' });

export const accountListSchema = pageOf(companyAccountSchema);

export const contactListSchema = pageOf(
  z
    .object({
      email: z.string(),
      name: z.string().nullable(),
      phone: z.string().nullable(),
      company: z.string().nullable(),
      leads: z.number().int(),
      openLeads: z.number().int(),
      lastActivityAt: isoTime,
    })
    .meta({ id: 'Contact' }),
);

export const contactExportSchema = z.object({
  format: z.string().describe('stageflow.contact-export/1'),
  email: z.string(),
  exported_at: isoTime,
  suppressed: z.boolean().describe('The address is on the erasure list'),
  opted_out: z
    .object({ at: isoTime, source: z.string() })
    .nullable()
    .describe(
      'The address opted out of marketing mail (remembered after its leads): since when, and who asked ' +
        "('unsubscribe link', 'mailchimp', 'user katrin', …); null if not",
    ),
  leads: z
    .array(jsonObject)
    .describe(
      'Each lead as `stageflow export leads` writes it (id, name, email, …, fields), with lists and every row ' +
        'recorded about it: stays, tasks, activities, events, field_history, owner_history, run_log, outbox',
    ),
  earlier_leads: z
    .array(jsonObject)
    .describe(
      'Leads whose email was this address earlier and is now another: id, address_held "earlier", and the ' +
        'events, field_history, run_log, activities from while it was, and the outbox rows queued to it',
    ),
  mentioning_leads: z
    .array(jsonObject)
    .describe(
      "Other people's leads that quote the address now or did earlier (a field such as a cc address, the close " +
        'reason, an activity note, an event payload or field history): id, address_held "mentioned", the fields and close reason that quote it, and the ' +
        'events, field_history, run_log, activities and outbox rows that quote it',
    ),
  deleted_lead_messages: z
    .array(jsonObject)
    .describe('Outbox rows of deleted leads (kept as delivery history) that quote the address'),
});

export const erasureSchema = z.object({
  emailHash: z.string(),
  pseudonym: z.string(),
  leads: z.array(z.string()).describe('Leads pseudonymised by this call'),
  earlierLeads: z
    .array(z.string())
    .describe("Leads whose email was the address earlier: the person's values replaced, the current contact kept"),
  mentioningLeads: z
    .array(z.string())
    .describe("Other people's leads that quoted the address: the address and the person's values replaced there"),
  deletedLeadMessages: z
    .number()
    .int()
    .describe('Messages of deleted leads that quoted the address, now pseudonymised'),
  cancelled: z.number().int().describe("Undelivered outbox rows of the person's now cancelled"),
  listErasures: z.array(z.object({ id: z.string(), lead: z.string(), list: z.string() })),
  alreadyErased: z.boolean(),
  keptFiles: z
    .number()
    .int()
    .describe("Kept .eml files (MAIL_DIR, mail written while SMTP was off) of the person's messages"),
  keptFilesLeft: z
    .array(z.string())
    .describe('Kept files that could not be deleted, each with the reason: delete them by hand'),
});

/** Loose: the import service's report, as the CLI's --json prints it; a member it gains is not dropped. */
export const importReportSchema = z
  .looseObject({
    format: z.string(),
    source: z.string(),
    file: z.string(),
    dryRun: z.boolean(),
    outcome: z.enum(['checked', 'refused', 'imported']),
    records: z.number().int(),
    valid: z.number().int(),
    invalid: z.number().int(),
    written: z.number().int(),
    kept: z.number().int().describe('Leads worked in Stageflow since an earlier import: left as they are'),
    created: z.number().int().describe('Of the leads this run wrote (since it resumed), those that are new'),
    updated: z
      .number()
      .int()
      .describe('Of the leads this run wrote (since it resumed), those an earlier import had written'),
    skipped: z.array(
      z.object({ line: z.number().int(), sourceId: z.string().nullable(), reasons: z.array(z.string()) }),
    ),
    errors: z.number().int(),
    sideErrors: z
      .number()
      .int()
      .describe(
        'Of the errors, those in a side file (people, products, accounts): skip_invalid cannot skip a record for them',
      ),
    warnings: z.number().int(),
    problems: z.array(
      z.object({
        file: z.string(),
        line: z.number().int(),
        column: z.string().nullable(),
        message: z.string(),
        severity: z.enum(['error', 'warning']),
      }),
    ),
    createdAtImport: z.number().int().describe('Records without any date: created at the import time'),
    converted: z
      .number()
      .int()
      .describe('Valid records whose value was converted from another currency at the `rates` given'),
    processVersion: z.number().int().nullable(),
    processApplied: z.number().int().nullable(),
    resumedFromLine: z.number().int().nullable(),
    runId: z.string().nullable(),
    activated: z.number().int(),
  })
  .meta({ id: 'ImportReport' });

export const exportText = z.string().describe('One row per line; streamed');
