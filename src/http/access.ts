import type { Process } from '../domain/process-schema.js';
import type { Member, Role } from '../store/members.js';

/**
 * Who may call what. A route declares the roles that may call it and the token scope it needs;
 * records are then filtered by the caller's reach: an admin reaches every lead, a manager the leads
 * of the teams they manage (and their own), a rep their own leads and the tasks assigned to them.
 * Whoever holds an open task on a lead may also work it: read it and log activities on it.
 * A record out of reach answers 404, as if it did not exist.
 */

/** Token scopes: what an integration's token may do, within its owner's role. */
export const SCOPES = {
  'leads:read': 'read leads, tasks, activities and timelines',
  'leads:write': 'create, update and move leads; complete tasks; log activities and signals',
  'process:read': 'read the process and its versions',
  'process:write': 'validate, diff and apply process versions',
  'reports:read': 'run reports and coaching; read quotas and forecast snapshots',
  'forecast:write': 'set quotas and take forecast snapshots',
  'users:read': 'read users and teams',
  'users:write': 'create and change users, roles and availability',
  admin: 'outbox, audit log, imports, exports and contact erasure',
  'signals:inbound': 'send product signals (trial_started, ...) matched to leads by email',
} as const;
export type Scope = keyof typeof SCOPES;
export const SCOPE_NAMES = Object.keys(SCOPES) as Scope[];

export interface Access {
  /** 'public' needs no caller; otherwise the roles that may call the route. */
  roles: 'public' | readonly Role[];
  /** The token scope the route needs (sessions have every scope their role allows). */
  scope?: Scope;
  /** Managers may call it only with the process-edit grant. */
  processEditor?: boolean;
}

export const EVERYONE: readonly Role[] = ['admin', 'manager', 'rep'];
export const MANAGERS: readonly Role[] = ['admin', 'manager'];
export const ADMINS: readonly Role[] = ['admin'];

export interface Caller {
  member: Member;
  via: 'session' | 'token';
  /** Token scopes; sessions carry none and are limited by role alone. */
  scopes: ReadonlySet<string> | 'all';
  tokenId?: string;
  session?: { hash: string; csrf: string };
}

/** Whose idempotency keys and audit rows these are: a token is its own scope, as the issue asks. */
export function callerKey(c: Caller): string {
  return c.tokenId ? `token:${c.tokenId}` : `member:${c.member.id}`;
}

export function callerLabel(c: Caller | null): string {
  if (!c) return 'anonymous';
  return c.tokenId ? `${c.member.id} (token ${c.tokenId})` : c.member.id;
}

export function hasScope(c: Caller, scope: Scope | undefined): boolean {
  if (scope === undefined || c.scopes === 'all') return true;
  return c.scopes.has('*') || c.scopes.has(scope);
}

/** Why the caller may not call a route with this access, or null. */
export function accessDenial(c: Caller, a: Access): string | null {
  if (a.roles === 'public') return null;
  if (!a.roles.includes(c.member.role)) return `a ${c.member.role} may not do this`;
  if (a.processEditor && c.member.role === 'manager' && !c.member.canEditProcess)
    return 'this manager has not been granted process editing';
  if (!hasScope(c, a.scope)) return `the token lacks the scope "${a.scope}"`;
  return null;
}

/** The owners whose leads a caller reaches; 'all' for admins. */
export type Reach = { kind: 'all' } | { kind: 'owners'; owners: ReadonlySet<string>; me: string };

export function reachOf(member: Member, process: Process | null): Reach {
  if (member.role === 'admin') return { kind: 'all' };
  const owners = new Set([member.id]);
  if (member.role === 'manager' && process)
    for (const team of process.teams) if (team.manager === member.id) for (const m of team.members) owners.add(m);
  return { kind: 'owners', owners, me: member.id };
}

export function reachesOwner(reach: Reach, owner: string | null): boolean {
  return reach.kind === 'all' || (owner !== null && reach.owners.has(owner));
}

/**
 * What a lead is reached for: `work` (reading it, its activities, timeline and stays, and logging an
 * activity), or `manage` (editing, moving, closing, reassigning, deleting it; signals).
 */
export type LeadUse = 'work' | 'manage';

/**
 * A lead is reached through its owner. To work it, also through an open task on it assigned to
 * someone the caller reaches: a task handed to a rep on a colleague's lead is work they must be able
 * to do (the contact to call, the notes), but the lead stays its owner's to manage.
 */
export async function reachesLead(
  reach: Reach,
  owner: string | null,
  use: LeadUse,
  openTaskAssignees: () => Promise<string[]>,
): Promise<boolean> {
  if (reachesOwner(reach, owner)) return true;
  if (use === 'manage') return false;
  // Read only when needed: most calls are on the caller's own leads.
  return (await openTaskAssignees()).some((a) => reachesOwner(reach, a));
}

/** A task is reached through its lead, or by being assigned to someone the caller reaches. */
export function reachesTask(reach: Reach, leadOwner: string | null, assignee: string | null): boolean {
  return reachesOwner(reach, leadOwner) || reachesOwner(reach, assignee);
}
