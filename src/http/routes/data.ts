import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CsvSyntaxError } from '../../import/csv.js';
import { IMPORT_FORMATS, type ImportFormat } from '../../import/formats/index.js';
import { MAVEN_FILES } from '../../import/formats/maven.js';
import { ImportAlreadyRunning, ImportRejected, runImport, type ImportReport } from '../../import/import-service.js';
import type { ImportProblem } from '../../import/record.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import { eraseContact } from '../../store/contact-erase.js';
import { exportContact } from '../../store/contact-export.js';
import { ContactError } from '../../store/contact.js';
import { accountLeads } from '../../store/account-leads.js';
import { accountPage, findAccount, type Account } from '../../store/accounts.js';
import { searchContacts } from '../../store/contact-search.js';
import { csvWriter, jsonLinesWriter } from '../../store/export-writers.js';
import { auditExport, EXPORT_KINDS, exportRows, type ExportFilter, type ExportRow } from '../../store/export.js';
import { ADMINS, EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { httpRateHint, ratesErrors, ratesQuery } from '../import-rates.js';
import { isoOrNull, presentLead } from '../present.js';
import { Problem, problemBody, type FieldError } from '../problem.js';
import { instantOf } from '../../domain/time-filter.js';
import { timeQuery } from '../time-filter.js';
import {
  accountListSchema,
  companyAccountSchema,
  contactExportSchema,
  contactListSchema,
  erasureSchema,
  exportText,
  importReportSchema,
  leadListSchema,
} from '../schemas.js';
import {
  callerOf,
  cursorSchema,
  decodeCursor,
  encodeCursor,
  limitSchema,
  reachFor,
  reachList,
  denyAsMissing,
  type Api,
} from './shared.js';

/**
 * Data in and out, as `stageflow import`, `export` and `contact export|erase` do it, for admins;
 * and the accounts (the companies on leads, with what imports brought along about them) and
 * contacts, for everyone who reads leads, each within the caller's reach.
 *
 * Imports: a single-file export (pipedrive, hubspot, salesforce, generic) is the request body,
 * either as `text/csv`, as JSON `{csv, mapping?}` (a mapping is YAML text, as the CLI's --mapping
 * file; generic needs one), or as JSON `{xlsx, sheet?, mapping?}` with the workbook in base64 (JSON
 * keeps one body schema, which the OpenAPI document and its fuzz test read). It is written to a private temporary folder for the run and
 * deleted after. Maven is a folder of four files: `{path}` names a folder on the server itself, so
 * an admin can read any folder the server can; only admins with the admin scope may call it.
 */

const ADMIN = { roles: ADMINS, scope: 'admin' } as const;
const leadsRead = { roles: EVERYONE, scope: 'leads:read' } as const;

/** Uploads larger than this are better imported with the CLI, which streams the file from disk. */
export const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;

const flag = z
  .enum(['true', 'false'])
  .optional()
  .transform((v) => v === 'true');

const mappingText = z.string().min(1).max(200_000).describe('A mapping file (YAML), as `stageflow import --mapping`');

const importBody = z.union([
  z.string().min(1).describe('The CSV file itself (Content-Type: text/csv)'),
  z.object({ csv: z.string().min(1).describe('The CSV file'), mapping: mappingText.optional() }).strict(),
  z
    .object({
      xlsx: z.base64().min(4).describe('The workbook (.xlsx), base64-encoded'),
      sheet: z.string().min(1).max(200).optional().describe('The worksheet to read (default the first visible one)'),
      mapping: mappingText.optional(),
    })
    .strict(),
  z
    .object({
      path: z.string().min(1).max(4096).describe('maven only: an absolute path to a folder on the server'),
      mapping: mappingText.optional(),
    })
    .strict(),
]);

const importQuery = z
  .object({
    dry_run: flag.describe('Check every record and report the problems; write nothing'),
    skip_invalid: flag.describe('Import the valid records and list the ones skipped'),
    automations: flag.describe("Take open leads live: their stage's tasks and automations (emails too) run now"),
    max_problems: z.coerce.number().int().min(1).max(10_000).default(200).describe('Problems listed (all are counted)'),
    rates: ratesQuery,
    filename: z
      .string()
      .regex(/^[A-Za-z0-9][\w.-]{0,99}$/, 'letters, digits, ".", "_" and "-"')
      .optional()
      .describe('The upload’s name in problems, the import run and the audit log (default upload.csv)'),
  })
  .strict();

type ImportBody = z.infer<typeof importBody>;

/** Where one import reads from: an upload written to a temporary file, or a Maven folder. */
interface ImportSource {
  path: string;
  label: string;
  sheet?: string;
  mapping?: { text: string; label: string };
  cleanup(): Promise<void>;
}

const MAPPING_LABEL = 'mapping.yaml';

async function importSource(format: ImportFormat, body: ImportBody, filename: string): Promise<ImportSource> {
  const mapping = typeof body === 'string' || body.mapping === undefined ? undefined : body.mapping;
  const withMapping = mapping === undefined ? {} : { mapping: { text: mapping, label: MAPPING_LABEL } };
  if (format === 'generic' && mapping === undefined)
    throw invalid('body.mapping', 'the generic format needs a mapping (YAML): send JSON {csv, mapping}');
  if (format === 'maven') {
    if (typeof body === 'string' || !('path' in body))
      throw invalid('body', 'maven is a folder of four files: send JSON {path} naming the folder on the server');
    if (!isAbsolute(body.path)) throw invalid('body.path', 'must be an absolute path on the server');
    const dir = await stat(body.path).catch(() => null);
    if (!dir?.isDirectory()) throw invalid('body.path', `${body.path} is not a folder on the server`);
    return { path: body.path, label: body.path, ...withMapping, cleanup: async () => {} };
  }
  if (typeof body !== 'string' && 'path' in body)
    throw invalid('body', `${format} is one file: send it as text/csv, or as JSON {csv, mapping?} or {xlsx, mapping?}`);
  const xlsx = typeof body !== 'string' && 'xlsx' in body ? body : null;
  const content = typeof body === 'string' ? body : 'csv' in body ? body.csv : Buffer.from(body.xlsx, 'base64');
  // The file's name says what it is: the reader picks CSV or XLSX by it (and checks the bytes).
  const name = xlsx ? `${filename.replace(/\.(csv|xlsx)$/i, '')}.xlsx` : filename;
  // mkdtemp makes the folder readable by this user only; the file lives for this request.
  const dir = await mkdtemp(join(tmpdir(), 'stageflow-upload-'));
  const path = join(dir, name);
  try {
    await writeFile(path, content, { mode: 0o600 });
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    path,
    label: name,
    ...withMapping,
    ...(xlsx?.sheet !== undefined ? { sheet: xlsx.sheet } : {}),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

function invalid(field: string, message: string): Problem {
  return new Problem('validation-failed', message, { errors: [{ field, message }] });
}

/** A problem of the data file is `line N`; one of a Maven side file names its file too. */
function fieldErrorOf(p: ImportProblem, dataFile: string): FieldError {
  const where = p.file === dataFile ? `line ${p.line}` : `${p.file} line ${p.line}`;
  return { field: where, message: p.column ? `${p.column}: ${p.message}` : p.message };
}

/** ImportRejected's lines (`file:line: message`, or `mapping.yaml: …`) as field errors. */
function rejectedErrors(e: ImportRejected): FieldError[] {
  return e.message
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const m = /^(.*?):(\d+): (.*)$/.exec(line);
      if (m) return { field: `line ${m[2]}`, message: m[3] ?? line };
      if (line.startsWith(`${MAPPING_LABEL}:`))
        return { field: 'body.mapping', message: line.slice(MAPPING_LABEL.length + 1).trim() };
      return { field: 'body', message: line };
    });
}

/** Every member of the service's report is in the documented schema: one added there and not here fails the type check. */
type UndocumentedReportMember = Exclude<keyof ImportReport, keyof typeof importReportSchema.shape>;
const reportDocumented: [UndocumentedReportMember] extends [never] ? true : UndocumentedReportMember = true;
void reportDocumented;

/** The report as the CLI's --json prints it, with the upload's name rather than its temporary path. */
function presentReport(r: ImportReport, source: ImportSource) {
  return { ...r, file: source.label === source.path ? r.file : source.label };
}

const EXPORT_TYPES = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson' } as const;

/** The store's refusals of a contact request: not an address (400), or one it knows nothing of (404). */
function contactProblem(e: unknown, field: string): never {
  if (e instanceof ContactError)
    throw e.code === 'not_found' ? new Problem('not-found', e.message) : invalid(field, e.message);
  throw e;
}

const accountCursor = z.object({ k: z.string() }).strict();
const contactCursor = z.object({ e: z.string() }).strict();
const accountLeadCursor = z.object({ c: z.number(), id: z.string() }).strict();

/** Account ids hold a company's name (`company:acme corp`), so they may be longer than other ids. */
const accountParams = z.object({ id: z.string().min(1).max(1000) });

function presentAccount(a: Account) {
  const r = a.record;
  const f = a.figures;
  return {
    id: a.id,
    name: a.name,
    leads: f.leads,
    openLeads: f.openLeads,
    wonLeads: f.wonLeads,
    lostLeads: f.lostLeads,
    pipelineValue: f.pipelineMinor / 100,
    wonValue: f.wonMinor / 100,
    owners: f.owners,
    lastActivityAt: isoOrNull(f.lastActivityAt),
    sector: r?.sector ?? null,
    yearEstablished: r?.year_established == null ? null : Number(r.year_established),
    revenue: r?.revenue_minor == null ? null : Number(r.revenue_minor) / 100,
    employees: r?.employees == null ? null : Number(r.employees),
    location: r?.location ?? null,
    parent: r?.parent ?? null,
    importedFrom: r?.import_source ?? null,
    updatedAt: r ? isoOrNull(Number(r.updated_at)) : null,
  };
}

/** A download, streamed: its 200 schema documents the text, which the route's typed reply cannot take as a stream. */
function sendStream(reply: FastifyReply, body: NodeJS.ReadableStream, type: string, filename: string): FastifyReply {
  return reply
    .type(type)
    .header('content-disposition', `attachment; filename="${filename}"`)
    .header('cache-control', 'no-store')
    .send(body);
}

/** An import refused for its records: the problem, and the whole report as an extension member. */
function sendProblemWithReport(reply: FastifyReply, problem: Problem, report: object): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({ ...problemBody(problem, reply.request.url.split('?')[0] ?? '/'), report });
}

