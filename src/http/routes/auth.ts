import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { decoyHash, verifyPassword } from '../../auth/passwords.js';
import { newSecret, secretHash, SESSION_PREFIX } from '../../auth/secrets.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import {
  loginFailuresSince,
  purgeLoginFailures,
  recordLoginAttempt,
  withdrawLoginAttempt,
} from '../../store/login-failures.js';
import { findMemberForLogin, normaliseEmail, type Member } from '../../store/members.js';
import { deleteSession, insertSession } from '../../store/sessions.js';
import { EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { SESSION_COOKIE_PLAIN, SESSION_COOKIE_SECURE } from '../authenticate.js';
import { Problem } from '../problem.js';
import { loginSchema, meSchema } from '../schemas.js';
import { callerOf, NO_CONTENT, type Api } from './shared.js';

/**
 * Sign-in with email and password. A new session is made at every login (the old cookie's session
 * is ended, so a planted cookie is worthless); the answer carries the CSRF token that every
 * cookie-authenticated write must send back. After 100 failures on one address within an hour,
 * further attempts get 429 before the password is even checked.
 */

export const FAILURES_PER_HOUR = 100;
const HOUR = 3_600_000;

export function presentMember(m: Member) {
  return {
    id: m.id,
    email: m.email,
    name: m.name,
    role: m.role,
    canEditProcess: m.canEditProcess,
    disabled: m.disabledAt !== null,
    createdAt: new Date(m.createdAt).toISOString(),
    version: m.version,
  };
}

function cookieName(req: FastifyRequest): string {
  return req.protocol === 'https' ? SESSION_COOKIE_SECURE : SESSION_COOKIE_PLAIN;
}

export function authRoutes(api: Api, ctx: AppContext): void {
  api.post(
    '/auth/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets the session cookie and returns the CSRF token for writes',
        body: z.object({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) }).strict(),
        response: { 200: loginSchema },
      },
      config: { access: { roles: 'public' }, problems: ['unauthenticated', 'too-many-requests'] },
    },
    async (req, reply) => {
      const now = ctx.now();
      const email = normaliseEmail(req.body.email);
      // The writes are short transactions around the slow password check, so that on SQLite they
      // wait for another process's write lock without freezing the server. The attempt is committed
      // before failures are counted: concurrent attempts then see one another.
      const attempt = randomUUID();
      await withTransaction(ctx.store, async (tx) => {
        await purgeLoginFailures(tx, now - HOUR);
        await recordLoginAttempt(tx, attempt, email, now);
      });
      if ((await loginFailuresSince(ctx.store.db, email, now - HOUR)) > FAILURES_PER_HOUR) {
        await withTransaction(ctx.store, async (tx) => {
          await withdrawLoginAttempt(tx, attempt);
          await appendAudit(
            tx,
            { actor: 'anonymous', action: 'login.throttled', target: email, details: { ip: req.ip } },
            now,
          );
        });
        throw new Problem('too-many-requests', 'too many failed sign-ins for this account; try again within the hour', {
          headers: { 'retry-after': '3600' },
        });
      }
      const found = await findMemberForLogin(ctx.store.db, email);
      const ok = await verifyPassword(found?.hash ?? (await decoyHash()), req.body.password);
      if (!found || !ok || found.hash === null || found.member.disabledAt !== null) {
        const why = !found ? 'unknown email' : found.member.disabledAt !== null ? 'disabled user' : 'wrong password';
        await withTransaction(ctx.store, (tx) =>
          appendAudit(
            tx,
            {
              actor: found?.member.id ?? 'anonymous',
              action: 'login.failed',
              target: email,
              details: { reason: why, ip: req.ip },
            },
            now,
          ),
        );
        throw new Problem('unauthenticated', 'wrong email or password');
      }
      const old = req.cookies[SESSION_COOKIE_SECURE] ?? req.cookies[SESSION_COOKIE_PLAIN];
      const secret = newSecret(SESSION_PREFIX);
      const csrf = randomBytes(32).toString('base64url');
      const expiresAt = now + ctx.session.absoluteMs;
      await withTransaction(ctx.store, async (tx) => {
        await withdrawLoginAttempt(tx, attempt);
        if (old) await deleteSession(tx, secretHash(old));
        await insertSession(tx, {
          tokenHash: secretHash(secret),
          memberId: found.member.id,
          csrfToken: csrf,
          createdAt: now,
          lastSeenAt: now,
          expiresAt,
        });
        await appendAudit(
          tx,
          { actor: found.member.id, action: 'login.succeeded', target: found.member.id, details: { ip: req.ip } },
          now,
        );
      });
      void reply.setCookie(cookieName(req), secret, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: req.protocol === 'https',
        maxAge: Math.floor(ctx.session.absoluteMs / 1000),
      });
      return { user: presentMember(found.member), csrfToken: csrf, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  api.post(
    '/auth/logout',
    {
      schema: { tags: ['auth'], summary: 'End this session', response: { 204: NO_CONTENT } },
      config: { access: { roles: EVERYONE } },
    },
    async (req, reply: FastifyReply) => {
      const caller = callerOf(req);
      const { session } = caller;
      if (session) await withTransaction(ctx.store, (tx) => deleteSession(tx, session.hash));
      void reply.clearCookie(cookieName(req), { path: '/' });
      return reply.code(204).send();
    },
  );

  api.get(
    '/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who you are, and the CSRF token of your session',
        response: { 200: meSchema },
      },
      config: { access: { roles: EVERYONE } },
    },
    async (req) => {
      const caller = callerOf(req);
      return {
        user: presentMember(caller.member),
        via: caller.via,
        scopes: caller.scopes === 'all' ? ['*'] : [...caller.scopes],
        ...(caller.session ? { csrfToken: caller.session.csrf } : {}),
      };
    },
  );
}
