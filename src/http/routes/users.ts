import { z } from 'zod';
import { AccountError, createAccount } from '../../auth/accounts.js';
import { hashPassword, passwordProblem } from '../../auth/passwords.js';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AVAILABILITY_FIELDS, availabilityState } from '../../domain/availability.js';
import {
  AVAILABILITY_API_NAME,
  availabilityChangeOf,
  availabilityChangeSchema,
} from '../../domain/availability-change.js';
import { AvailabilityRefused, setAvailability } from '../../engine/availability-service.js';
import { withTransaction } from '../../store/db.js';
import { appendAudit } from '../../store/audit.js';
import {
  activeAdminCount,
  emailTaken,
  lockActiveAdmins,
  findMember,
  listMembers,
  ROLES,
  updateMember,
  type Member,
  type MemberChanges,
} from '../../store/members.js';
import { deleteSessionsOf } from '../../store/sessions.js';
import { ADMINS, EVERYONE, MANAGERS, reachesOwner } from '../access.js';
import type { AppContext } from '../app.js';
import type { EffectiveProcess } from '../process-cache.js';
import { etagOf } from '../present.js';
import { Problem } from '../problem.js';
import { pageOfAll, pageQuery } from '../paging.js';
import { teamListSchema, userListSchema, userSchema } from '../schemas.js';
import { presentMember } from './auth.js';
import { callerOf, denyAsMissing, expectedVersion, reachFor, type Api } from './shared.js';
import type { User } from '../../domain/process-schema.js';

/**
 * Users and teams. A user is two things joined by id: a sign-in account (role, email) and, for reps
 * and managers, a user of the process (territories, products, tier, availability, capacity). The
 * availability a manager sets here is data about the person, kept apart from the process versions
 * as overrides of the file's values (domain/availability.ts): no lead changes and no version is made.
 */

function presentUser(id: string, member: Member | undefined, effective: EffectiveProcess | null) {
  const u = effective?.process.users.find((x) => x.id === id);
  const override = effective?.overrides.find((o) => o.user === id);
  return {
    id,
    name: member?.name ?? u?.name ?? id,
    account: member ? presentMember(member) : null,
    routing: u
      ? {
          territories: u.territories,
          products: u.products,
          tier: u.tier ?? null,
          weight: u.weight,
          active: u.active,
          timezone: u.timezone ?? null,
          workingHours: u.working_hours ?? null,
          outOfOffice: u.out_of_office,
          capacity: u.capacity,
          availabilitySetBy: override
            ? {
                fields: AVAILABILITY_FIELDS.filter((f) => f in override.override).map((f) => AVAILABILITY_API_NAME[f]),
                by: override.changedBy,
                at: new Date(override.changedAt).toISOString(),
              }
            : null,
          availabilityTag: availabilityTag(u, override),
        }
      : null,
    teams: (effective?.process.teams ?? []).filter((t) => t.members.includes(id) || t.manager === id).map((t) => t.id),
  };
}

/** A user read's weak ETag: the account version, then what the routing part shows (process version, availability revision). */
function userReadTag(accountVersion: number, processVersion: number, revision: number): string {
  return `W/"${accountVersion}.${processVersion}.${revision}"`;
}

const USER_READ_TAG = /^(?:W\/)?"(\d{1,15})\.\d+\.\d+"$/;

/**
 * PATCH's If-Match names the account's version: "3" as PATCH answers it, or the ETag of a read
 * (W/"3.p.r"), of which only the account part counts, since PATCH changes only the account.
 */
function expectedAccountVersion(req: FastifyRequest, current: number): number | undefined {
  const raw = req.headers['if-match'];
  const tags = (Array.isArray(raw) ? raw.join(',') : (raw ?? '')).split(',').map((t) => t.trim());
  const read = tags.flatMap((t) => {
    const m = USER_READ_TAG.exec(t);
    return m?.[1] ? [Number(m[1])] : [];
  });
  if (read.length === 0) return expectedVersion(req, current, true);
  if (read.length === 1 && read[0] !== undefined) return read[0];
  if (read.includes(current)) return current;
  throw new Problem('precondition-failed', `the record is at version ${current}: reload it and try again`, {
    headers: { etag: etagOf(current) },
  });
}

/** If-Match on PUT availability: optional (older clients send none); a stale tag is a 412 carrying the current one. */
function checkAvailabilityTag(req: FastifyRequest, id: string, current: string): void {
  const raw = req.headers['if-match'];
  if (raw === undefined) return;
  const tags = (Array.isArray(raw) ? raw.join(',') : raw).split(',').map((t) => t.trim());
  if (tags.includes('*') || tags.includes(current)) return;
  throw new Problem(
    'precondition-failed',
    `the availability of "${id}" has changed since you read it: read GET /users/${id} again and resend the whole change`,
    { headers: { etag: current } },
  );
}

