import { resolve } from 'node:path';
import type { Config } from '../config.js';
import type { Deliverer } from './delivery.js';
import { enrichDeliverer, type EnrichmentOptions } from './enrichment/deliver.js';
import { builtInProviders } from './enrichment/providers.js';
import { MAIL_KINDS } from './mail/compose.js';
import { mailDeliverer } from './mail/deliver.js';
import { mailLinks, withMailLinks } from './mail/links.js';
import { MailchimpClient } from './mailchimp/client.js';
import { LIST_KINDS, mailchimpDeliverer } from './mailchimp/deliver.js';
import { webhookDeliverer } from './webhook.js';

/**
 * The deliverers this build has, by effect kind, configured from the environment: mail (SMTP, or
 * .eml files by default), enrichment (no paid service needed), signed webhooks when a secret is set,
 * and mailing lists when a Mailchimp key is set. Without them, webhook and mailing-list rows wait
 * in the outbox, so nothing is lost while they are being configured. `enrichment` lets tests point DNS and websites at local servers.
 */
export function buildDeliverers(
  config: Config,
  overrides: { enrichment?: EnrichmentOptions } = {},
): {
  deliverers: ReadonlyMap<string, Deliverer>;
  close(): Promise<void>;
} {
  const mail = mailDeliverer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, mailDir: config.MAIL_DIR });
  const links = mailLinks(config.PUBLIC_URL, config.UNSUBSCRIBE_SECRET);
  const deliverMail = links ? withMailLinks(mail.deliver, links) : mail.deliver;
  const deliverers = new Map<string, Deliverer>(MAIL_KINDS.map((k) => [k, deliverMail]));
  // Webhooks are signed or not sent: without a secret their rows wait, as mailing-list rows do.
  if (config.WEBHOOK_SECRET.trim() !== '')
    deliverers.set(
      'webhook',
      webhookDeliverer({ secret: config.WEBHOOK_SECRET, allowPrivateAddresses: config.WEBHOOK_ALLOW_PRIVATE }),
    );
  const enrichment = overrides.enrichment ?? {};
  const providers = builtInProviders(enrichment).filter((p) => config.ENRICH_WEBSITES || p.name !== 'website');
  deliverers.set('enrich', enrichDeliverer({ ...enrichment, providers }));
  if (config.MAILCHIMP_API_KEY !== '') {
    const client = new MailchimpClient({
      apiKey: config.MAILCHIMP_API_KEY,
      // Mailchimp's 10 connections are per account, shared by every worker: each takes its share.
      maxConnections: config.MAILCHIMP_CONCURRENCY,
      ...(config.MAILCHIMP_BASE_URL !== '' ? { baseUrl: config.MAILCHIMP_BASE_URL } : {}),
    });
    const lists = mailchimpDeliverer({ client, lists: config.MAILCHIMP_LISTS });
    for (const kind of LIST_KINDS) deliverers.set(kind, lists);
  }
  return { deliverers, close: () => mail.close() };
}

/**
 * What a worker starting with this configuration should say, so nobody believes mail leaves when it
 * does not: without SMTP_URL every message is only written to a file.
 */
export function deliveryWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.SMTP_URL.trim() === '')
    warnings.push(
      `SMTP_URL is unset: no mail leaves this machine; each message is written as an .eml file under ` +
        `${resolve(config.MAIL_DIR)} (read one with \`stageflow outbox message ID\`)`,
    );
  if (config.WEBHOOK_SECRET.trim() === '') warnings.push('WEBHOOK_SECRET is unset: webhooks wait in the outbox');
  if (config.MAILCHIMP_API_KEY === '')
    warnings.push('MAILCHIMP_API_KEY is unset: mailing-list changes wait in the outbox');
  // Half of the one-click setup is a mistake worth saying: the other half was meant to be set too.
  if ((config.PUBLIC_URL === '') !== (config.UNSUBSCRIBE_SECRET === ''))
    warnings.push(
      `${config.PUBLIC_URL === '' ? 'PUBLIC_URL' : 'UNSUBSCRIBE_SECRET'} is unset: marketing mail carries no ` +
        'one-click unsubscribe link, only the mailto one (set PUBLIC_URL and UNSUBSCRIBE_SECRET)',
    );
  return warnings;
}
