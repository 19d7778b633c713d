import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Server-side request forgery guard. The website enrichment fetches comes from user data (the
 * domain of a lead's address), so a lead at admin@localhost, or at a domain whose DNS points to
 * 10.0.0.5 or 169.254.169.254 (a cloud metadata service), must not make the server fetch from its
 * own network.
 *
 * The check is on the address the socket actually connects to: node:http/https take a `lookup`
 * function, and the one below resolves the name, refuses when any address is not public, and hands
 * the checked addresses to the connection. There is no second resolution between check and
 * connect, so a DNS answer that changes in between (DNS rebinding) cannot slip through. A URL whose
 * host is an IP literal is never looked up, so it is checked separately (checkLiteralHost). Each
 * redirect hop is a new request through the same checks.
 *
 * "Public" is an allowlist: only what ipaddr.js classifies as global unicast. Loopback, private
 * (RFC 1918), link-local, carrier-grade NAT, multicast, unspecified, broadcast, reserved and
 * documentation ranges, IPv6 unique-local, and the IPv6 forms that embed an IPv4 address (mapped,
 * 6to4, Teredo, NAT64) are all refused.
 */

export type AddressPolicy = (address: string) => boolean;

export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  // process() turns ::ffff:127.0.0.1 into 127.0.0.1, so a mapped address is judged as IPv4.
  const parsed = ipaddr.process(address);
  // The deprecated IPv4-compatible form (::7f00:1 is 127.0.0.1) is not mapped by process(): refuse ::/96.
  if (parsed.kind() === 'ipv6' && parsed.match(ipaddr.IPv6.parse('::'), 96)) return false;
  return parsed.range() === 'unicast';
}

export const allowAnyAddress: AddressPolicy = () => true;

/** The error a refused connection fails with; its message ends up in the delivery's detail. */
export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
  constructor(host: string, address: string) {
    super(
      host === address
        ? `${address} is not a public address: not fetched`
        : `${host} resolves to ${address}, which is not a public address: not fetched`,
    );
    this.name = 'BlockedAddressError';
  }
}

/** For a URL host that is an IP literal (no lookup happens): throws when the policy refuses it. */
export function checkLiteralHost(hostname: string, allowed: AddressPolicy): void {
  const host = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  if (isIP(host) !== 0 && !allowed(host)) throw new BlockedAddressError(host, host);
}

type Resolve = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

/**
 * A `lookup` for node:net that resolves every address of the name (getaddrinfo, like the default)
 * and fails the connection when any of them is refused. All of them, not only the first: with
 * happy eyeballs node may connect to any.
 */
export function guardedLookup(allowed: AddressPolicy, resolve: Resolve = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const refused = addresses.find((a) => !allowed(a.address));
      if (refused) return callback(new BlockedAddressError(hostname, refused.address), '', 0);
      const first = addresses[0];
      if (!first) {
        const none: NodeJS.ErrnoException = new Error(`${hostname} has no address`);
        none.code = 'ENOTFOUND';
        return callback(none, '', 0);
      }
      if (options.all) return callback(null, addresses);
      return callback(null, first.address, first.family);
    });
  };
}
