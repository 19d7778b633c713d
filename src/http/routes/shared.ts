import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { leadEventSchema, type Actor, type LeadEvent } from '../../domain/events.js';
import type { EventOutcome } from '../../engine/engine.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import { findLeadRow, type LeadRow } from '../../store/lead-search.js';
import { callerLabel, reachesLead, reachesOwner, reachOf, type Caller, type LeadUse, type Reach } from '../access.js';
import type { AppContext } from '../app.js';
import { etagOf } from '../present.js';
import { domainProblem, Problem, type ProblemType } from '../problem.js';

/** What every route module shares: the typed app, the caller, reach checks and event submission. */

export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export function callerOf(req: FastifyRequest): Caller {
  if (!req.caller) throw new Problem('unauthenticated');
  return req.caller;
}

export async function reachFor(ctx: AppContext, caller: Caller): Promise<Reach> {
  if (caller.member.role === 'admin') return { kind: 'all' };
  return reachOf(caller.member, (await ctx.processes.current())?.process ?? null);
}

export function reachList(reach: Reach): string[] | null {
  return reach.kind === 'all' ? null : [...reach.owners];
}

/** A record out of reach is recorded as a denial and answered as if it did not exist. */
export async function denyAsMissing(ctx: AppContext, req: FastifyRequest, what: string): Promise<never> {
  await withTransaction(ctx.store, (tx) =>
    appendAudit(
      tx,
      {
        actor: callerLabel(req.caller),
        action: 'access.denied',
        target: what,
        details: { route: `${req.method} ${req.routeOptions.url ?? ''}` },
      },
      ctx.now(),
    ),
  );
  throw new Problem('not-found', `${what} does not exist`);
}

/** A 403 decided inside a handler (not by the route's declared access), audited like every denial. */
export async function denyForbidden(ctx: AppContext, req: FastifyRequest, reason: string): Promise<never> {
  await withTransaction(ctx.store, (tx) =>
    appendAudit(
      tx,
      {
        actor: callerLabel(req.caller),
        action: 'access.denied',
        target: `${req.method} ${req.routeOptions.url ?? ''}`,
        details: { reason },
      },
      ctx.now(),
    ),
  );
  throw new Problem('forbidden', reason);
}

/**
 * A manager hands work only to people of their teams, an admin to anyone: 403, audited, for someone
 * out of reach. An id the process does not know is a mistake in the request, not someone out of
 * reach: it passes here and the engine answers 422 `unknown_user` naming the field, whoever asks
 * (users and teams are readable by everyone, so this tells nothing new).
 */
export async function userWithinReach(ctx: AppContext, req: FastifyRequest, user: string, what: string): Promise<void> {
  const process = (await ctx.processes.current())?.process;
  if (!process?.users.some((u) => u.id === user)) return;
  if (!reachesOwner(await reachFor(ctx, callerOf(req)), user))
    await denyForbidden(ctx, req, `${what} "${user}" is not in your teams`);
}

/** The lead, if the caller reaches it for this use (access.ts, reachesLead); else a 404, audited. */
export async function leadInReach(
  ctx: AppContext,
  req: FastifyRequest,
  id: string,
  use: LeadUse = 'manage',
): Promise<LeadRow> {
  const lead = await findLeadRow(ctx.store.db, id);
  if (!lead) throw new Problem('not-found', `lead "${id}" does not exist`);
  const openTaskAssignees = async (): Promise<string[]> => {
    const rows = await ctx.store.db
      .selectFrom('tasks')
      .select('assignee')
      .where('lead_id', '=', lead.id)
      .where('status', '=', 'open')
      .where('assignee', 'is not', null)
      .execute();
    return rows.flatMap((r) => (r.assignee === null ? [] : [r.assignee]));
  };
  if (!(await reachesLead(await reachFor(ctx, callerOf(req)), lead.owner, use, openTaskAssignees)))
    return denyAsMissing(ctx, req, `lead "${id}"`);
  return lead;
}

