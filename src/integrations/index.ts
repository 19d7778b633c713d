import type { Config } from '../config.js';
import type { Deliverer } from './delivery.js';
import { MAIL_KINDS } from './mail/compose.js';
import { mailDeliverer } from './mail/deliver.js';
import { webhookDeliverer } from './webhook.js';

/**
 * The deliverers this build has, by effect kind, configured from the environment: mail (SMTP, or
 * .eml files by default) and signed webhooks. Mailing lists (Mailchimp) and enrichment have no
 * client yet; their rows wait in the outbox until they do.
 */
export function buildDeliverers(config: Config): {
  deliverers: ReadonlyMap<string, Deliverer>;
  close(): Promise<void>;
} {
  const mail = mailDeliverer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, mailDir: config.MAIL_DIR });
  const deliverers = new Map<string, Deliverer>(MAIL_KINDS.map((k) => [k, mail.deliver]));
  deliverers.set('webhook', webhookDeliverer({ secret: config.WEBHOOK_SECRET }));
  return { deliverers, close: () => mail.close() };
}
