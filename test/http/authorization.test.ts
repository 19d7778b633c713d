import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RouteInfo } from '../../src/http/app.js';
import { SCOPE_NAMES } from '../../src/http/access.js';
import { upsertAccounts } from '../../src/store/catalog.js';
import type { Role } from '../../src/store/members.js';
import { dialects } from '../support/stores.js';
import {
  call,
  leadOf,
  login,
  PASSWORD,
  PEOPLE,
  startServer,
  TEST_PROCESS,
  tokenFor,
  type Answer,
  type CallOptions,
  type Session,
  type TestServer,
} from '../support/http.js';

/**
 * The authorization matrix, generated from the server's own route table: every route is called by
 * every kind of caller, and the answer must be what the route's declared access and the reach rules
 * say. On a non-public route anonymous and disabled callers get 401; a role the route does not
 * allow, or a token without the route's scope, gets 403; a record out of the caller's reach answers
 * 404 (403 for quotas); anyone allowed gets neither 401 nor 403, nor 404 for a record that exists,
 * nor a 5xx. A public route answers everyone alike, a credential that no longer works included.
 * Every 403 and out-of-reach 404 must leave an access.denied row in the audit log.
 *
 * A new route fails the first test until it has an entry in ROUTES below, so nothing is added to
 * the API without being in the matrix.
 */

// ---- the organisation, read from the test process itself ----

const TEAMS = (parse(TEST_PROCESS) as { teams: { id: string; manager: string; members: string[] }[] }).teams;

/** The reach rule, written out independently of src/http/access.ts: whose records `who` may see. */
function reaches(who: string, role: Role, owner: string): boolean {
  if (role === 'admin' || who === owner) return true;
  return role === 'manager' && TEAMS.some((t) => t.manager === who && t.members.includes(owner));
}

/** Every record the matrix names by id belongs to this rep (its lead, its task, its token, its user). */
const OWNER = 'rep-a1';
const DISABLED = 'gone';

// ---- the callers ----

const KINDS = [
  'anonymous',
  'rep-owner',
  'rep-same-team',
  'rep-other-team',
  'manager',
  'manager-other-team',
  'admin',
  'disabled',
  'rep-owner-token-all-scopes',
  'token-with-scope',
  'token-without-scope',
] as const;
type Kind = (typeof KINDS)[number];

/** The person behind each kind that signs in with a session cookie. */
const SESSION_PERSON: Partial<Record<Kind, string>> = {
  'rep-owner': 'rep-a1',
  'rep-same-team': 'rep-a2',
  'rep-other-team': 'rep-b1',
  manager: 'mgr-a',
  'manager-other-team': 'mgr-b',
  admin: 'admin',
};

/** Who a caller is, once their credential is known. */
interface Identity {
  member: string;
  role: Role;
  via: 'session' | 'token';
  tokenId?: string;
  /** Token scopes; sessions have every scope. */
  scopes: string[] | 'all';
}

/** What the audit log calls this caller (callerLabel in src/http/access.ts). */
function auditActor(c: Identity): string {
  return c.tokenId ? `${c.member} (token ${c.tokenId})` : c.member;
}

/** A neighbouring scope, so that a write scope is seen not to grant reading and the like. */
const OTHER_SCOPE: Record<string, string> = {
  'leads:read': 'leads:write',
  'leads:write': 'leads:read',
  'process:read': 'process:write',
  'process:write': 'process:read',
  'users:read': 'users:write',
  'users:write': 'users:read',
  'reports:read': 'leads:read',
  admin: 'users:write',
  'signals:inbound': 'leads:write',
};
function otherScope(scope: string | undefined): string {
  return scope === undefined
    ? 'reports:read'
    : (OTHER_SCOPE[scope] ?? SCOPE_NAMES.find((s) => s !== scope) ?? 'leads:read');
}

// ---- the route table: how to call each route ----

interface Fixtures {
  /** A lead owned by OWNER, made by the admin. */
  lead: string;
  leadEmail: string;
  /** Its first open task. */
  task: string;
  /** An outbox row, if the process made one. */
  outbox: string | null;
}

interface Kit {
  server: TestServer;
  fx: Fixtures;
  adminToken: string;
  unique(prefix: string): string;
  /** A new lead of OWNER, for a route that changes or closes the lead it is given. */
  freshLead(): Promise<string>;
  /** The first open task of a new lead of OWNER. */
  freshTask(): Promise<{ lead: string; task: string }>;
  /** A new token of OWNER's, to be revoked. */
  victimToken(): Promise<string>;
  /** A token of OWNER's that stays, for callers refused its revocation. */
  sharedToken: string;
  /** A new lead of OWNER's with a contact address of its own. */
  freshContact(): Promise<{ lead: string; email: string }>;
}

type Params = Record<string, string>;

