import { z } from 'zod';
import { AccountError, createAccount } from '../auth/accounts.js';
import { passwordProblem } from '../auth/passwords.js';
import { secretHash, SETUP_PREFIX } from '../auth/secrets.js';
import { withTransaction } from '../store/db.js';
import { memberCount } from '../store/members.js';
import { useSetupToken } from '../store/setup-tokens.js';
import type { AppContext } from './app.js';
import { Problem } from './problem.js';
import type { Api } from './routes/shared.js';

/**
 * The one-time setup link printed on first start: a plain HTML form (no script, so the strict CSP
 * holds) that creates the first admin. The link's token works once, expires, and only while no
 * account exists yet.
 */

const page = (body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stageflow setup</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font:inherit}button{margin-top:1.2rem;padding:.5rem 1rem;font:inherit}.err{color:#b00}</style>
</head><body><h1>Stageflow</h1>${body}</body></html>`;

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function form(token: string, error?: string): string {
  return page(`<p>Create the first admin account.</p>${error ? `<p class="err">${escape(error)}</p>` : ''}
<form method="post" action="/setup">
<input type="hidden" name="token" value="${escape(token)}">
<label for="name">Name</label><input id="name" name="name" required maxlength="200">
<label for="email">Email</label><input id="email" name="email" type="email" required maxlength="320">
<label for="password">Password (at least 8 characters; a long phrase is best)</label><input id="password" name="password" type="password" required minlength="8" maxlength="1024">
<button type="submit">Create admin</button></form>`);
}

const setupBody = z
  .object({
    token: z.string().min(1).max(200),
    name: z.string().min(1).max(200),
    email: z.email().max(320),
    password: z.string().min(1).max(1024),
  })
  .strict();

export function setupRoutes(app: Api, ctx: AppContext): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 16_384 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  app.get(
    '/setup',
    {
      schema: { hide: true, querystring: z.object({ token: z.string().max(200).default('') }) },
      config: { access: { roles: 'public' } },
    },
    async (req, reply) => {
      if ((await memberCount(ctx.store.db)) > 0)
        return reply.type('text/html').send(page('<p>Setup is done. Sign in with your account.</p>'));
      return reply.type('text/html').send(form(req.query.token));
    },
  );

  app.post(
    '/setup',
    { schema: { hide: true, body: setupBody }, config: { access: { roles: 'public' } } },
    async (req, reply) => {
      const now = ctx.now();
      const html = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded') === true;
      // Checked before the token is spent, so a refused password can simply be chosen again.
      const weak = passwordProblem(req.body.password);
      if (weak) {
        if (html)
          return reply
            .code(400)
            .type('text/html')
            .send(form(req.body.token, `Password ${weak}.`));
        throw new Problem('validation-failed', `password ${weak}`, {
          errors: [{ field: 'body.password', message: weak }],
        });
      }
      if (
        !req.body.token.startsWith(SETUP_PREFIX) ||
        (await memberCount(ctx.store.db)) > 0 ||
        !(await withTransaction(ctx.store, (tx) => useSetupToken(tx, secretHash(req.body.token), now)))
      )
        throw new Problem(
          'forbidden',
          'this setup link is used, expired or unknown; run `stageflow user create --role admin` instead',
        );
      try {
        const m = await createAccount(
          ctx.store,
          { id: 'admin', email: req.body.email, name: req.body.name, role: 'admin', password: req.body.password },
          now,
          'setup-link',
        );
        if (html)
          return reply
            .type('text/html')
            .send(
              page(
                `<p>Admin ${escape(m.email)} created. Sign in through the API: <code>POST /api/v1/auth/login</code>.</p>`,
              ),
            );
        return reply.code(201).send({ id: m.id, email: m.email, role: m.role });
      } catch (e) {
        if (!(e instanceof AccountError)) throw e;
        // The token is spent; a new one comes with the next start, or use the CLI.
        if (html)
          return reply
            .code(400)
            .type('text/html')
            .send(
              page(
                `<p class="err">${escape(e.message)}</p><p>Restart the server for a new link, or run <code>stageflow user create --role admin</code>.</p>`,
              ),
            );
        throw new Problem('validation-failed', e.message, {
          errors: [{ field: `body.${e.field}`, message: e.message }],
        });
      }
    },
  );
}
