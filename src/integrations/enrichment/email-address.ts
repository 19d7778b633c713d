import { domainToASCII } from 'node:url';

/**
 * The address an enrichment starts from, and its domain as DNS, HTTP and the domain lists want it:
 * ASCII (punycode), lowercased, without a trailing dot. (`email_domain` shows people the Unicode
 * form of the same name.)
 *
 * Only what enrichment needs is checked: something before the last @, and after it a host name of
 * at least two labels. An address literal (user@[192.0.2.1]) or a bare IP names no organisation,
 * so it is not a usable address here even when a mail server would take it.
 */

export interface EmailAddress {
  /** The address as queued, trimmed. */
  email: string;
  /** Lowercased ASCII form: what DNS, HTTP and the lists are asked about. */
  domain: string;
}

/** RFC 5321 caps a path at 256 octets, angle brackets included. */
const MAX_EMAIL_LENGTH = 254;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function parseEmailAddress(raw: unknown): { ok: true; address: EmailAddress } | { ok: false; error: string } {
  if (typeof raw !== 'string' || raw.trim() === '') return { ok: false, error: 'enrich payload has no email' };
  const email = raw.trim();
  const shown = JSON.stringify(email.length > 80 ? `${email.slice(0, 80)}…` : email);
  if (email.length > MAX_EMAIL_LENGTH)
    return { ok: false, error: `enrich email ${shown} is longer than an address can be` };
  if (/\s/.test(email)) return { ok: false, error: `enrich email ${shown} has spaces in it` };
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1)
    return { ok: false, error: `enrich email ${shown} is not an address (local@domain)` };
  let host = email.slice(at + 1);
  if (host.startsWith('[')) {
    return { ok: false, error: `enrich email ${shown} has an address literal, not a domain: nothing to enrich from` };
  }
  // A fully qualified name may end with a dot; it names the same domain.
  if (host.endsWith('.')) host = host.slice(0, -1);
  const domain = domainToASCII(host);
  const labels = domain.split('.');
  const valid =
    domain !== '' &&
    domain.length <= 253 &&
    labels.length >= 2 &&
    labels.every((l) => LABEL.test(l)) &&
    // An all-digit last label is an IPv4 address, not a domain.
    !/^\d+$/.test(labels[labels.length - 1] ?? '');
  if (!valid) return { ok: false, error: `enrich email ${shown} has no usable domain` };
  return { ok: true, address: { email, domain } };
}