interface RouteCase {
  /** The record the request names; a caller who does not reach it is refused (see RECORDS). */
  record?: RecordKind;
  /** Path parameters (and any other values the body needs). */
  params?: (k: Kit) => Params | Promise<Params>;
  /**
   * For a route that changes or ends its record: a fresh record for each caller who is let in.
   * A refused caller never reaches the handler, so it is given the shared `params` record.
   */
  fresh?: (k: Kit) => Promise<Params>;
  query?: string;
  body?: (k: Kit, p: Params) => unknown;
  headers?: Record<string, string>;
  /** The route ends or replaces the caller's session: session callers sign in afresh for it. */
  freshSession?: true;
  /** The handler refuses every token (403), whatever its scopes. */
  tokensRefused?: string;
  /** The handler refuses reps (403), whatever the declared roles. */
  repsRefused?: string;
  /** Everyone, allowed or not, gets this status, and why. */
  everyone?: { status: number; why: string };
  /** Why an allowed caller's answer cannot be judged here (the 401 and 403 cases still are). */
  skipAllowed?: (k: Kit) => string | null;
}

const leadParam = (k: Kit) => ({ id: k.fx.lead });
const freshLead = { params: leadParam, fresh: async (k: Kit) => ({ id: await k.freshLead() }) };

/** A record the matrix names, whose it is, and how a caller out of its reach is refused. */
interface RecordRule {
  reaches(c: Identity): boolean;
  /** 404 as if it did not exist; quotas answer 403. */
  refusal: 403 | 404;
  /** The target of the access.denied audit row. */
  target(p: Params): string;
}

const RECORDS = {
  lead: { reaches: (c) => reaches(c.member, c.role, OWNER), refusal: 404, target: (p) => `lead "${p['id']}"` },
  // A task is reached through its lead or its assignee; both are OWNER here.
  task: { reaches: (c) => reaches(c.member, c.role, OWNER), refusal: 404, target: (p) => `task "${p['id']}"` },
  // A token: its maker's and the admins' only, whoever manages the maker.
  token: {
    reaches: (c) => c.role === 'admin' || c.member === OWNER,
    refusal: 404,
    target: (p) => `token "${p['id']}"`,
  },
  user: { reaches: (c) => reaches(c.member, c.role, OWNER), refusal: 404, target: (p) => `user "${p['id']}"` },
  // An activity OWNER logged on their lead: reached through the lead (its id is `lead:seq.idx`).
  activity: {
    reaches: (c) => reaches(c.member, c.role, OWNER),
    refusal: 404,
    target: (p) => `lead "${(p['id'] ?? '').slice(0, (p['id'] ?? '').lastIndexOf(':'))}"`,
  },
  // An account is reached through its leads: here OWNER's lead is its one lead.
  account: {
    reaches: (c) => reaches(c.member, c.role, OWNER),
    refusal: 404,
    target: (p) => `account "${p['id']}"`,
  },
  // A manager sets the quotas of the reps of their own teams (not their own); an admin any.
  quota: {
    reaches: (c) => c.role === 'admin' || (c.member !== OWNER && reaches(c.member, c.role, OWNER)),
    refusal: 403,
    target: (p) => `quota user ${p['subject']} ${p['period']}`,
  },
} satisfies Record<string, RecordRule>;
type RecordKind = keyof typeof RECORDS;

/** An account (company), as a Maven import would bring along, and the company of OWNER's lead. */
const ACCOUNT = 'acct-matrix';

/** A one-deal Pipedrive export, for a dry-run import. */
const PIPEDRIVE_CSV = [
  'Deal - ID,Deal - Title,Deal - Value,Deal - Stage,Deal - Pipeline,Deal - Owner,Deal - Status,Deal - Deal created,Organization - Name,Person - Email',
  '901,Matrix deal,1000,New,Sales,rep-a1,open,2026-01-05 09:15:00,Matrix Co,matrix@matrix.example',
].join('\n');

/** A new task added by hand to OWNER's lead, to edit or cancel. */
async function adHocTask(k: Kit): Promise<string> {
  const added = await call(k.server, 'POST', `/api/v1/leads/${encodeURIComponent(k.fx.lead)}/tasks`, {
    token: k.adminToken,
    body: { title: 'Matrix follow-up', dueAt: '2027-01-05T10:00' },
  });
  const task = (added.body as { task?: { id?: string } } | null)?.task?.id;
  if (added.status !== 201 || task === undefined) throw new Error(`add task: ${added.status} ${added.text}`);
  return task;
}

/** A new activity OWNER logs on their lead, to edit or delete: its author may, as may their manager. */
async function ownActivity(k: Kit): Promise<string> {
  const logged = await call(k.server, 'POST', `/api/v1/leads/${encodeURIComponent(k.fx.lead)}/activities`, {
    token: await tokenFor(k.server, OWNER),
    body: { kind: 'note', note: 'matrix' },
  });
  const id = (logged.body as { activity?: { id?: string } } | null)?.activity?.id;
  if (logged.status !== 201 || id === undefined) throw new Error(`log activity: ${logged.status} ${logged.text}`);
  return id;
}

