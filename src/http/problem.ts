import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import type { DomainError, DomainErrorCode, GateBlock } from '../domain/errors.js';
import type { LeadEvent } from '../domain/events.js';
import { DatabaseBusy } from '../store/db.js';

/**
 * RFC 9457 problem details. Every error the API answers has a stable `type` URI from the table
 * below; clients branch on `type`, people read `title` and `detail`. No stack trace or internal
 * message ever leaves the server.
 */

export const PROBLEM_BASE = 'https://stageflow.dev/problems/';

/** Seconds a client is told to wait before sending a request the busy database refused again. */
const BUSY_RETRY_AFTER_S = 5;

export interface FieldError {
  /** Where: `body.fields.value`, `query.limit`, `params.id`. */
  field: string;
  message: string;
}

/** Every problem type the API can answer, with its status and title. */
export const PROBLEM_TYPES = {
  'validation-failed': [400, 'The request is not valid'],
  'malformed-request': [400, 'The request could not be read'],
  unauthenticated: [401, 'Sign in or send a valid API token'],
  forbidden: [403, 'Not allowed'],
  'csrf-failed': [403, 'Missing or wrong CSRF token'],
  'field-not-writable': [403, 'A field in the request may not be written by you'],
  'not-found': [404, 'No such resource'],
  'method-not-allowed': [405, 'Method not allowed'],
  conflict: [409, 'The request conflicts with the current state'],
  'task-stay-ended': [409, 'The task belongs to a stage the lead has left'],
  'idempotency-key-in-use': [409, 'A request with this Idempotency-Key is still running'],
  'precondition-failed': [412, 'The resource has changed since you read it'],
  'payload-too-large': [413, 'The request body is too large'],
  'unsupported-media-type': [415, 'Unsupported content type'],
  'idempotency-key-reused': [422, 'This Idempotency-Key was used with another request'],
  'rule-refused': [422, 'The process rules refused the change'],
  'precondition-required': [428, 'If-Match is required'],
  'too-many-requests': [429, 'Too many attempts'],
  internal: [500, 'Internal server error'],
  'database-busy': [503, 'The database is busy; try again shortly'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export class Problem extends Error {
  readonly status: number;
  readonly title: string;
  constructor(
    readonly type: ProblemType,
    readonly detail?: string,
    readonly extra: { errors?: FieldError[]; headers?: Record<string, string>; code?: string; gate?: GateBlock } = {},
  ) {
    super(detail ?? PROBLEM_TYPES[type][1]);
    this.status = PROBLEM_TYPES[type][0];
    this.title = PROBLEM_TYPES[type][1];
  }
}

/** The engine's refusals as problems: what was wrong with the request, or with the lead's state. */
const DOMAIN_PROBLEMS: Record<DomainErrorCode, ProblemType> = {
  lead_exists: 'conflict',
  unknown_lead: 'not-found',
  no_pipeline: 'rule-refused',
  no_process: 'conflict',
  unknown_pipeline: 'rule-refused',
  unknown_stage: 'rule-refused',
  already_in_stage: 'conflict',
  already_owner: 'conflict',
  unknown_task: 'not-found',
  unknown_activity: 'not-found',
  unknown_user: 'rule-refused',
  inactive_user: 'rule-refused',
  no_assignee: 'rule-refused',
  task_not_open: 'conflict',
  not_ad_hoc: 'rule-refused',
  task_not_closed: 'conflict',
  lead_closed: 'conflict',
  lead_open: 'conflict',
  gate_refused: 'rule-refused',
  override_forbidden: 'forbidden',
  invalid_field: 'rule-refused',
  not_imported: 'conflict',
  stale_version: 'precondition-failed',
};

/**
 * Where a code means something more particular for one kind of event, that event's own type. The
 * engine refuses to reopen a task of a stay the lead has left with task_not_open (an open task is
 * task_not_closed), so for task.reopened that code always means the stay has ended.
 */
const EVENT_PROBLEMS: Partial<Record<LeadEvent['type'], Partial<Record<DomainErrorCode, ProblemType>>>> = {
  'task.reopened': { task_not_open: 'task-stay-ended' },
};

/**
 * The problem an engine refusal answers; the detail is the rule's own message, as the CLI prints it.
 * What a client acts on comes from the refusal itself, never from its words: the event input it is
 * about (`stage`, `owner`, …) as an `errors` entry under `body.` (the routes name their body fields
 * as the events do), and a strict stage's gate (missing fields, unmet goal lines) as `gate`.
 */
export function domainProblem(
  error: DomainError,
  headers?: Record<string, string>,
  event?: LeadEvent['type'],
): Problem {
  const { code, message } = error;
  const type = (event ? EVENT_PROBLEMS[event]?.[code] : undefined) ?? DOMAIN_PROBLEMS[code];
  return new Problem(type, message, {
    code,
    ...(headers ? { headers } : {}),
    ...(error.field !== undefined ? { errors: [{ field: `body.${error.field}`, message }] } : {}),
    ...(error.gate ? { gate: error.gate } : {}),
  });
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance: string;
  code?: string;
  errors?: FieldError[];
  gate?: GateBlock;
}

export function problemBody(p: Problem, instance: string): ProblemBody {
  return {
    type: PROBLEM_BASE + p.type,
    title: p.title,
    status: p.status,
    ...(p.detail !== undefined ? { detail: p.detail } : {}),
    instance,
    ...(p.extra.code ? { code: p.extra.code } : {}),
    ...(p.extra.errors ? { errors: p.extra.errors } : {}),
    ...(p.extra.gate ? { gate: p.extra.gate } : {}),
  };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  for (const [k, v] of Object.entries(p.extra.headers ?? {})) void reply.header(k, v);
  // RFC 9110 §11.6.1: a 401 names the schemes that would do; the cookie is for the browser.
  if (p.status === 401) void reply.header('www-authenticate', 'Bearer realm="stageflow"');
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send(problemBody(p, reply.request.url.split('?')[0] ?? '/'));
}

const CONTEXT_NAMES: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'params',
  headers: 'header',
};

/** Fastify's own errors (bad JSON, wrong content type, size) and validation failures, as problems. */
export function problemFromError(err: FastifyError & { validationContext?: string }): Problem {
  if (err instanceof Problem) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = CONTEXT_NAMES[err.validationContext ?? 'body'] ?? 'body';
    const errors = err.validation.map((v) => ({
      field: [where, ...v.instancePath.split('/').filter((s) => s !== '')].join('.'),
      message: v.message ?? 'invalid',
    }));
    return new Problem(
      'validation-failed',
      `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation`,
      {
        errors,
      },
    );
  }
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem('unsupported-media-type', 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('payload-too-large');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem('malformed-request', 'the body is not valid JSON');
    default:
      break;
  }
  if (err instanceof SyntaxError) return new Problem('malformed-request', 'the body is not valid JSON');
  // Another writer (an import's batch, another process) held SQLite's lock past the wait (ours, or
  // SQLite's busy timeout for a write outside withTransaction): the request wrote nothing and can
  // simply be sent again. The path stays in the server's log.
  if (err instanceof DatabaseBusy || (err as { code?: unknown }).code === 'SQLITE_BUSY')
    return new Problem('database-busy', 'another writer held the database for too long; nothing was written', {
      headers: { 'Retry-After': String(BUSY_RETRY_AFTER_S) },
    });
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return new Problem('malformed-request', err.message);
  return new Problem('internal', 'the server could not complete the request; it has been logged');
}

export function handleError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const p = problemFromError(err);
  if (p.status >= 500) req.log.error({ err }, 'request failed');
  return sendProblem(reply, p);
}
