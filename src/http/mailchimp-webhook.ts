import { z } from 'zod';
import { sameSecret, secretHash } from '../auth/secrets.js';
import { markAddressBounced, optOutAddress, type AddressOutcome } from '../engine/opt-out.js';
import type { AppContext } from './app.js';
import { Problem } from './problem.js';
import type { Api } from './routes/shared.js';

/**
 * Mailchimp's audience webhooks, so that what people do in Mailchimp reaches their leads.
 * Mailchimp signs nothing: the webhook URL holds a secret (MAILCHIMP_WEBHOOK_SECRET), compared in
 * constant time; a wrong one, or any while none is set, answers 404 like an unknown path. Mailchimp
 * checks the URL with a GET when the webhook is saved, which answers 200, and then POSTs
 * application/x-www-form-urlencoded bodies: `type`, `fired_at` and `data[...]` fields.
 *
 * - `unsubscribe` (data[email], data[list_id], data[action] unsub|delete, data[reason]): the
 *   address is opted out of marketing mail on every lead that has it (engine/opt-out.ts);
 * - `cleaned` (data[email], data[list_id], data[reason] hard|abuse): the address is marked bounced
 *   (`email_bounced`), so no automated mail goes to it until it is corrected;
 * - `subscribe`, `profile`, `upemail`, `campaign`, and events of audiences MAILCHIMP_LISTS does not
 *   map: answered 200 and ignored (a subscribe never opts anyone back in: consent given in
 *   Stageflow is changed there).
 *
 * Answers are small JSON (`{"result": …}`) for the delivery log Mailchimp shows.
 */

export interface MailchimpWebhookOptions {
  /** MAILCHIMP_WEBHOOK_SECRET; '' turns the route off (404). */
  secret: string;
  /** MAILCHIMP_LISTS: events of other audiences are ignored. */
  lists: ReadonlyMap<string, string>;
}

export const MAILCHIMP_WEBHOOK_PATH = '/integrations/mailchimp/webhook';

const params = z.object({ secret: z.string().max(1000) });
const answer = z.object({ result: z.string() });

export function mailchimpWebhookRoutes(app: Api, ctx: AppContext, o: MailchimpWebhookOptions): void {
  const audiences = new Set(o.lists.values());
  // Hashes of equal length, so the comparison takes as long whatever the guess.
  const expected = o.secret === '' ? null : secretHash(o.secret);
  const check = (given: string) => {
    if (expected === null || !sameSecret(secretHash(given), expected))
      throw new Problem('not-found', 'no Mailchimp webhook at this address');
  };

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 256 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );

  app.get(
    `${MAILCHIMP_WEBHOOK_PATH}/:secret`,
    { schema: { hide: true, params, response: { 200: answer } }, config: { access: { roles: 'public' } } },
    async (req) => {
      check(req.params.secret);
      return { result: 'Stageflow receives Mailchimp webhooks here' };
    },
  );

  app.post(
    `${MAILCHIMP_WEBHOOK_PATH}/:secret`,
    {
      schema: { hide: true, params, response: { 200: answer } },
      config: { access: { roles: 'public' }, problems: ['validation-failed'] },
    },
    async (req) => {
      check(req.params.secret);
      const form = formOf(req.body);
      const type = form['type'];
      if (type === undefined || type === '') throw invalid('type', 'is missing: expected a Mailchimp webhook form');
      if (type !== 'unsubscribe' && type !== 'cleaned') return { result: `ignored: ${type} events change nothing` };
      const list = form['data[list_id]'] ?? '';
      if (!audiences.has(list))
        return { result: `ignored: audience ${JSON.stringify(list)} is not one MAILCHIMP_LISTS maps` };
      const email = (form['data[email]'] ?? '').trim();
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalid('data[email]', 'is missing or not an email address');
      const reason = form['data[reason]'] ?? '';
      const name = [...o.lists].find(([, id]) => id === list)?.[0] ?? list;
      const source = {
        actor: 'mailchimp',
        details: { event: type, list_id: list, reason, fired_at: form['fired_at'] ?? '' },
        why: `Mailchimp cleaned the contact's address from the ${name} list${reason === '' ? '' : ` (reason: ${reason})`}: it does not take mail.`,
      };
      const outcome =
        type === 'unsubscribe'
          ? await optOutAddress(ctx.engine, email, source, ctx.now())
          : await markAddressBounced(ctx.engine, email, source, ctx.now());
      // Mailchimp retries a failed delivery: a lead the engine could not change is worth another try.
      if (outcome.failed.length > 0)
        throw new Error(`Mailchimp ${type}: ${outcome.failed.length} lead(s) could not be changed; Mailchimp retries`);
      return { result: describe(type, outcome) };
    },
  );
}

function formOf(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw invalid('body', 'expected application/x-www-form-urlencoded, as Mailchimp sends');
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

function invalid(field: string, message: string): Problem {
  return new Problem('validation-failed', `${field} ${message}`, { errors: [{ field: `body.${field}`, message }] });
}

function describe(type: 'unsubscribe' | 'cleaned', o: AddressOutcome): string {
  const what = type === 'unsubscribe' ? 'opted out' : 'marked bounced';
  return `${o.changed.length} lead(s) ${what}, ${o.unchanged.length} already so`;
}
