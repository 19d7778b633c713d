import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bundledDomainLists, domainLists } from '../../src/integrations/enrichment/domain-lists.js';
import { parseEmailAddress } from '../../src/integrations/enrichment/email-address.js';
import { guardedLookup, isPublicAddress } from '../../src/integrations/enrichment/ssrf-guard.js';
import { fetchWebsite, type WebsiteFetchOptions } from '../../src/integrations/enrichment/website.js';

/** The SSRF guard, the website fetch's per-hop checks, the domain lists and address parsing. */

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function listen(host: string, handler: Parameters<typeof createServer>[1]) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler?.(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return { port: (server.address() as AddressInfo).port, hits };
}

describe('isPublicAddress', () => {
  it.each(['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (a) => {
    expect(isPublicAddress(a)).toBe(true);
  });

  it.each([
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.5',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '192.0.2.1',
    '198.18.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
    '::7f00:1',
    '::a00:1',
    '2002:a00:1::1',
    '64:ff9b::a00:1',
    '2001:db8::1',
    'not an address',
  ])('%s is not', (a) => {
    expect(isPublicAddress(a)).toBe(false);
  });
});

describe('guardedLookup', () => {
  function resolving(addresses: LookupAddress[]) {
    return (
      _host: string,
      _opts: object,
      cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
    ): void => cb(null, addresses);
  }

  function look(lookup: ReturnType<typeof guardedLookup>, all: boolean) {
    return new Promise<{ err: Error | null; address: unknown; family?: number }>((resolve) =>
      lookup('site.test', { all }, (err, address, family) => resolve({ err, address, family })),
    );
  }

  it('hands on the addresses when all are allowed, in the shape asked for', async () => {
    const lookup = guardedLookup(isPublicAddress, resolving([{ address: '93.184.216.34', family: 4 }]));
    expect(await look(lookup, false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect(await look(lookup, true)).toEqual({
      err: null,
      address: [{ address: '93.184.216.34', family: 4 }],
      family: undefined,
    });
  });

  it('refuses the name when any of its addresses is refused', async () => {
    const lookup = guardedLookup(
      isPublicAddress,
      resolving([
        { address: '93.184.216.34', family: 4 },
        { address: '10.0.0.5', family: 4 },
      ]),
    );
    const { err } = await look(lookup, true);
    expect(err?.message).toBe('site.test resolves to 10.0.0.5, which is not a public address: not fetched');
  });
});

describe('fetchWebsite: every hop is checked', () => {
  const opts: WebsiteFetchOptions = {
    timeoutMs: 3_000,
    maxBytes: 64 * 1024,
    maxRedirects: 3,
    // Loopback stands in for "the internet" here: 127.0.0.1 is allowed, 127.0.0.2 plays a private host.
    addressAllowed: (a) => a === '127.0.0.1',
    userAgent: 'test',
    // The servers here listen on random ports; the port rule has a test of its own below.
    anyPort: true,
  };

  it("a redirect to a port other than 80 or 443 is not followed, so a host's other services are not probed", async () => {
    for (const port of ['8080', '25', '6379']) {
      const s = await listen('127.0.0.1', (_req, res) => {
        res?.writeHead(302, { location: `http://127.0.0.1:${port}/` });
        res?.end();
      });
      const result = await fetchWebsite(
        new URL(`http://127.0.0.1:${s.port}/`),
        { ...opts, anyPort: false },
        new AbortController().signal,
      );
      expect(result).toEqual({
        ok: false,
        why: `http://127.0.0.1:${port}/: port ${port} is not fetched: only 80 and 443`,
      });
      expect(s.hits).toEqual(['/']);
    }
  });

  it('a redirect to a refused address is not followed', async () => {
    const inside = await listen('127.0.0.2', (_req, res) => res?.end('<title>secret</title>'));
    const outside = await listen('127.0.0.1', (_req, res) => {
      res?.writeHead(302, { location: `http://127.0.0.2:${inside.port}/admin` });
      res?.end();
    });
    const result = await fetchWebsite(new URL(`http://127.0.0.1:${outside.port}/`), opts, new AbortController().signal);
    expect(result).toEqual({
      ok: false,
      why: `http://127.0.0.2:${inside.port}/admin: 127.0.0.2 is not a public address: not fetched`,
    });
    expect(outside.hits).toEqual(['/']);
    expect(inside.hits).toEqual([]);
  });

  it('a redirect to another scheme or to a URL with credentials is not followed', async () => {
    for (const location of ['file:///etc/passwd', 'http://user:pw@127.0.0.1/']) {
      const s = await listen('127.0.0.1', (_req, res) => {
        res?.writeHead(301, { location });
        res?.end();
      });
      const result = await fetchWebsite(new URL(`http://127.0.0.1:${s.port}/`), opts, new AbortController().signal);
      expect(result.ok).toBe(false);
      expect(!result.ok && result.why).toMatch(
        /scheme file: is not fetched|a URL with credentials in it is not fetched/,
      );
    }
  });

  it('the same page is fetched when the policy allows its address', async () => {
    const s = await listen('127.0.0.1', (_req, res) => {
      res?.writeHead(200, { 'content-type': 'text/html' });
      res?.end('<title>ok</title>');
    });
    const result = await fetchWebsite(new URL(`http://127.0.0.1:${s.port}/`), opts, new AbortController().signal);
    expect(result).toEqual({ ok: true, url: new URL(`http://127.0.0.1:${s.port}/`), html: '<title>ok</title>' });
  });
});

describe('domain lists', () => {
  const lists = bundledDomainLists();

  it('free mail matches the exact domain only', () => {
    expect(lists.isFreeProvider('gmail.com')).toBe(true);
    expect(lists.isFreeProvider('GMail.COM')).toBe(true);
    expect(lists.isFreeProvider('mail.example.gmail.com')).toBe(false);
    expect(lists.isFreeProvider('acme.test')).toBe(false);
  });

  it('disposable matches the domain and its parents, never a bare TLD or a look-alike', () => {
    expect(lists.isDisposable('mailinator.com')).toBe(true);
    expect(lists.isDisposable('foo.bar.mailinator.com')).toBe(true);
    expect(lists.isDisposable('acmemailinator.com')).toBe(false);
    expect(lists.isDisposable('mailinator.com.acme.test')).toBe(false);
    expect(lists.isDisposable('gmail.com')).toBe(false);
    const withTld = domainLists([], ['com', 'throwaway.test']);
    expect(withTld.isDisposable('acme.com')).toBe(false);
    expect(withTld.isDisposable('x.throwaway.test')).toBe(true);
  });

  it('a domain on both lists is disposable, not free mail', () => {
    const both = domainLists(['both.test', 'free.test'], ['both.test']);
    expect([both.isFreeProvider('both.test'), both.isDisposable('both.test')]).toEqual([false, true]);
    expect([both.isFreeProvider('free.test'), both.isDisposable('free.test')]).toEqual([true, false]);
  });
});

describe('parseEmailAddress', () => {
  it('lowercases the domain, drops a trailing dot, and keeps the address as queued', () => {
    expect(parseEmailAddress('  Dana@Acme.TEST.  ')).toEqual({
      ok: true,
      address: { email: 'Dana@Acme.TEST.', domain: 'acme.test' },
    });
    expect(parseEmailAddress('"odd@local"@acme.test')).toEqual({
      ok: true,
      address: { email: '"odd@local"@acme.test', domain: 'acme.test' },
    });
  });

  it('refuses an address too long to be one', () => {
    const result = parseEmailAddress(`${'a'.repeat(250)}@acme.test`);
    expect(result.ok === false && result.error).toMatch(/is longer than an address can be$/);
  });
});
