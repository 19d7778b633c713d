import { sameAddress } from '../../store/personal-data.js';
import type { Deliverer, DeliveryContext, DeliveryResult, OutboxItem } from '../delivery.js';
import { parseEmailAddress } from './email-address.js';
import { MAX_TEXT, MAX_URL, cleanText } from './html-meta.js';
import {
  builtInProviders,
  TemporaryEnrichmentError,
  type BuiltInProviderOptions,
  type EnrichmentFields,
  type EnrichmentProvider,
} from './providers.js';

/**
 * The enrichment deliverer: an `enrich` outbox row ({ email }) in, the fields learned about the
 * address out, as a follow-up the worker writes to the lead (a `lead.updated` by the system, and
 * only while the lead still has that address).
 *
 * The providers run in order (providers.ts): the domain lists, DNS, the website, and any added. The
 * first to learn a field wins, so order is priority. Providers may only set `email_*` and
 * `company_*` fields: whatever a provider answers, it cannot touch a field a person keeps (name,
 * email, owner, ...). Text is trimmed and capped at 500 characters, URLs must be http(s) and whole;
 * a null is dropped (enrichment adds what it learned, it never clears).
 *
 * Two fields are the deliverer's own: `company` (the lead's company name) from company_name, only
 * when the lead has none yet, since a name a person typed beats a page title; and `enriched_at`.
 *
 * Outcomes: 'sent' with the fields (detail: what was learned and what could not be); 'retry' when a
 * provider's failure may pass (DNS SERVFAIL or timeout); 'dead' when the payload has no usable
 * address, which no retry changes. A lead that is gone, or that has another address by now, is
 * 'sent' with nothing learned and nothing looked up: its address is not sent to DNS or websites.
 */

export interface EnrichmentOptions extends BuiltInProviderOptions {
  /** Replaces the built-in providers; builtInProviders(options) gives them, to add a paid API. */
  providers?: readonly EnrichmentProvider[];
  /** For one delivery, every provider included; default 30,000 ms. */
  deadlineMs?: number;
}

const FIELD_KEY = /^(email|company)_[a-z0-9_]{1,60}$/;

export function enrichDeliverer(options: EnrichmentOptions = {}): Deliverer {
  const deadlineMs = options.deadlineMs ?? 30_000;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0)
    throw new RangeError(`deadlineMs must be > 0, got ${deadlineMs}`);
  const providers = options.providers ?? builtInProviders(options);

  const deliver = async (item: OutboxItem, ctx: DeliveryContext): Promise<DeliveryResult> => {
    const parsed = parseEmailAddress(item.payload['email']);
    if (!parsed.ok) return { status: 'dead', error: parsed.error };
    const { email, domain } = parsed.address;
    const lead = ctx.lead;
    if (!lead) return { status: 'sent', detail: 'the lead is gone: nothing enriched' };
    if (!sameAddress(lead.fields['email'], email)) {
      return { status: 'sent', detail: 'the lead has another address by now: nothing enriched' };
    }

    const signal = AbortSignal.timeout(deadlineMs);
    const learned: EnrichmentFields = {};
    const problems: string[] = [];
    for (const provider of providers) {
      let answer: EnrichmentFields;
      try {
        answer = await provider.enrich(email, domain, signal, { ...learned });
      } catch (e) {
        if (e instanceof TemporaryEnrichmentError) return { status: 'retry', error: `${provider.name}: ${e.message}` };
        problems.push(`${provider.name}: ${errorText(e)}`);
        continue;
      }
      const ignored = merge(learned, answer);
      if (ignored.length > 0) problems.push(`${provider.name}: ignored ${ignored.join(', ')}`);
    }

    const fields: EnrichmentFields = { ...learned };
    const companyName = learned['company_name'];
    if (typeof companyName === 'string' && isEmpty(lead.fields['company'])) fields['company'] = companyName;
    fields['enriched_at'] = new Date(ctx.now).toISOString();
    return { status: 'sent', detail: summary(domain, learned, problems), followUp: { fields, email } };
  };

  return async (item, ctx) => {
    try {
      return await deliver(item, ctx);
    } catch (e) {
      // A bug, not the address's fault: keep the row and let the worker's backoff show it.
      return { status: 'retry', error: `enrichment failed unexpectedly: ${errorText(e)}` };
    }
  };
}

/** Adds what a provider learned to `into` (first answer wins); answers the keys it refused. */
function merge(into: EnrichmentFields, answer: EnrichmentFields): string[] {
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(answer)) {
    if (!FIELD_KEY.test(key)) {
      ignored.push(`${key.slice(0, 60)} (only email_* and company_* fields)`);
      continue;
    }
    if (key in into || value === null) continue;
    const clean = cleanValue(key, value);
    if (clean === undefined) ignored.push(`${key} (not a usable value)`);
    else into[key] = clean;
  }
  return ignored;
}

function cleanValue(key: string, value: string | number | boolean): string | number | boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (key.endsWith('_url') || key === 'company_website') return cleanUrl(value);
  return cleanText(value, MAX_TEXT);
}

function cleanUrl(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.length > MAX_URL) return undefined;
  try {
    const url = new URL(trimmed);
    return url.protocol === 'http:' || url.protocol === 'https:' ? trimmed : undefined;
  } catch {
    return undefined;
  }
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** One line for the outbox: what kind of domain, whether it takes mail, the site, and what failed. */
function summary(domain: string, f: EnrichmentFields, problems: string[]): string {
  const kind =
    f['email_disposable'] === true
      ? 'disposable address'
      : f['email_free_provider'] === true
        ? 'free-mail provider'
        : f['email_free_provider'] === false
          ? 'company domain'
          : undefined;
  const mail =
    f['email_domain_accepts_mail'] === true
      ? 'accepts mail'
      : f['email_domain_accepts_mail'] === false
        ? 'accepts no mail'
        : undefined;
  const site =
    typeof f['company_website'] === 'string'
      ? `website ${f['company_website']}${typeof f['company_name'] === 'string' ? ` (${JSON.stringify(f['company_name'])})` : ''}`
      : undefined;
  const facts = [kind, mail, site].filter((s): s is string => s !== undefined);
  const text = [`${domain}: ${facts.length > 0 ? facts.join(', ') : 'nothing learned'}`, ...problems].join('; ');
  return text.length > 1_000 ? `${text.slice(0, 999)}…` : text;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message || e.name : String(e);
}