/** Keyed by `${method} ${url}` exactly as in app.routeTable; every route must be here. */
const ROUTES: Record<string, RouteCase> = {
  'GET /openapi.json': {},
  'GET /healthz': {},
  'GET /setup': {},
  'POST /setup': {
    body: () => ({ token: 'sf_setup_unknown', name: 'Eve', email: 'eve@test.example', password: PASSWORD }),
    everyone: { status: 403, why: 'accounts exist, so every setup link is refused' },
  },
  // Public by design: the link in marketing mail and Mailchimp's webhook carry their own secret in the path.
  'GET /unsubscribe/:token': {
    params: () => ({ token: 'bm90LWEtdG9rZW4' }),
    everyone: { status: 404, why: 'a token this server did not make' },
  },
  'POST /unsubscribe/:token': {
    params: () => ({ token: 'bm90LWEtdG9rZW4' }),
    everyone: { status: 404, why: 'a token this server did not make' },
  },
  'GET /integrations/mailchimp/webhook/:secret': {
    params: () => ({ secret: 'not-the-secret' }),
    everyone: { status: 404, why: 'a wrong webhook secret' },
  },
  'POST /integrations/mailchimp/webhook/:secret': {
    params: () => ({ secret: 'not-the-secret' }),
    body: () => 'type=unsubscribe&data[email]=rep-a1%40test.example&data[list_id]=aud',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    everyone: { status: 404, why: 'a wrong webhook secret' },
  },
  'POST /api/v1/auth/login': {
    freshSession: true,
    body: () => ({ email: 'rep-b2@test.example', password: PASSWORD }),
  },
  'POST /api/v1/auth/logout': { freshSession: true },
  'GET /api/v1/auth/me': {},
  'GET /api/v1/tokens': {},
  'POST /api/v1/tokens': {
    body: () => ({ name: 'matrix', scopes: ['leads:read'] }),
    tokensRefused: 'API tokens cannot make tokens',
  },
  'DELETE /api/v1/tokens/:id': {
    record: 'token',
    params: (k) => ({ id: k.sharedToken }),
    fresh: async (k) => ({ id: await k.victimToken() }),
  },
  'GET /api/v1/users': {},
  'GET /api/v1/users/:id': { params: () => ({ id: OWNER }) },
  'POST /api/v1/users': {
    body: (k) => {
      const id = k.unique('user');
      return { id, email: `${id}@test.example`, name: id, role: 'rep', password: PASSWORD };
    },
  },
  'PATCH /api/v1/users/:id': {
    params: () => ({ id: 'rep-a2' }),
    headers: { 'if-match': '*' },
    body: () => ({ name: 'rep-a2' }),
  },
  'PUT /api/v1/users/:id/availability': {
    record: 'user',
    params: () => ({ id: OWNER }),
    body: () => ({ active: true }),
  },
  'POST /api/v1/users/:id/handover': {
    record: 'user',
    params: () => ({ id: OWNER }),
    body: () => ({ to: 'rep-a2', dryRun: true }),
  },
  'GET /api/v1/teams': {},
  'POST /api/v1/leads': {
    body: (k) => ({ contact: { name: 'Matrix', email: `${k.unique('m')}@acme.example` }, fields: { value: 10 } }),
  },
  'GET /api/v1/leads': { query: '?limit=5' },
  'GET /api/v1/leads/:id': { record: 'lead', params: leadParam },
  'PATCH /api/v1/leads/:id': {
    record: 'lead',
    params: leadParam,
    headers: { 'if-match': '*' },
    body: () => ({ fields: { note: 'matrix' } }),
  },
  'POST /api/v1/leads/:id/move': { record: 'lead', ...freshLead, body: () => ({ stage: 'qualified' }) },
  'POST /api/v1/leads/:id/win': { record: 'lead', ...freshLead, body: () => ({}) },
  'POST /api/v1/leads/:id/lose': { record: 'lead', ...freshLead, body: () => ({ reason: 'budget' }) },
  'POST /api/v1/leads/:id/reopen': {
    record: 'lead',
    params: leadParam,
    fresh: async (k) => {
      const id = await k.freshLead();
      const lost = await call(k.server, 'POST', `/api/v1/leads/${encodeURIComponent(id)}/lose`, {
        token: k.adminToken,
        body: { reason: 'to reopen' },
      });
      if (lost.status !== 200) throw new Error(`lose ${id}: ${lost.status} ${lost.text}`);
      return { id };
    },
    body: () => ({}),
  },
  'POST /api/v1/leads/:id/activate': { record: 'lead', ...freshLead, body: () => ({}) },
  'POST /api/v1/leads/:id/reassign': { record: 'lead', ...freshLead, body: () => ({ owner: 'rep-a2' }) },
  'DELETE /api/v1/leads/:id': { record: 'lead', ...freshLead },
  'GET /api/v1/leads/:id/timeline': { record: 'lead', params: leadParam },
  'GET /api/v1/leads/:id/stays': { record: 'lead', params: leadParam },
  'GET /api/v1/leads/:id/stage': { record: 'lead', params: leadParam },
  'GET /api/v1/leads/:id/history': { record: 'lead', params: leadParam },
  'GET /api/v1/tasks': { query: '?limit=5' },
  'GET /api/v1/tasks/:id': { record: 'task', params: (k) => ({ id: k.fx.task }) },
  'POST /api/v1/tasks/:id/complete': {
    record: 'task',
    params: (k) => ({ id: k.fx.task }),
    fresh: async (k) => ({ id: (await k.freshTask()).task }),
  },
  'POST /api/v1/tasks/:id/reopen': {
    record: 'task',
    params: (k) => ({ id: k.fx.task }),
    fresh: async (k) => {
      const { task } = await k.freshTask();
      const done = await call(k.server, 'POST', `/api/v1/tasks/${encodeURIComponent(task)}/complete`, {
        token: k.adminToken,
      });
      if (done.status !== 200) throw new Error(`complete ${task}: ${done.status} ${done.text}`);
      return { id: task };
    },
  },
  'POST /api/v1/tasks/:id/reassign': {
    record: 'task',
    params: (k) => ({ id: k.fx.task }),
    fresh: async (k) => ({ id: (await k.freshTask()).task }),
    body: () => ({ assignee: 'rep-a2' }),
  },
  'POST /api/v1/leads/:id/tasks': {
    record: 'lead',
    params: leadParam,
    body: () => ({ title: 'Call back', dueAt: '2027-01-05T10:00', kind: 'call' }),
  },
  'PATCH /api/v1/tasks/:id': {
    record: 'task',
    params: async (k) => ({ id: await adHocTask(k) }),
    body: () => ({ dueAt: '2027-01-06T10:00' }),
  },
  'POST /api/v1/tasks/:id/cancel': {
    record: 'task',
    params: async (k) => ({ id: await adHocTask(k) }),
    body: () => ({ reason: 'not needed' }),
  },
  'GET /api/v1/leads/:id/activities': { record: 'lead', params: leadParam },
  'POST /api/v1/leads/:id/activities': {
    record: 'lead',
    params: leadParam,
    body: () => ({ kind: 'call', note: 'matrix' }),
  },
  'GET /api/v1/activities/:id': { record: 'activity', params: async (k) => ({ id: await ownActivity(k) }) },
  'PATCH /api/v1/activities/:id': {
    record: 'activity',
    params: async (k) => ({ id: await ownActivity(k) }),
    body: () => ({ note: 'matrix, corrected' }),
  },
  'DELETE /api/v1/activities/:id': {
    record: 'activity',
    params: async (k) => ({ id: await ownActivity(k) }),
    fresh: async (k) => ({ id: await ownActivity(k) }),
  },
  'POST /api/v1/leads/:id/signals/:name': {
    record: 'lead',
    params: (k) => ({ id: k.fx.lead, name: 'trial_started' }),
  },
  'POST /api/v1/inbound/signals/:name': {
    params: () => ({ name: 'trial_started' }),
    body: (k) => ({ email: k.fx.leadEmail }),
  },
  'GET /api/v1/process': {},
  'GET /api/v1/fields': {},
  'GET /api/v1/process/versions': {},
  'GET /api/v1/process/versions/:version': { params: () => ({ version: '1' }) },
  'POST /api/v1/process/validate': { body: () => ({ source: TEST_PROCESS }) },
  'POST /api/v1/process/diff': { body: () => ({ source: TEST_PROCESS }) },
  'POST /api/v1/process': { body: () => ({ source: TEST_PROCESS }) },
  'POST /api/v1/process/simulate': {
    body: () => ({
      source: TEST_PROCESS,
      events: '{"at":"2026-03-02T09:00:00Z","type":"lead.created","lead":"SIM-1","fields":{"value":10}}',
    }),
  },
  'GET /api/v1/reports': {},
  'GET /api/v1/reports/:name': {
    params: () => ({ name: 'win-rate' }),
    repsRefused: 'a rep may run only their own coaching plan',
  },
  'GET /api/v1/outbox': {},
  'POST /api/v1/outbox/:id/retry': {
    params: (k) => ({ id: k.fx.outbox ?? 'no-outbox-row' }),
    skipAllowed: (k) => (k.fx.outbox === null ? 'the test process made no outbox row to retry' : null),
  },
  'GET /api/v1/outbox/:id/message': {
    params: (k) => ({ id: k.fx.outbox ?? 'no-outbox-row' }),
    skipAllowed: (k) => (k.fx.outbox === null ? 'the test process made no outbox row to read' : null),
  },
  'POST /api/v1/outbox/:id/cancel': {
    params: (k) => ({ id: k.fx.outbox ?? 'no-outbox-row' }),
    skipAllowed: (k) => (k.fx.outbox === null ? 'the test process made no outbox row to cancel' : null),
  },
  'POST /api/v1/outbox/replay-dead': {},
  'POST /api/v1/outbox/retry-kept': {},
  'GET /api/v1/audit': { query: '?limit=1' },
  'POST /api/v1/admin/tick': {},
  'GET /api/v1/board': {},
  'GET /api/v1/admin/config': {},
  'GET /api/v1/exports/:table': { params: () => ({ table: 'leads' }), query: '?format=jsonl' },
  'POST /api/v1/contacts/export': { body: (k) => ({ email: k.fx.leadEmail }) },
  'POST /api/v1/contacts/erase': {
    // Erasing is for good: each call erases a contact of its own.
    params: (k) => ({ email: k.fx.leadEmail }),
    fresh: async (k) => ({ email: (await k.freshContact()).email }),
    body: (_k, p) => ({ email: p['email'] }),
  },
  'GET /api/v1/contacts': { query: '?limit=5' },
  'GET /api/v1/accounts': { query: '?limit=5' },
  'GET /api/v1/accounts/:id': { record: 'account', params: () => ({ id: ACCOUNT }) },
  'GET /api/v1/accounts/:id/leads': { record: 'account', params: () => ({ id: ACCOUNT }), query: '?limit=5' },
  'GET /api/v1/quotas': {},
  'PUT /api/v1/quotas': {
    record: 'quota',
    params: () => ({ subject: OWNER, period: '2026-03' }),
    body: (_k, p) => ({ scope: 'user', subject: p['subject'], period: p['period'], amount: 1000 }),
  },
  'POST /api/v1/quotas/import': {
    body: () => ({ format: 'csv', text: `subject,period,amount\n${OWNER},2026-04,2000\n` }),
  },
  'GET /api/v1/forecast/snapshots': {},
  'POST /api/v1/forecast/snapshots': { body: () => ({}) },
  'POST /api/v1/imports/:format': {
    params: () => ({ format: 'pipedrive' }),
    query: '?dry_run=true',
    body: () => ({ csv: PIPEDRIVE_CSV }),
  },
};

