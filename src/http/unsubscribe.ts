import { z } from 'zod';
import { unsubscribeTokens } from '../auth/unsubscribe-token.js';
import { optOutAddress } from '../engine/opt-out.js';
import { UNSUBSCRIBE_PATH } from '../integrations/mail/links.js';
import type { AppContext } from './app.js';
import type { Api } from './routes/shared.js';

/**
 * The one-click unsubscribe link of marketing mail (RFC 8058), public and without a login: the
 * token in the path is the recipient's address, encrypted and signed with UNSUBSCRIBE_SECRET
 * (auth/unsubscribe-token.ts). A POST, which mail providers send for their "Unsubscribe" button
 * with the body `List-Unsubscribe=One-Click`, opts the address out of marketing mail on every lead
 * that has it (engine/opt-out.ts). A GET only shows a page whose button POSTs: mail scanners
 * follow links, and must not unsubscribe anyone. A token that is not ours, or any token while no
 * secret is set, answers 404 with the same page whatever the address, so nobody learns whether an
 * address is known. Pages are plain HTML without script, so the strict CSP holds.
 */

const page = (title: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${title}</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem}button{margin-top:1.2rem;padding:.5rem 1rem;font:inherit}</style>
</head><body><h1>${title}</h1>${body}</body></html>`;

const INVALID = page(
  'Link not valid',
  '<p>This unsubscribe link is not valid: it may have been cut off when it was copied. Use the link in the email as it is, or reply to the email to ask to be taken off the list.</p>',
);

// No action: the form POSTs to the page's own URL, which stays right behind a proxy that adds a path prefix.
const confirm = () =>
  page(
    'Unsubscribe',
    `<p>Stop receiving marketing emails from us?</p>
<form method="post">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form>`,
  );

const DONE = page(
  'You are unsubscribed',
  '<p>You will receive no more marketing emails from us. Replies to your own messages still reach you.</p>',
);

const FAILED = page(
  'Not unsubscribed yet',
  '<p>Your request could not be recorded just now. Please try again in a few minutes.</p>',
);

const params = z.object({ token: z.string().max(1000) });

export function unsubscribeRoutes(app: Api, ctx: AppContext, secret: string, previous: readonly string[]): void {
  const tokens = secret === '' ? null : unsubscribeTokens(secret, previous);
  const addressOf = (token: string) => tokens?.read(token) ?? null;

  // The one-click POST comes as a form (urlencoded or multipart, RFC 8058); what it says does not
  // matter, the POST itself is the request. Anything else is read and ignored too.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 16_384 }, (_req, _body, done) => done(null, null));

  app.get(
    `${UNSUBSCRIBE_PATH}/:token`,
    { schema: { hide: true, params }, config: { access: { roles: 'public' } } },
    async (req, reply) => {
      void reply.header('cache-control', 'no-store').type('text/html');
      if (addressOf(req.params.token) === null) return reply.code(404).send(INVALID);
      return reply.send(confirm());
    },
  );

  app.post(
    `${UNSUBSCRIBE_PATH}/:token`,
    { schema: { hide: true, params }, config: { access: { roles: 'public' } } },
    async (req, reply) => {
      void reply.header('cache-control', 'no-store').type('text/html');
      const address = addressOf(req.params.token);
      if (address === null) return reply.code(404).send(INVALID);
      const outcome = await optOutAddress(ctx.engine, address, { actor: 'unsubscribe link' }, ctx.now());
      if (outcome.failed.length > 0) {
        req.log.error({ failed: outcome.failed }, 'an unsubscribe link could not opt out every lead');
        return reply.code(503).header('retry-after', '300').send(FAILED);
      }
      return reply.send(DONE);
    },
  );
}
