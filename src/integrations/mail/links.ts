import { unsubscribeTokens } from '../../auth/unsubscribe-token.js';
import type { Deliverer } from '../delivery.js';
import type { MailLinks } from './compose.js';

/**
 * The links in marketing mail that lead back to this server: the one-click unsubscribe link, made
 * when the server knows the address people reach it at (PUBLIC_URL) and has a key to sign the
 * token with (UNSUBSCRIBE_SECRET). Without either, mail offers only the mailto unsubscribe.
 */

/** Where the HTTP server answers unsubscribe links (src/http/unsubscribe.ts). */
export const UNSUBSCRIBE_PATH = '/unsubscribe';

export function mailLinks(publicUrl: string, secret: string): MailLinks | null {
  const base = publicUrl.trim().replace(/\/+$/, '');
  if (base === '' || secret === '') return null;
  const tokens = unsubscribeTokens(secret);
  return { unsubscribeUrl: (address) => `${base}${UNSUBSCRIBE_PATH}/${tokens.make(address)}` };
}

/** The mail deliverer with the links in every delivery's context, where composeMail looks for them. */
export function withMailLinks(deliver: Deliverer, links: MailLinks): Deliverer {
  return (item, ctx) => deliver(item, { ...ctx, links } as Parameters<Deliverer>[1]);
}