export function dataRoutes(api: Api, ctx: AppContext): void {
  // Its own scope, so the text/csv body parser applies to these routes only.
  void api.register(async (scope: Api) => {
    scope.addContentTypeParser('text/csv', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    importRoute(scope, ctx);
  });

  api.get(
    '/exports/:table',
    {
      schema: {
        tags: ['data'],
        summary: 'Export leads, stage stays, tasks or activities as JSON lines or CSV, streamed (audited)',
        params: z.object({ table: z.enum(EXPORT_KINDS) }),
        querystring: z
          .object({
            format: z.enum(['jsonl', 'csv']).default('jsonl'),
            pipeline: z.string().min(1).max(200).optional().describe('Only leads in this pipeline (and their rows)'),
            status: z.enum(['open', 'won', 'lost']).optional(),
            updated_since: timeQuery('from').describe(
              'Only leads changed at or after this time (inclusive): ISO 8601 with offset, or a date for the start of that day in the organisation’s time zone',
            ),
          })
          .strict(),
        response: {
          200: {
            description: 'The rows, streamed as an attachment in the format asked for',
            content: {
              [EXPORT_TYPES.jsonl]: { schema: exportText.describe('One JSON object per line') },
              'text/csv': { schema: exportText.describe('CSV with a header line') },
            },
          },
        },
      },
      config: { access: ADMIN },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const kind = req.params.table;
      const { format, pipeline: pl, status } = req.query;
      // A date alone is the start of that day where the organisation is, as in the lead filters.
      const zone = (await ctx.processes.current())?.process.organisation.timezone ?? 'UTC';
      const updated_since = instantOf(req.query.updated_since, zone);
      const filter: ExportFilter = {
        ...(pl !== undefined ? { pipeline: pl } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(updated_since !== undefined ? { updatedSince: updated_since } : {}),
      };
      const rows = exportRows(ctx.store.db, kind, filter);
      // The first page is read before answering, so a failing database answers a problem, not a cut-off file.
      const first = await rows.next();
      let count = 0;
      async function* counted(): AsyncGenerator<ExportRow> {
        if (first.done) return;
        count++;
        yield first.value;
        for await (const row of rows) {
          count++;
          yield row;
        }
      }
      const body = pipeline(Readable.from(counted()), format === 'csv' ? csvWriter(kind) : jsonLinesWriter(), (err) => {
        // Recorded even when the download broke off: some rows may have left already.
        withTransaction(ctx.store, (tx) =>
          auditExport(tx, { actor: caller.member.id, kind, format, rows: count, filter, complete: !err }, ctx.now()),
        ).catch((e: unknown) => req.log.error({ err: e }, 'export audit failed'));
      });
      const day = new Date(ctx.now()).toISOString().slice(0, 10);
      return sendStream(reply, body, EXPORT_TYPES[format], `stageflow-${kind}-${day}.${format}`);
    },
  );

  // A POST, so the address stays out of URLs and therefore out of access logs and browser history.
  api.post(
    '/contacts/export',
    {
      schema: {
        tags: ['data'],
        summary: 'Everything held about the person with this address, as one JSON document (audited)',
        body: z.object({ email: z.string().min(1).max(320) }).strict(),
        response: { 200: contactExportSchema },
      },
      // not-found: nothing is held about the address.
      config: { access: ADMIN, problems: ['not-found'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      // exportContact records the request in the audit log itself (by the address's hash).
      const data = await exportContact(ctx.store, req.body.email, caller.member.id, ctx.now()).catch((e: unknown) =>
        contactProblem(e, 'body.email'),
      );
      return reply.header('cache-control', 'no-store').send(data);
    },
  );

  api.post(
    '/contacts/erase',
    {
      schema: {
        tags: ['data'],
        summary:
          'Pseudonymise the person, cancel their messages, erase them from mailing lists, suppress the address; cannot be undone (audited)',
        body: z.object({ email: z.string().min(1).max(320) }).strict(),
        response: { 200: erasureSchema },
      },
      config: { access: ADMIN, problems: ['not-found'] },
    },
    async (req) => {
      const caller = callerOf(req);
      // eraseContact records the erasure in the audit log itself, in its transaction.
      return eraseContact(ctx.store, req.body.email, caller.member.id, ctx.now()).catch((e: unknown) =>
        contactProblem(e, 'body.email'),
      );
    },
  );

  api.get(
    '/contacts',
    {
      schema: {
        tags: ['data'],
        summary: 'The people behind the leads you can see, one per address, with their lead counts',
        querystring: z
          .object({
            q: z
              .string()
              .max(200)
              .optional()
              .describe('Text in address, name, company or the person\'s name ("Jane Doe": first_name then last_name)'),
            limit: limitSchema,
            cursor: cursorSchema,
          })
          .strict(),
        response: { 200: contactListSchema },
      },
      config: { access: leadsRead },
    },
    async (req) => {
      const after = decodeCursor(req.query.cursor, contactCursor);
      const rows = await searchContacts(ctx.store.db, {
        q: req.query.q,
        reach: reachList(await reachFor(ctx, callerOf(req))),
        limit: req.query.limit + 1,
        after: after?.e,
      });
      const page = rows.slice(0, req.query.limit);
      const last = page[page.length - 1];
      return {
        items: page.map((c) => ({ ...c, lastActivityAt: new Date(c.lastActivityAt).toISOString() })),
        nextCursor: rows.length > req.query.limit && last ? encodeCursor({ e: last.email }) : null,
      };
    },
  );

  accountRoutes(api, ctx);
}

/**
 * Accounts: every company on a lead, merged with its imported record. A rep or manager sees the
 * accounts with at least one lead in their reach, counted over those leads only; an admin sees
 * every account, imported records without leads included. One out of reach is a 404, as a lead is.
 */
function accountRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: 'The companies on the leads you can see, by name, with their lead counts and values',
        querystring: z
          .object({
            q: z.string().max(200).optional().describe('Text in the name (case ignored)'),
            limit: limitSchema,
            cursor: cursorSchema,
          })
          .strict(),
        response: { 200: accountListSchema },
      },
      config: { access: leadsRead },
    },
    async (req) => {
      const after = decodeCursor(req.query.cursor, accountCursor);
      const rows = await accountPage(ctx.store.db, {
        reach: reachList(await reachFor(ctx, callerOf(req))),
        q: req.query.q,
        after: after?.k,
        limit: req.query.limit + 1,
      });
      const page = rows.slice(0, req.query.limit);
      const last = page[page.length - 1];
      return {
        items: page.map(presentAccount),
        nextCursor: rows.length > req.query.limit && last ? encodeCursor({ k: last.key }) : null,
      };
    },
  );

  /** The account, within the caller's reach; one that exists but is out of reach is audited as a denial. */
  async function accountInReach(req: FastifyRequest, id: string): Promise<Account> {
    const reach = reachList(await reachFor(ctx, callerOf(req)));
    const account = await findAccount(ctx.store.db, id, reach);
    if (account) return account;
    if (reach !== null && (await findAccount(ctx.store.db, id, null)))
      return denyAsMissing(ctx, req, `account "${id}"`);
    throw new Problem('not-found', `account "${id}" does not exist`);
  }

  api.get(
    '/accounts/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'One account, with the figures of its leads you can see',
        params: accountParams,
        response: { 200: companyAccountSchema },
      },
      config: { access: leadsRead },
    },
    async (req) => presentAccount(await accountInReach(req, req.params.id)),
  );

  api.get(
    '/accounts/:id/leads',
    {
      schema: {
        tags: ['accounts'],
        summary: "The account's leads you can see, newest first, a page at a time",
        params: accountParams,
        querystring: z
          .object({ status: z.enum(['open', 'won', 'lost']).optional(), limit: limitSchema, cursor: cursorSchema })
          .strict(),
        response: { 200: leadListSchema },
      },
      config: { access: leadsRead },
    },
    async (req) => {
      const account = await accountInReach(req, req.params.id);
      const after = decodeCursor(req.query.cursor, accountLeadCursor);
      const { rows, next } = await accountLeads(ctx.store.db, {
        key: account.key,
        reach: reachList(await reachFor(ctx, callerOf(req))),
        status: req.query.status,
        limit: req.query.limit,
        after: after ? { createdAt: after.c, id: after.id } : undefined,
      });
      return {
        items: rows.map(presentLead),
        nextCursor: next ? encodeCursor({ c: next.createdAt, id: next.id }) : null,
      };
    },
  );
}

