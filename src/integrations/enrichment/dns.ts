import { Resolver } from 'node:dns/promises';

/**
 * Does a domain accept mail? Answered the way a sending server decides (RFC 5321 §5.1): its MX
 * records; with none at all, the domain's own A/AAAA address is the implicit mail exchanger. A
 * "null MX" (RFC 7505: a single MX whose exchange is the root, ".") is the domain saying it takes
 * no mail at all. A domain that does not exist (NXDOMAIN) accepts none either.
 *
 * The answer is a fact about the domain only when the DNS gave one: NXDOMAIN (ENOTFOUND) and "no
 * records of that type" (ENODATA) are answers. SERVFAIL, REFUSED, a timeout or any other failure
 * says nothing about the domain, so it is `temporary` and the delivery is retried later rather
 * than recording a wrong `false` on the lead.
 */

/** The part of a node:dns/promises Resolver this needs; tests pass one pointed at a local server. */
export type MailDnsResolver = Pick<Resolver, 'resolveMx' | 'resolve4' | 'resolve6'>;

export type MailAcceptance = { accepts: boolean; why: string } | { temporary: string };

/** Answers about the domain, not failures to get one. */
const ANSWER_CODES = new Set(['ENOTFOUND', 'ENODATA']);

let defaultResolver: Resolver | undefined;

/** The system's DNS servers, 3 s per query and 2 tries: a slow DNS is retried later, not waited on. */
export function systemResolver(): Resolver {
  defaultResolver ??= new Resolver({ timeout: 3_000, tries: 2 });
  return defaultResolver;
}

export async function mailAcceptance(
  domain: string,
  resolver: MailDnsResolver,
  signal: AbortSignal,
): Promise<MailAcceptance> {
  const mx = await ask(() => resolver.resolveMx(domain), signal);
  if ('failed' in mx) {
    if (mx.failed === 'ENOTFOUND') return { accepts: false, why: 'no such domain (NXDOMAIN)' };
    if (mx.failed !== 'ENODATA') return { temporary: `MX lookup for ${domain} failed: ${mx.detail}` };
  } else if (mx.records.length > 0) {
    const real = mx.records.filter((r) => r.exchange !== '' && r.exchange !== '.');
    if (real.length === 0) return { accepts: false, why: 'null MX (RFC 7505): the domain accepts no mail' };
    return { accepts: true, why: `MX ${real.map((r) => r.exchange).join(', ')}` };
  }

  // No MX records: the domain's own address is the implicit MX.
  const [v4, v6] = await Promise.all([
    ask(() => resolver.resolve4(domain), signal),
    ask(() => resolver.resolve6(domain), signal),
  ]);
  const found = [v4, v6].flatMap((r) => ('records' in r ? r.records : []));
  if (found.length > 0) return { accepts: true, why: `no MX; A/AAAA fallback ${found.join(', ')}` };
  const unknown = [v4, v6].find((r) => 'failed' in r && !ANSWER_CODES.has(r.failed));
  if (unknown && 'failed' in unknown) {
    return { temporary: `A/AAAA lookup for ${domain} failed: ${unknown.detail}` };
  }
  return { accepts: false, why: 'no MX and no A/AAAA records' };
}

type Asked<T> = { records: T[] } | { failed: string; detail: string };

/**
 * One query, as records or as the DNS error code. A Resolver cannot be cancelled per query (its
 * cancel() drops every query in flight, other deliveries' too), so an abort stops the waiting and
 * the query ends on its own timeout.
 */
async function ask<T>(query: () => Promise<T[]>, signal: AbortSignal): Promise<Asked<T>> {
  if (signal.aborted) return { failed: 'EABORTED', detail: 'the enrichment ran out of time' };
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<Asked<T>>((resolve) => {
    onAbort = () => resolve({ failed: 'EABORTED', detail: 'the enrichment ran out of time' });
    signal.addEventListener('abort', onAbort, { once: true });
  });
  const answered = query().then(
    (records): Asked<T> => ({ records }),
    (e: unknown): Asked<T> => {
      const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
      return {
        failed: typeof code === 'string' && code !== '' ? code : 'EUNKNOWN',
        detail: e instanceof Error ? e.message : String(e),
      };
    },
  );
  try {
    return await Promise.race([answered, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
