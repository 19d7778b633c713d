import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { newSecret, secretHash, TOKEN_PREFIX } from '../../auth/secrets.js';
import { findToken, insertToken, listTokens, revokeToken, type ApiToken } from '../../store/api-tokens.js';
import { appendAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import { EVERYONE, SCOPE_NAMES, type Scope } from '../access.js';
import type { AppContext } from '../app.js';
import { pageOfAll, pageQuery } from '../paging.js';
import { isoOrNull } from '../present.js';
import { Problem } from '../problem.js';
import { tokenCreatedSchema, tokenListSchema } from '../schemas.js';
import { callerOf, denyAsMissing, denyForbidden, NO_CONTENT, type Api } from './shared.js';

/**
 * API tokens: made by a signed-in person for an integration, shown once, stored as a hash, scoped
 * (within the maker's role), expiring and revocable. A token cannot make tokens, so a leaked one
 * cannot outlive its own expiry.
 */

const DAY = 86_400_000;

function presentToken(t: ApiToken) {
  return {
    id: t.id,
    user: t.memberId,
    name: t.name,
    scopes: t.scopes,
    createdAt: new Date(t.createdAt).toISOString(),
    expiresAt: new Date(t.expiresAt).toISOString(),
    revokedAt: isoOrNull(t.revokedAt),
    lastUsedAt: isoOrNull(t.lastUsedAt),
  };
}

export function tokenRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Your API tokens (an admin sees everyone’s), newest first; never the secrets',
        querystring: z.object(pageQuery).strict(),
        response: { 200: tokenListSchema },
      },
      config: { access: { roles: EVERYONE } },
    },
    async (req) => {
      const caller = callerOf(req);
      const tokens = await listTokens(ctx.store.db, caller.member.role === 'admin' ? null : caller.member.id);
      // Newest first: the negated creation time sorts descending; the id breaks ties.
      return pageOfAll(tokens, req.query, (t) => [-t.createdAt, t.id], presentToken);
    },
  );

  api.post(
    '/tokens',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Make an API token; the secret is in this answer only',
        body: z
          .object({
            name: z.string().min(1).max(100),
            scopes: z.array(z.enum(['*', ...SCOPE_NAMES] as [string, ...string[]])).min(1),
            expiresInDays: z.number().int().min(1).max(366).default(90),
          })
          .strict(),
        response: { 201: tokenCreatedSchema },
      },
      // A token asking for a token is refused in the handler.
      config: { access: { roles: EVERYONE }, problems: ['forbidden'] },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      if (caller.via === 'token') return denyForbidden(ctx, req, 'API tokens cannot make tokens; sign in to make one');
      const now = ctx.now();
      const secret = newSecret(TOKEN_PREFIX);
      const token = {
        id: `tok_${randomBytes(8).toString('hex')}`,
        memberId: caller.member.id,
        name: req.body.name,
        scopes: [...new Set(req.body.scopes)] as (Scope | '*')[],
        createdAt: now,
        expiresAt: now + req.body.expiresInDays * DAY,
      };
      await withTransaction(ctx.store, async (tx) => {
        await insertToken(tx, token, secretHash(secret));
        await appendAudit(
          tx,
          {
            actor: caller.member.id,
            action: 'token.created',
            target: token.id,
            details: { name: token.name, scopes: token.scopes },
          },
          now,
        );
      });
      return reply.code(201).send({ ...presentToken({ ...token, revokedAt: null, lastUsedAt: null }), token: secret });
    },
  );

  api.delete(
    '/tokens/:id',
    {
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a token',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 204: NO_CONTENT },
      },
      config: { access: { roles: EVERYONE } },
    },
    async (req, reply) => {
      const caller = callerOf(req);
      const token = await findToken(ctx.store.db, req.params.id);
      if (!token) throw new Problem('not-found', `token "${req.params.id}" does not exist`);
      if (token.memberId !== caller.member.id && caller.member.role !== 'admin')
        return denyAsMissing(ctx, req, `token "${token.id}"`);
      await withTransaction(ctx.store, async (tx) => {
        await revokeToken(tx, token.id, ctx.now());
        await appendAudit(
          tx,
          { actor: caller.member.id, action: 'token.revoked', target: token.id, details: { owner: token.memberId } },
          ctx.now(),
        );
      });
      return reply.code(204).send(null);
    },
  );
}