/** A person's availability tag: a short hash of what it covers (domain/availability.ts availabilityState). */
function availabilityTag(user: User, stored: { changedAt: number; changedBy: string | null } | undefined): string {
  const state = availabilityState(user, stored?.changedAt ?? null, stored?.changedBy ?? null);
  return `"a${createHash('sha256').update(state).digest('base64url').slice(0, 22)}"`;
}

/** Checked with the rest of the body, so one answer lists every failing field, the password's too. */
const passwordSchema = z
  .string()
  .max(1024)
  .superRefine((password, ctx) => {
    const problem = passwordProblem(password);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

export function userRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Everyone: sign-in accounts and process users, with availability, by id',
        querystring: z.object(pageQuery).strict(),
        response: { 200: userListSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'users:read' } },
    },
    async (req) => {
      const effective = await ctx.processes.effective();
      const process = effective?.process ?? null;
      const members = new Map((await listMembers(ctx.store.db)).map((m) => [m.id, m]));
      const ids = [...new Set([...(process?.users ?? []).map((u) => u.id), ...members.keys()])];
      return pageOfAll(
        ids,
        req.query,
        (id) => [id],
        (id) => presentUser(id, members.get(id), effective),
      );
    },
  );

  api.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary:
          'One user; the weak ETag W/"account.process.availability" changes with anything shown (If-Match on PATCH takes its account part)',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: userSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'users:read' }, etag: true },
    },
    async (req, reply) => {
      const effective = await ctx.processes.effective();
      const member = (await findMember(ctx.store.db, req.params.id)) ?? undefined;
      if (!member && !effective?.process.users.some((u) => u.id === req.params.id))
        throw new Problem('not-found', `user "${req.params.id}" does not exist`);
      // Weak and covering the routing part too, so a conditional read sees a changed availability or
      // process (app.ts answers 304 only while all three are the same).
      void reply.header('etag', userReadTag(member?.version ?? 0, effective?.version ?? 0, effective?.revision ?? 0));
      return presentUser(req.params.id, member, effective);
    },
  );

  api.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a sign-in account; for a rep or manager, id is their process user id',
        body: z
          .object({
            id: z
              .string()
              .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/)
              .optional(),
            email: z.email().max(320),
            name: z.string().min(1).max(200),
            role: z.enum(ROLES),
            password: passwordSchema.optional().describe('At least 8 characters, not a common password'),
            canEditProcess: z.boolean().default(false),
          })
          .strict(),
        response: { 201: userSchema },
      },
      // An id or email already taken.
      config: { access: { roles: ADMINS, scope: 'users:write' }, problems: ['conflict'], etag: true },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      try {
        const m = await createAccount(ctx.store, req.body, ctx.now(), caller.member.id);
        void reply.header('location', `/api/v1/users/${m.id}`).header('etag', etagOf(m.version));
        return reply.code(201).send(presentUser(m.id, m, await ctx.processes.effective()));
      } catch (e) {
        if (!(e instanceof AccountError)) throw e;
        const type = e.field === 'password' ? 'validation-failed' : 'conflict';
        throw new Problem(type, e.message, { errors: [{ field: `body.${e.field}`, message: e.message }] });
      }
    },
  );

  api.patch(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'Change an account: name, email, role, process editing, disabled, password (If-Match required)',
        params: z.object({ id: z.string().min(1).max(100) }),
        headers: z.object({ 'if-match': z.string().optional() }),
        body: z
          .object({
            name: z.string().min(1).max(200).optional(),
            email: z.email().max(320).optional(),
            role: z.enum(ROLES).optional(),
            canEditProcess: z.boolean().optional(),
            disabled: z.boolean().optional(),
            password: passwordSchema.optional(),
          })
          .strict(),
        response: { 200: userSchema },
      },
      // An email already taken, or the last active admin demoted or disabled.
      config: { access: { roles: ADMINS, scope: 'users:write' }, problems: ['conflict'], etag: 'if-match-required' },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const member = await findMember(ctx.store.db, req.params.id);
      if (!member) throw new Problem('not-found', `user "${req.params.id}" has no account`);
      const version = expectedAccountVersion(req, member.version);
      const b = req.body;
      if (b.email !== undefined && (await emailTaken(ctx.store.db, b.email, member.id)))
        throw new Problem('conflict', `a user with email ${b.email} already exists`);
      const changes: MemberChanges = {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.email !== undefined ? { email: b.email } : {}),
        ...(b.role !== undefined ? { role: b.role } : {}),
        ...(b.canEditProcess !== undefined ? { canEditProcess: b.canEditProcess } : {}),
        ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        ...(b.password !== undefined ? { passwordHash: await hashPassword(b.password) } : {}),
      };
      const now = ctx.now();
      const mayRemoveAdmin = b.role !== undefined || b.disabled === true;
      await withTransaction(ctx.store, async (tx) => {
        if (mayRemoveAdmin && ctx.store.dialect === 'postgres') await lockActiveAdmins(tx);
        if (!(await updateMember(tx, member.id, version, changes, now)))
          throw new Problem('precondition-failed', `user "${member.id}" has changed since you read it`, {
            headers: { etag: etagOf(member.version) },
          });
        // Checked after the write, inside its transaction (the admins locked before it), so two
        // admins demoting each other at once cannot both pass.
        if (mayRemoveAdmin && (await activeAdminCount(tx)) === 0)
          throw new Problem(
            'conflict',
            `user "${member.id}" is the last active admin: make another admin first, then ${b.disabled === true ? 'disable' : 'demote'} this one`,
          );
        const actor = caller.member.id;
        if (b.role !== undefined && b.role !== member.role)
          await appendAudit(
            tx,
            { actor, action: 'member.role_changed', target: member.id, details: { from: member.role, to: b.role } },
            now,
          );
        if (b.canEditProcess !== undefined && b.canEditProcess !== member.canEditProcess)
          await appendAudit(
            tx,
            { actor, action: 'member.process_grant_changed', target: member.id, details: { to: b.canEditProcess } },
            now,
          );
        if (b.disabled !== undefined && b.disabled !== (member.disabledAt !== null)) {
          await appendAudit(
            tx,
            { actor, action: b.disabled ? 'member.disabled' : 'member.enabled', target: member.id, details: {} },
            now,
          );
          if (b.disabled) await deleteSessionsOf(tx, member.id);
        }
        if (b.password !== undefined) {
          await appendAudit(tx, { actor, action: 'member.password_changed', target: member.id, details: {} }, now);
          await deleteSessionsOf(tx, member.id);
        }
        if (b.name !== undefined || b.email !== undefined)
          await appendAudit(
            tx,
            {
              actor,
              action: 'member.updated',
              target: member.id,
              details: { fields: Object.keys(b).filter((k) => k === 'name' || k === 'email') },
            },
            now,
          );
      });
      const after = await findMember(ctx.store.db, member.id);
      if (!after) throw new Problem('not-found', `user "${member.id}" has no account`);
      void reply.header('etag', etagOf(after.version));
      return presentUser(after.id, after, await ctx.processes.effective());
    },
  );

  api.put(
    '/users/:id/availability',
    {
      schema: {
        tags: ['users'],
        summary:
          "Change a rep's availability: active, out-of-office periods, capacity or working hours (kept over the process file's; no lead changes)",
        params: z.object({ id: z.string().min(1).max(100) }),
        headers: z.object({
          'if-match': z
            .string()
            .optional()
            .describe('routing.availabilityTag of your last read: a 412 when someone changed it since'),
        }),
        body: availabilityChangeSchema,
        response: { 200: userSchema },
      },
      // The process with the change fails its own checks (an inactive default owner, say); a stale If-Match.
      config: {
        access: { roles: MANAGERS, scope: 'users:write' },
        problems: ['rule-refused', 'precondition-failed'],
      },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const id = req.params.id;
      if (!(await ctx.processes.current())?.process.users.some((u) => u.id === id))
        throw new Problem('not-found', `user "${id}" is not in the process`);
      if (!reachesOwner(await reachFor(ctx, caller), id)) return denyAsMissing(ctx, req, `user "${id}"`);
      await setAvailability(ctx.store, {
        user: id,
        change: availabilityChangeOf(req.body),
        by: caller.member.id,
        now: ctx.now(),
        precondition: (effective, stored) => checkAvailabilityTag(req, id, availabilityTag(effective, stored)),
      }).catch((e: unknown) => {
        if (!(e instanceof AvailabilityRefused)) throw e;
        throw new Problem(e.reason === 'unknown_user' ? 'not-found' : 'rule-refused', e.message);
      });
      const shown = presentUser(id, (await findMember(ctx.store.db, id)) ?? undefined, await ctx.processes.effective());
      if (shown.routing) void reply.header('etag', shown.routing.availabilityTag);
      return shown;
    },
  );

  api.get(
    '/teams',
    {
      schema: {
        tags: ['users'],
        summary: 'Teams with their manager and members, by id',
        querystring: z.object(pageQuery).strict(),
        response: { 200: teamListSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'users:read' } },
    },
    async (req) =>
      pageOfAll(
        (await ctx.processes.current())?.process.teams ?? [],
        req.query,
        (t) => [t.id],
        (t) => ({ id: t.id, name: t.name, manager: t.manager ?? null, members: t.members }),
      ),
  );
}
