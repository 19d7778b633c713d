import { z } from 'zod';
import { AccountError, createAccount } from '../../auth/accounts.js';
import { hashPassword, passwordProblem } from '../../auth/passwords.js';
import type { Process, User } from '../../domain/process-schema.js';
import { applyProcess, ProcessRejected } from '../../engine/process-service.js';
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
import { etagOf } from '../present.js';
import { Problem } from '../problem.js';
import { pageOfAll, pageQuery } from '../paging.js';
import { availabilitySchema, teamListSchema, userListSchema, userSchema } from '../schemas.js';
import { presentMember } from './auth.js';
import { callerOf, denyAsMissing, expectedVersion, reachFor, type Api } from './shared.js';

/**
 * Users and teams. A user is two things joined by id: a sign-in account (role, email) and, for reps
 * and managers, a user of the process (territories, products, tier, availability, capacity). The
 * availability half is process data, so changing it stores a new process version, as an edit of
 * the process file would.
 */

function presentUser(id: string, member: Member | undefined, process: Process | null) {
  const u = process?.users.find((x) => x.id === id);
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
        }
      : null,
    teams: (process?.teams ?? []).filter((t) => t.members.includes(id) || t.manager === id).map((t) => t.id),
  };
}

const localDate = z.iso.date();
const availabilityBody = z
  .object({
    active: z.boolean().optional(),
    outOfOffice: z.array(z.object({ from: localDate, to: localDate }).strict()).optional(),
    capacity: z
      .object({
        per_day: z.number().int().positive().optional(),
        per_week: z.number().int().positive().optional(),
        max_open: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    workingHours: z
      .object({
        days: z.array(z.number().int().min(1).max(7)).min(1),
        start: z.string().regex(/^\d\d:\d\d$/),
        end: z.string().regex(/^\d\d:\d\d$/),
      })
      .strict()
      .optional(),
  })
  .strict();

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
      const process = (await ctx.processes.current())?.process ?? null;
      const members = new Map((await listMembers(ctx.store.db)).map((m) => [m.id, m]));
      const ids = [...new Set([...(process?.users ?? []).map((u) => u.id), ...members.keys()])];
      return pageOfAll(
        ids,
        req.query,
        (id) => [id],
        (id) => presentUser(id, members.get(id), process),
      );
    },
  );

  api.get(
    '/users/:id',
    {
      schema: {
        tags: ['users'],
        summary: 'One user; the ETag is its account’s version',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: userSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'users:read' } },
    },
    async (req, reply) => {
      const process = (await ctx.processes.current())?.process ?? null;
      const member = (await findMember(ctx.store.db, req.params.id)) ?? undefined;
      if (!member && !process?.users.some((u) => u.id === req.params.id))
        throw new Problem('not-found', `user "${req.params.id}" does not exist`);
      if (member) void reply.header('etag', etagOf(member.version));
      return presentUser(req.params.id, member, process);
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
      config: { access: { roles: ADMINS, scope: 'users:write' }, problems: ['conflict'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      try {
        const m = await createAccount(ctx.store, req.body, ctx.now(), caller.member.id);
        void reply.header('location', `/api/v1/users/${m.id}`).header('etag', etagOf(m.version));
        return reply.code(201).send(presentUser(m.id, m, (await ctx.processes.current())?.process ?? null));
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
      config: { access: { roles: ADMINS, scope: 'users:write' }, problems: ['conflict'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const member = await findMember(ctx.store.db, req.params.id);
      if (!member) throw new Problem('not-found', `user "${req.params.id}" has no account`);
      const version = expectedVersion(req, member.version, true);
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
      return presentUser(after.id, after, (await ctx.processes.current())?.process ?? null);
    },
  );

  api.put(
    '/users/:id/availability',
    {
      schema: {
        tags: ['users'],
        summary:
          "Change a rep's availability, out-of-office periods, capacity or working hours (stores a new process version)",
        params: z.object({ id: z.string().min(1).max(100) }),
        body: availabilityBody,
        response: { 200: availabilitySchema },
      },
      // The changed process fails its own checks.
      config: { access: { roles: MANAGERS, scope: 'users:write' }, problems: ['rule-refused'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const current = await ctx.processes.current();
      const user = current?.process.users.find((u) => u.id === req.params.id);
      if (!current || !user) throw new Problem('not-found', `user "${req.params.id}" is not in the process`);
      if (!reachesOwner(await reachFor(ctx, caller), user.id)) return denyAsMissing(ctx, req, `user "${user.id}"`);
      const b = req.body;
      const changed: User = {
        ...user,
        ...(b.active !== undefined ? { active: b.active } : {}),
        ...(b.outOfOffice !== undefined ? { out_of_office: b.outOfOffice } : {}),
        ...(b.capacity !== undefined ? { capacity: b.capacity } : {}),
        ...(b.workingHours !== undefined ? { working_hours: b.workingHours } : {}),
      };
      const next = { ...current.process, users: current.process.users.map((u) => (u.id === user.id ? changed : u)) };
      try {
        const result = await applyProcess(ctx.store, JSON.stringify(next, null, 2), ctx.now(), caller.member.id);
        return {
          ...presentUser(user.id, (await findMember(ctx.store.db, user.id)) ?? undefined, next),
          processVersion: result.version,
        };
      } catch (e) {
        if (e instanceof ProcessRejected) throw new Problem('rule-refused', e.message);
        throw e;
      }
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
