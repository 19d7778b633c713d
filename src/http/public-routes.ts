import { configValue } from '../config.js';
import type { MailchimpWebhookOptions } from './mailchimp-webhook.js';

/**
 * Routes outside /api/v1 that outside parties call without an account: the unsubscribe links of
 * marketing mail (unsubscribe.ts) and Mailchimp's webhook (mailchimp-webhook.ts). Each is off
 * (404) until its secret is configured; app.ts registers each in its own scope.
 */

export interface PublicRouteOptions {
  /** UNSUBSCRIBE_SECRET: the key unsubscribe links are signed with; '' turns them off. */
  unsubscribeSecret: string;
  /** UNSUBSCRIBE_PREVIOUS_SECRETS: keys links already sent were signed with before a rotation. */
  unsubscribePreviousSecrets?: readonly string[];
  mailchimpWebhook: MailchimpWebhookOptions;
}

/** As the environment configures them (the server's default; tests pass their own). */
export function publicRouteOptionsFromEnv(): PublicRouteOptions {
  return {
    unsubscribeSecret: configValue('UNSUBSCRIBE_SECRET'),
    unsubscribePreviousSecrets: configValue('UNSUBSCRIBE_PREVIOUS_SECRETS'),
    mailchimpWebhook: { secret: configValue('MAILCHIMP_WEBHOOK_SECRET'), lists: configValue('MAILCHIMP_LISTS') },
  };
}