const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

// ---- the expectation ----

type Expected =
  | { kind: 'unauthenticated' }
  /** 403; `audit` is the access.denied row it must leave (target, and the route in it). */
  | { kind: 'forbidden'; why: string; audit: { target: string } }
  /** 404 for a record out of reach, recorded as access.denied with the record as target. */
  | { kind: 'hidden'; audit: { target: string } }
  | { kind: 'allowed' }
  | { kind: 'status'; status: number; why: string };

/** No manager in the matrix has been granted process editing, so processEditor routes refuse them. */
function roleAllowed(route: RouteInfo, role: Role): boolean {
  const roles = route.access.roles;
  if (roles === 'public') return true;
  if (!roles.includes(role)) return false;
  return !(route.access.processEditor && role === 'manager');
}

/** What the route must answer this caller; `caller` null is anonymous, `disabled` an ended account. */
function expectFor(
  route: RouteInfo,
  rc: RouteCase,
  caller: Identity | null,
  disabled: boolean,
  params: Params,
): Expected {
  const key = keyOf(route);
  // A public route treats a credential that no longer works (the disabled caller's) as none at all.
  if (route.access.roles === 'public') return rc.everyone ? { kind: 'status', ...rc.everyone } : { kind: 'allowed' };
  if (caller === null || disabled) return { kind: 'unauthenticated' };
  if (!roleAllowed(route, caller.role))
    return { kind: 'forbidden', why: `role ${caller.role} not in the route's roles`, audit: { target: key } };
  const scope = route.access.scope;
  if (scope !== undefined && caller.scopes !== 'all' && !caller.scopes.includes('*') && !caller.scopes.includes(scope))
    return { kind: 'forbidden', why: `token lacks ${scope}`, audit: { target: key } };
  if (rc.tokensRefused && caller.via === 'token')
    return { kind: 'forbidden', why: rc.tokensRefused, audit: { target: key } };
  if (rc.repsRefused && caller.role === 'rep')
    return { kind: 'forbidden', why: rc.repsRefused, audit: { target: key } };
  const rule: RecordRule | undefined = rc.record && RECORDS[rc.record];
  if (rule && !rule.reaches(caller)) {
    const audit = { target: rule.target(params) };
    return rule.refusal === 404
      ? { kind: 'hidden', audit }
      : { kind: 'forbidden', why: `${rc.record ?? ''} out of reach`, audit };
  }
  return { kind: 'allowed' };
}

