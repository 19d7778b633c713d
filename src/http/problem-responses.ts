import { z } from 'zod';
import type { Access } from './access.js';
import { PROBLEM_TYPES, type ProblemType } from './problem.js';
import { problemSchema } from './schemas/problem.js';

/**
 * The error answers of a route, derived from what the route declares (its access, its schemas,
 * its idempotency) plus the problems its handler raises itself (`config.problems`), so that the
 * OpenAPI document cannot drift from the hooks that answer them. Every one is problem+json with
 * the one Problem schema, which the serializer also writes those answers through.
 */

export interface RouteFacts {
  method: string;
  access: Access;
  idempotent: boolean;
  schema: { params?: unknown; querystring?: unknown; body?: unknown; headers?: unknown };
  /** Problems the handler itself may answer, beyond those the declarations above imply. */
  problems?: readonly ProblemType[];
  /** The handler refuses a write without If-Match (428): `etag: 'if-match-required'`. */
  ifMatchRequired?: boolean;
}

/** Path parameters that name no record (a signal name): a value the route does not know is no 404. */
export const NOT_A_RECORD = new WeakSet<z.ZodType>();

/** Methods whose body Fastify reads: any of them can be unreadable, too large or of the wrong type. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const ALL_ROLES = 3;

function shapeOf(schema: unknown): Record<string, z.ZodType> {
  return schema instanceof z.ZodObject ? (schema.shape as Record<string, z.ZodType>) : {};
}

/** A path parameter names a record the handler looks up, unless it is one of a fixed set of values. */
function namesRecord(param: z.ZodType): boolean {
  return !(param instanceof z.ZodEnum) && !NOT_A_RECORD.has(param);
}

export function problemTypesOf(f: RouteFacts): ProblemType[] {
  const types = new Set<ProblemType>(f.problems ?? []);
  const authenticated = f.access.roles !== 'public';
  const writes = BODY_METHODS.has(f.method);
  const s = f.schema;
  if (authenticated) types.add('unauthenticated');
  // onRequest: a role the route does not list, a missing token scope, a manager without the grant.
  if (authenticated && (f.access.roles.length < ALL_ROLES || f.access.scope || f.access.processEditor))
    types.add('forbidden');
  if (authenticated && writes) types.add('csrf-failed');
  if (s.params || s.querystring || s.body || s.headers) types.add('validation-failed');
  if (writes)
    for (const t of ['malformed-request', 'payload-too-large', 'unsupported-media-type'] as const) types.add(t);
  if (Object.values(shapeOf(s.params)).some(namesRecord)) types.add('not-found');
  if ('if-match' in shapeOf(s.headers)) {
    types.add('precondition-failed');
    // An update (a lead's or a user's PATCH) must send If-Match; transitions and task edits may.
    if (f.ifMatchRequired) types.add('precondition-required');
  }
  if (f.idempotent) for (const t of ['idempotency-key-in-use', 'idempotency-key-reused'] as const) types.add(t);
  types.add('internal');
  // Any request may need SQLite's write lock (a session's sign-in, an engine event).
  types.add('database-busy');
  return [...types];
}

export interface ProblemResponse {
  description: string;
  content: { 'application/problem+json': { schema: typeof problemSchema } };
}

/** The response entries for these problem types: one per status, its description naming each type. */
export function problemResponses(types: readonly ProblemType[]): Record<number, ProblemResponse> {
  const byStatus = new Map<number, ProblemType[]>();
  for (const t of types) {
    const status = PROBLEM_TYPES[t][0];
    byStatus.set(status, [...(byStatus.get(status) ?? []), t]);
  }
  const out: Record<number, ProblemResponse> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b))
    out[status] = {
      description: list.map((t) => `${t}: ${PROBLEM_TYPES[t][1]}`).join('; '),
      content: { 'application/problem+json': { schema: problemSchema } },
    };
  return out;
}
