import { disposableEmailBlocklist } from 'disposable-email-domains-js';
import freeMailDomains from 'email-providers/all.json' with { type: 'json' };

/**
 * Is a domain a free-mail provider (gmail.com), a disposable one (mailinator.com), or neither (a
 * company, probably)? Answered from two lists maintained on npm, pinned in package.json so the same
 * build answers the same way; a dependency update brings the new domains.
 *
 * - Free mail: `email-providers` (derhuerst, from goware/emailproviders), about 8,700 domains.
 *   (`free-email-domains`, built on HubSpot's list, was the other candidate; its postinstall script
 *   downloads the lists again at install time, which fails without internet and otherwise makes
 *   every install a different list.)
 * - Disposable: `disposable-email-domains-js`, the community list behind PyPI's and many others'
 *   signup checks (disposable-email-domains/disposable-email-domains), about 8,900 domains, curated
 *   with an allowlist so well-known providers are not swept in.
 *
 * The free-mail list includes many disposable domains too (a third of it); disposable wins, so the
 * two answers never both say yes. Matching differs on purpose: a disposable service often hands out
 * mailboxes on any subdomain (foo.mailinator.com), so a parent domain on that list counts; a free
 * provider hands out addresses on its own names only, and mail.example.gmail.com is somebody's
 * server, not Gmail, so the free-mail list matches the exact domain only.
 */

export interface DomainLists {
  isFreeProvider(domain: string): boolean;
  isDisposable(domain: string): boolean;
}

/** Lists from any source (tests, a custom list); domains are matched lowercased. */
export function domainLists(free: Iterable<string>, disposable: Iterable<string>): DomainLists {
  const freeSet = toSet(free);
  const disposableSet = toSet(disposable);
  const isDisposable = (domain: string): boolean => {
    const labels = domain.toLowerCase().split('.');
    // The domain itself and each parent of two labels or more; never a bare top-level domain.
    for (let i = 0; i <= labels.length - 2; i++) {
      if (disposableSet.has(labels.slice(i).join('.'))) return true;
    }
    return false;
  };
  return {
    isDisposable,
    isFreeProvider: (domain) => !isDisposable(domain) && freeSet.has(domain.toLowerCase()),
  };
}

let bundled: DomainLists | undefined;

/** The lists shipped with the npm packages, built into sets once, on first use. */
export function bundledDomainLists(): DomainLists {
  bundled ??= domainLists(freeMailDomains, disposableEmailBlocklist());
  return bundled;
}

function toSet(domains: Iterable<string>): Set<string> {
  const set = new Set<string>();
  for (const d of domains) {
    const clean = d.trim().toLowerCase().replace(/\.$/, '');
    if (clean !== '' && !clean.startsWith('#')) set.add(clean);
  }
  return set;
}