/** Whether the answer is what was expected; a string says why not. */
function judge(e: Expected, a: Answer, rc: RouteCase, k: Kit): string | null {
  const type = (a.body as { type?: unknown } | null)?.type;
  switch (e.kind) {
    case 'unauthenticated':
      return a.status === 401 ? null : `expected 401`;
    case 'forbidden':
      if (a.status !== 403) return `expected 403 (${e.why})`;
      return type === 'https://stageflow.dev/problems/forbidden'
        ? null
        : `expected type forbidden, got ${String(type)}`;
    case 'hidden':
      if (a.status !== 404) return `expected 404 (record out of reach)`;
      return type === 'https://stageflow.dev/problems/not-found'
        ? null
        : `expected type not-found, got ${String(type)}`;
    case 'status':
      return a.status === e.status ? null : `expected ${e.status} (${e.why})`;
    case 'allowed': {
      if (a.status === 401 || a.status === 403) return `an allowed caller got ${a.status}`;
      if (a.status >= 500) return `an allowed caller got ${a.status}`;
      const skip = rc.skipAllowed?.(k) ?? null;
      if (skip === null && a.status === 404) return `an allowed caller got 404`;
      return null;
    }
  }
}

// ---- the tests ----

interface Denial {
  target: string;
  actor: string;
  route: string;
}

