import { domainToUnicode } from 'node:url';
import { mailAcceptance, systemResolver, type MailDnsResolver } from './dns.js';
import { bundledDomainLists, type DomainLists } from './domain-lists.js';
import { extractCompanyMeta, type SocialNetwork } from './html-meta.js';
import { isPublicAddress, allowAnyAddress } from './ssrf-guard.js';
import { fetchWebsite } from './website.js';

/**
 * Enrichment providers: each learns some fields about an address, and the deliverer runs them in
 * order (deliver.ts). The built-in ones need no paid service: the domain lists, DNS, and the
 * company's website. A paid API (Clearbit-like) is one more object with a name and an enrich(),
 * added to the list with builtInProviders(...) in front of or after it.
 *
 * Outcomes, so a provider can say what kind of failure it had:
 * - return the fields it learned (none is fine: an empty object);
 * - throw TemporaryEnrichmentError when the answer may change on a later try (a DNS SERVFAIL, an
 *   API's 429): the whole delivery is retried, nothing is written now;
 * - throw anything else when it cannot help with this address (a site that is down): its fields
 *   are left out, the others are still sent, and the delivery's detail says why.
 */

export type FieldValue = string | number | boolean | null;
export type EnrichmentFields = Record<string, FieldValue>;

export interface EnrichmentProvider {
  readonly name: string;
  /**
   * `email` is the address as queued (trimmed); `domain` its lowercased ASCII (punycode) domain;
   * `signal` aborts when the delivery runs out of time; `known` holds what the providers before
   * this one learned (the website provider skips free-mail domains by it).
   */
  enrich(
    email: string,
    domain: string,
    signal: AbortSignal,
    known: Readonly<EnrichmentFields>,
  ): Promise<EnrichmentFields>;
}

/** The answer may be different later: retry the whole delivery. */
export class TemporaryEnrichmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporaryEnrichmentError';
  }
}

export interface BuiltInProviderOptions {
  /** DNS for the MX check; default the system's servers (3 s per query, 2 tries). */
  resolver?: MailDnsResolver;
  /** Where a domain's website is; default https://<domain>/. */
  websiteFor?: (domain: string) => URL;
  /** For the whole website fetch, redirects and body included; default 5,000 ms. */
  websiteTimeoutMs?: number;
  /** Decoded bytes of the page; default 512 KiB. */
  websiteMaxBytes?: number;
  /** Default 3. */
  websiteMaxRedirects?: number;
  /** Tests only: lets the website fetch reach loopback and private addresses. */
  allowPrivateAddresses?: boolean;
  /** Default: the lists from npm (domain-lists.ts). */
  domainLists?: DomainLists;
}

export const USER_AGENT = 'Stageflow-Enrichment/1';

/** The no-cost providers, in the order they must run: lists, then DNS, then the website. */
export function builtInProviders(opts: BuiltInProviderOptions = {}): EnrichmentProvider[] {
  return [domainListsProvider(opts.domainLists), dnsProvider(opts.resolver), websiteProvider(opts)];
}

/** email_domain, email_free_provider, email_disposable. */
export function domainListsProvider(lists?: DomainLists): EnrichmentProvider {
  return {
    name: 'domain lists',
    enrich: (_email, domain) => {
      const l = lists ?? bundledDomainLists();
      const disposable = l.isDisposable(domain);
      return Promise.resolve({
        // As a person reads it (bücher.example); the lists, DNS and HTTP get the ASCII form.
        email_domain: domainToUnicode(domain) || domain,
        email_free_provider: !disposable && l.isFreeProvider(domain),
        email_disposable: disposable,
      });
    },
  };
}

/** email_domain_accepts_mail; a DNS failure that says nothing about the domain is temporary. */
export function dnsProvider(resolver?: MailDnsResolver): EnrichmentProvider {
  return {
    name: 'dns',
    enrich: async (_email, domain, signal) => {
      const answer = await mailAcceptance(domain, resolver ?? systemResolver(), signal);
      if ('temporary' in answer) throw new TemporaryEnrichmentError(answer.temporary);
      return { email_domain_accepts_mail: answer.accepts };
    },
  };
}

const SOCIAL_FIELDS: Record<SocialNetwork, string> = {
  linkedin: 'company_linkedin_url',
  twitter: 'company_twitter_url',
  facebook: 'company_facebook_url',
  instagram: 'company_instagram_url',
  youtube: 'company_youtube_url',
  github: 'company_github_url',
};

/**
 * company_website, company_name, company_description, company_logo_url and company_*_url social
 * profiles, from the home page. Not for free-mail or disposable domains: gmail.com's home page says
 * nothing about the lead's company.
 */
export function websiteProvider(opts: BuiltInProviderOptions = {}): EnrichmentProvider {
  const timeoutMs = positive('websiteTimeoutMs', opts.websiteTimeoutMs ?? 5_000);
  const maxBytes = positive('websiteMaxBytes', opts.websiteMaxBytes ?? 512 * 1024);
  const maxRedirects = opts.websiteMaxRedirects ?? 3;
  if (!Number.isInteger(maxRedirects) || maxRedirects < 0) {
    throw new RangeError(`websiteMaxRedirects must be an integer >= 0, got ${maxRedirects}`);
  }
  const websiteFor = opts.websiteFor ?? ((domain: string) => new URL(`https://${domain}/`));
  const addressAllowed = opts.allowPrivateAddresses ? allowAnyAddress : isPublicAddress;
  return {
    name: 'website',
    enrich: async (_email, domain, signal, known) => {
      if (known['email_free_provider'] === true || known['email_disposable'] === true) return {};
      const page = await fetchWebsite(
        websiteFor(domain),
        {
          timeoutMs,
          maxBytes,
          maxRedirects,
          addressAllowed,
          userAgent: USER_AGENT,
          anyPort: opts.allowPrivateAddresses === true,
        },
        signal,
      );
      if (!page.ok) throw new Error(page.why);
      const meta = extractCompanyMeta(page.html, page.url);
      const fields: EnrichmentFields = { company_website: page.url.origin };
      if (meta.name) fields['company_name'] = meta.name;
      if (meta.description) fields['company_description'] = meta.description;
      if (meta.logoUrl) fields['company_logo_url'] = meta.logoUrl;
      for (const [network, field] of Object.entries(SOCIAL_FIELDS) as [SocialNetwork, string][]) {
        const url = meta.social[network];
        if (url) fields[field] = url;
      }
      return fields;
    },
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be > 0, got ${value}`);
  return value;
}