/** Gates treat admins, people and integrations differently; the actor says which this caller is. */
export function actorOf(caller: Caller): Actor {
  if (caller.member.role === 'admin') return { kind: 'admin', id: caller.member.id };
  return { kind: caller.via === 'token' ? 'api' : 'user', id: caller.member.id };
}

export type Accepted = Extract<EventOutcome, { ok: true }>;

/** One event through the engine; a refusal becomes a problem with the rule's own words. */
export async function submit(
  ctx: AppContext,
  caller: Caller,
  event: z.input<typeof leadEventSchema>,
  ifVersion?: number,
): Promise<Accepted> {
  const parsed = leadEventSchema.parse({ ...event, actor: actorOf(caller) }) as LeadEvent;
  const outcome = await ctx.commits.submit(parsed, ctx.now(), ifVersion);
  if (!outcome.ok) {
    const headers = outcome.currentVersion !== undefined ? { etag: etagOf(outcome.currentVersion) } : undefined;
    throw domainProblem(outcome.error, headers, parsed.type);
  }
  return outcome;
}

/**
 * If-Match as RFC 9110 reads it: `*`, or a list of entity tags compared strongly (a weak tag never
 * matches). Returns null when absent, 'any' for `*`, else the versions the tags name.
 */
export function ifMatchOf(req: FastifyRequest): readonly number[] | 'any' | null {
  const raw = req.headers['if-match'];
  if (raw === undefined) return null;
  const value = (Array.isArray(raw) ? raw.join(',') : raw).trim();
  if (value === '*') return 'any';
  const tags = value.split(',').map((t) => t.trim());
  if (tags.some((t) => !/^(W\/)?"[\x21\x23-\x7e]*"$/.test(t)))
    throw new Problem('validation-failed', 'If-Match must be * or entity tags such as "3"', {
      errors: [{ field: 'header.if-match', message: 'not a list of entity tags' }],
    });
  return tags.flatMap((t) => {
    const m = /^"(\d{1,15})"$/.exec(t);
    return m?.[1] ? [Number(m[1])] : [];
  });
}

/**
 * The version a write must find, checked again inside its transaction: undefined when any version
 * will do (`*`, or no header where none is required). Without If-Match where one is required, 428;
 * with tags none of which names the current version, 412 carrying the current ETag.
 */
export function expectedVersion(req: FastifyRequest, current: number, required: boolean): number | undefined {
  const v = ifMatchOf(req);
  if (v === null) {
    if (!required) return undefined;
    throw new Problem('precondition-required', 'send If-Match with the ETag from your last read', {
      headers: { etag: etagOf(current) },
    });
  }
  if (v === 'any') return undefined;
  if (v.length === 1 && v[0] !== undefined) return v[0];
  if (v.includes(current)) return current;
  throw new Problem('precondition-failed', `the record is at version ${current}: reload it and try again`, {
    headers: { etag: etagOf(current) },
  });
}

export const idParams = z.object({ id: z.string().min(1).max(200) });

/** A 204 answer: OpenAPI shows a `null` schema as a response without content. */
export const NO_CONTENT = z.null().describe('No content');

/** What a lead event refused by the engine answers (problem.ts maps each refusal code to one). */
export const ENGINE_PROBLEMS = ['conflict', 'rule-refused'] as const satisfies readonly ProblemType[];

export const cursorSchema = z.string().max(500).optional().describe('The nextCursor of the previous page.');
export const limitSchema = z.coerce.number().int().min(1).max(500).default(50);

export function encodeCursor(c: object): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor<T>(raw: string | undefined, schema: z.ZodType<T>): T | undefined {
  if (raw === undefined) return undefined;
  try {
    return schema.parse(JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')));
  } catch {
    throw new Problem('validation-failed', 'cursor is not one this server gave out', {
      errors: [{ field: 'query.cursor', message: 'not a cursor from a previous page' }],
    });
  }
}