function importRoute(api: Api, ctx: AppContext): void {
  api.post(
    '/imports/:format',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: ['data'],
        summary:
          'Import an export of another CRM: the CSV as text/csv or JSON {csv, mapping?}, a workbook as JSON {xlsx (base64), sheet?, mapping?}; maven: JSON {path} of a folder on the server',
        description:
          'As `stageflow import`. Nothing is written when a record has an error, unless skip_invalid. Problems ' +
          '(on a dry run, or a refused import) answer 422 with one error per line and the whole report in `report`. ' +
          'Re-importing updates the same leads (keyed by the export’s record id). Values in another currency than ' +
          'the organisation’s are converted at the `rates` given (USD:0.92,GBP:1.17); without a rate, their records ' +
          'are errors. Uploads are limited to 32 MiB; ' +
          'import larger files with the CLI. maven reads a folder on the server: admins only.',
        params: z.object({ format: z.enum(IMPORT_FORMATS) }),
        querystring: importQuery,
        body: importBody,
        response: { 200: importReportSchema },
      },
      // conflict: no process yet; rule-refused: the records' problems (with the whole report in `report`).
      config: { access: ADMIN, problems: ['conflict', 'rule-refused'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const format = req.params.format;
      const q = req.query;
      const source = await importSource(format, req.body, q.filename ?? 'upload.csv');
      const now = ctx.now();
      let report: ImportReport;
      try {
        report = await runImport(ctx.store, {
          format,
          path: source.path,
          ...(source.mapping ? { mapping: source.mapping } : {}),
          ...(source.sheet !== undefined ? { sheet: source.sheet } : {}),
          ...(q.rates ? { rates: q.rates } : {}),
          rateHint: httpRateHint,
          dryRun: q.dry_run,
          skipInvalid: q.skip_invalid,
          automations: q.automations,
          maxProblems: q.max_problems,
          now,
          actor: { kind: 'import', id: caller.member.id },
        });
      } catch (e) {
        // Another run is writing the same file now: the state to wait for, not a fault of the request.
        if (e instanceof ImportAlreadyRunning) throw new Problem('conflict', e.message, { code: 'import_running' });
        if (e instanceof ImportRejected) {
          // The rates read, but the service refused one (the organisation's own currency at a rate other than 1).
          const rateErrors = ratesErrors(e.message);
          if (rateErrors)
            throw new Problem('validation-failed', `the rates cannot be used: ${rateErrors[0]?.message ?? ''}`, {
              errors: rateErrors,
            });
          if (e.message.startsWith('no process has been applied'))
            throw new Problem('conflict', 'no process has been applied yet: apply one (POST /api/v1/process) first');
          throw new Problem('rule-refused', e.message.split('\n')[0] ?? e.message, {
            code: 'import_rejected',
            errors: rejectedErrors(e),
          });
        }
        // A file CSV cannot read (an unclosed quote) is the caller's to fix: named by its line.
        if (e instanceof CsvSyntaxError)
          throw new Problem('validation-failed', `the CSV cannot be read: ${e.message}`, {
            code: 'import_unreadable',
            errors: [{ field: `line ${e.line}`, message: e.message.replace(/^.*?:\d+: /, '') }],
          });
        const code = (e as NodeJS.ErrnoException).code;
        if (format === 'maven' && (code === 'ENOENT' || code === 'EACCES'))
          throw invalid('body.path', `the folder must hold the four Maven files: ${(e as Error).message}`);
        throw e;
      } finally {
        await source.cleanup();
      }
      const out = presentReport(report, source);
      // A written import is recorded by runImport ('import', with its run); a check or a refusal here.
      if (report.outcome !== 'imported')
        await withTransaction(ctx.store, (tx) =>
          appendAudit(
            tx,
            {
              actor: caller.member.id,
              action: 'import.run',
              target: `${format}:${out.file}`,
              details: {
                format,
                outcome: report.outcome,
                dryRun: report.dryRun,
                records: report.records,
                errors: report.errors,
              },
            },
            now,
          ),
        );
      if (report.outcome === 'refused' || (report.dryRun && report.errors > 0)) {
        const dataFile = format === 'maven' ? MAVEN_FILES.pipeline : source.label;
        const errors = report.problems.filter((p) => p.severity === 'error').map((p) => fieldErrorOf(p, dataFile));
        const detail =
          `${report.records} records, ${report.invalid} invalid; ${report.errors} errors: ` +
          (report.dryRun
            ? 'dry run, nothing written'
            : 'nothing imported (fix them, or pass skip_invalid=true to import the valid records)');
        const problem = new Problem('rule-refused', detail, { code: 'import_invalid', errors });
        return sendProblemWithReport(reply, problem, out);
      }
      return out;
    },
  );
}