interface AuditRow {
  actor: string;
  action: string;
  target: string | null;
  details: { route?: string; reason?: string };
}

describe.each(dialects)('authorization matrix on %s', (dialect) => {
  let server: TestServer;
  let adminToken: string;
  let fx: Fixtures;
  let disabledToken: { token: string; id: string };
  let disabledSession: Session;
  const sessions = new Map<string, Session>();
  const tokens = new Map<string, { token: string; id: string }>();
  const denials: Denial[] = [];
  let counter = 0;
  let kit: Kit;

  async function sessionOf(person: string): Promise<Session> {
    let s = sessions.get(person);
    if (!s) {
      s = await login(server, person);
      sessions.set(person, s);
    }
    return s;
  }

  /** A token made through the API by the person's session; its id is for the audit actor. */
  async function makeToken(person: string, scopes: string[]): Promise<{ token: string; id: string }> {
    const r = await call(server, 'POST', '/api/v1/tokens', {
      ...(await sessionOf(person)),
      body: { name: `matrix ${person} ${scopes.join(' ')}`, scopes },
    });
    if (r.status !== 201) throw new Error(`token for ${person}: ${r.status} ${r.text}`);
    const b = r.body as { token: string; id: string };
    return { token: b.token, id: b.id };
  }

  async function tokenOf(person: string, scopes: string[]): Promise<{ token: string; id: string }> {
    const key = `${person} ${scopes.join(',')}`;
    let t = tokens.get(key);
    if (!t) {
      t = await makeToken(person, scopes);
      tokens.set(key, t);
    }
    return t;
  }

  /** The least-privileged person of OWNER's line (rep, their manager, admin) whom the route lets in. */
  function principalFor(route: RouteInfo, rc: RouteCase): string {
    for (const person of [OWNER, 'mgr-a', 'admin']) {
      const role = PEOPLE[person] as Role;
      const as: Identity = { member: person, role, via: 'token', tokenId: 'x', scopes: ['*'] };
      if (roleAllowed(route, role) && expectFor(route, rc, as, false, {}).kind === 'allowed') return person;
    }
    return OWNER;
  }

  /** The credential and identity of one kind of caller for one route. */
  async function callerFor(
    kind: Kind,
    route: RouteInfo,
    rc: RouteCase,
  ): Promise<{ opts: CallOptions; identity: Identity | null; disabled: boolean }> {
    const person = SESSION_PERSON[kind];
    if (person !== undefined) {
      const s = rc.freshSession ? await login(server, person) : await sessionOf(person);
      return {
        opts: { cookie: s.cookie, csrf: s.csrf },
        identity: { member: person, role: PEOPLE[person] as Role, via: 'session', scopes: 'all' },
        disabled: false,
      };
    }
    const tokenCaller = (person: string, t: { token: string; id: string }, scopes: string[]) => ({
      opts: { token: t.token },
      identity: { member: person, role: PEOPLE[person] as Role, via: 'token' as const, tokenId: t.id, scopes },
      disabled: false,
    });
    switch (kind) {
      case 'anonymous':
        return { opts: {}, identity: null, disabled: false };
      case 'disabled':
        return {
          opts: { token: disabledToken.token },
          identity: { member: DISABLED, role: 'rep', via: 'token', tokenId: disabledToken.id, scopes: ['*'] },
          disabled: true,
        };
      case 'rep-owner-token-all-scopes':
        return tokenCaller(OWNER, await tokenOf(OWNER, ['*']), ['*']);
      case 'token-with-scope': {
        const p = principalFor(route, rc);
        const scopes = [route.access.scope ?? '*'];
        return tokenCaller(p, await tokenOf(p, scopes), scopes);
      }
      case 'token-without-scope': {
        const p = principalFor(route, rc);
        const scopes = [otherScope(route.access.scope)];
        return tokenCaller(p, await tokenOf(p, scopes), scopes);
      }
      default:
        throw new Error(`no caller for ${kind}`);
    }
  }

  beforeAll(async () => {
    // Unsubscribe links and Mailchimp's webhook on, so their 404s below are a wrong token or secret's.
    server = await startServer(dialect, {
      publicRoutes: {
        unsubscribeSecret: 'the-matrix-unsubscribe-secret-0123456789',
        mailchimpWebhook: { secret: 'the-matrix-webhook-secret', lists: new Map([['nurture', 'aud']]) },
      },
    });
    adminToken = await tokenFor(server, 'admin');
    const lead = await leadOf(server, adminToken, OWNER);
    const got = await call(server, 'GET', `/api/v1/leads/${lead}`, { token: adminToken });
    const body = got.body as { contact: { email: string }; openTasks: { id: string }[] };
    const task = body.openTasks[0]?.id;
    if (!task) throw new Error(`lead ${lead} has no open task`);
    const outbox = await call(server, 'GET', '/api/v1/outbox?limit=1', { token: adminToken });
    const rows = (outbox.body as { items: { id: string }[] }).items;
    fx = { lead, leadEmail: body.contact.email, task, outbox: rows[0]?.id ?? null };
    const company = await call(server, 'PATCH', `/api/v1/leads/${lead}`, {
      token: adminToken,
      headers: { 'if-match': '*' },
      body: { contact: { company: 'Matrix Co' } },
    });
    if (company.status !== 200) throw new Error(`company of ${lead}: ${company.status} ${company.text}`);
    await upsertAccounts(server.store.db, [
      {
        id: ACCOUNT,
        name: 'Matrix Co',
        sector: null,
        year_established: null,
        revenue_minor: null,
        employees: null,
        location: null,
        parent: null,
        import_source: 'test',
        updated_at: server.clock.now,
      },
    ]);

    // The disabled account: signed in and holding a token while still enabled.
    const made = await call(server, 'POST', '/api/v1/users', {
      token: adminToken,
      body: { id: DISABLED, email: `${DISABLED}@test.example`, name: 'Gone', role: 'rep', password: PASSWORD },
    });
    if (made.status !== 201) throw new Error(`create ${DISABLED}: ${made.status} ${made.text}`);
    disabledSession = await sessionOf(DISABLED);
    disabledToken = await makeToken(DISABLED, ['*']);
    const user = await call(server, 'GET', `/api/v1/users/${DISABLED}`, { token: adminToken });
    const off = await call(server, 'PATCH', `/api/v1/users/${DISABLED}`, {
      token: adminToken,
      headers: { 'if-match': user.headers.get('etag') ?? '' },
      body: { disabled: true },
    });
    if (off.status !== 200) throw new Error(`disable ${DISABLED}: ${off.status} ${off.text}`);

    kit = {
      server,
      fx,
      adminToken,
      unique: (prefix) => `${prefix}-${dialect}-${++counter}`,
      freshLead: () => leadOf(server, adminToken, OWNER),
      async freshTask() {
        const id = await leadOf(server, adminToken, OWNER);
        const r = await call(server, 'GET', `/api/v1/leads/${id}`, { token: adminToken });
        const t = (r.body as { openTasks: { id: string }[] }).openTasks[0]?.id;
        if (!t) throw new Error(`lead ${id} has no open task`);
        return { lead: id, task: t };
      },
      victimToken: async () => (await makeToken(OWNER, ['leads:read'])).id,
      sharedToken: (await makeToken(OWNER, ['leads:read'])).id,
      async freshContact() {
        const email = `${kit.unique('contact')}@acme.example`;
        const r = await call(server, 'POST', '/api/v1/leads', {
          token: adminToken,
          body: { owner: OWNER, contact: { name: 'Erasable', email }, fields: { value: 5 } },
        });
        if (r.status !== 201) throw new Error(`lead for ${email}: ${r.status} ${r.text}`);
        return { lead: (r.body as { id: string }).id, email };
      },
    };
  });
  afterAll(() => server.close());

  it('has a matrix entry for every route in the route table', () => {
    const table = server.app.routeTable.map(keyOf);
    expect(table.length).toBeGreaterThan(0);
    expect(
      table.filter((k) => !(k in ROUTES)),
      'routes missing from ROUTES in test/http/authorization.test.ts',
    ).toEqual([]);
  });

  it('answers every route and caller as the declared access and the reach rules say', async () => {
    const failures: string[] = [];
    let checked = 0;
    for (const route of server.app.routeTable) {
      const key = keyOf(route);
      const rc = ROUTES[key];
      if (!rc) {
        failures.push(`${key}: no entry in ROUTES`);
        continue;
      }
      for (const kind of KINDS) {
        const { opts, identity, disabled } = await callerFor(kind, route, rc);
        let params = (await rc.params?.(kit)) ?? {};
        if (rc.fresh && expectFor(route, rc, identity, disabled, params).kind === 'allowed')
          params = await rc.fresh(kit);
        const path =
          route.url.replace(/:([A-Za-z]+)/g, (_, name: string) => {
            const v = params[name];
            if (v === undefined) throw new Error(`${key}: no value for :${name}`);
            return encodeURIComponent(v);
          }) + (rc.query ?? '');
        const expected = expectFor(route, rc, identity, disabled, params);
        const body = rc.body?.(kit, params);
        const a = await call(server, route.method, path, {
          ...opts,
          ...(body !== undefined ? { body } : {}),
          ...(rc.headers ? { headers: rc.headers } : {}),
        });
        checked++;
        const wrong = judge(expected, a, rc, kit);
        if (wrong) failures.push(`${key} as ${kind}: ${wrong}, got ${a.status} ${a.text.slice(0, 200)}`);
        if (identity && (expected.kind === 'forbidden' || expected.kind === 'hidden'))
          denials.push({ target: expected.audit.target, actor: auditActor(identity), route: key });
      }
    }
    expect(failures).toEqual([]);
    expect(checked).toBe(server.app.routeTable.length * KINDS.length);
  }, 180_000);

  it('records every 403 and out-of-reach 404 of the matrix in the audit log as access.denied', async () => {
    expect(denials.length).toBeGreaterThan(0);
    const byTarget = new Map<string, string[]>();
    for (const d of denials) byTarget.set(d.target, [...(byTarget.get(d.target) ?? []), `${d.actor} @ ${d.route}`]);
    const missing: string[] = [];
    for (const [target, want] of byTarget) {
      const r = await call(
        server,
        'GET',
        `/api/v1/audit?action=access.denied&target=${encodeURIComponent(target)}&limit=500`,
        { token: adminToken },
      );
      expect(r.status).toBe(200);
      const rows = (r.body as { items: AuditRow[] }).items;
      const have = rows.map((row) => `${row.actor} @ ${row.details.route ?? row.target ?? ''}`);
      for (const w of want) {
        const i = have.indexOf(w);
        if (i === -1) missing.push(`${target}: ${w}`);
        else have.splice(i, 1);
      }
    }
    expect(missing).toEqual([]);
  });

  it("answers a manager asking for another team's rep's coaching plan 404, recorded as access.denied", async () => {
    const s = await sessionOf('mgr-a');
    const r = await call(server, 'GET', '/api/v1/reports/coaching?owner=rep-b1', s);
    expect(r.status).toBe(404);
    const audit = await call(server, 'GET', '/api/v1/audit?action=access.denied&limit=500', { token: adminToken });
    const rows = (audit.body as { items: AuditRow[] }).items;
    expect(
      rows.filter((row) => row.actor === 'mgr-a' && (row.details.route ?? row.target) === 'GET /api/v1/reports/:name'),
    ).toHaveLength(1);
  });

  it('refuses a cookie-authenticated write without the CSRF token (403 csrf-failed), and takes it with one', async () => {
    const s = await sessionOf(OWNER);
    for (const csrf of [undefined, 'not-the-token']) {
      const r = await call(server, 'PATCH', `/api/v1/leads/${fx.lead}`, {
        cookie: s.cookie,
        ...(csrf !== undefined ? { csrf } : {}),
        headers: { 'if-match': '*' },
        body: { fields: { note: 'csrf' } },
      });
      expect(r.status).toBe(403);
      expect((r.body as { type: string }).type).toMatch(/csrf-failed$/);
    }
    const ok = await call(server, 'PATCH', `/api/v1/leads/${fx.lead}`, {
      ...s,
      headers: { 'if-match': '*' },
      body: { fields: { note: 'csrf' } },
    });
    expect(ok.status).toBe(200);
  });

  it('ends the sessions of a disabled user: their old cookie gets 401', async () => {
    const me = await call(server, 'GET', '/api/v1/auth/me', { cookie: disabledSession.cookie });
    expect(me.status).toBe(401);
    const tok = await call(server, 'GET', '/api/v1/auth/me', { token: disabledToken.token });
    expect(tok.status).toBe(401);
  });

  it('lets someone sign in again while their browser still sends a session cookie that has ended', async () => {
    const id = kit.unique('back');
    const made = await call(server, 'POST', '/api/v1/users', {
      token: adminToken,
      body: { id, email: `${id}@test.example`, name: id, role: 'rep', password: PASSWORD },
    });
    expect(made.status).toBe(201);
    const old = await login(server, id);
    // An admin resets the password, which ends every session of theirs; the cookie stays in the browser.
    const newPassword = 'another long and uncommon phrase';
    const reset = await call(server, 'PATCH', `/api/v1/users/${id}`, {
      token: adminToken,
      headers: { 'if-match': '*' },
      body: { password: newPassword },
    });
    expect(reset.status).toBe(200);
    const again = await call(server, 'POST', '/api/v1/auth/login', {
      cookie: old.cookie,
      body: { email: `${id}@test.example`, password: newPassword },
    });
    expect(again.status).toBe(200);
  });

  it('lets a manager apply the process once granted process editing, and not before', async () => {
    const s = await login(server, 'mgr-b');
    const apply = () => call(server, 'POST', '/api/v1/process', { ...s, body: { source: TEST_PROCESS } });
    expect((await apply()).status).toBe(403);
    const grant = await call(server, 'PATCH', '/api/v1/users/mgr-b', {
      token: adminToken,
      headers: { 'if-match': '*' },
      body: { canEditProcess: true },
    });
    expect(grant.status).toBe(200);
    expect([200, 201]).toContain((await apply()).status);
  });
});
