import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryContext, DeliveryResult, LeadSnapshot, OutboxItem } from '../../src/integrations/delivery.js';
import { enrichDeliverer, type EnrichmentOptions } from '../../src/integrations/enrichment/deliver.js';
import {
  builtInProviders,
  TemporaryEnrichmentError,
  type EnrichmentFields,
  type EnrichmentProvider,
} from '../../src/integrations/enrichment/providers.js';
import { startDnsServer, type DnsServer } from '../support/dns-server.js';

/**
 * The enrichment deliverer end to end: DNS through a node:dns Resolver asking a real DNS server on
 * a loopback port, websites from real HTTP servers on loopback. No fetch or DNS mocks, and nothing
 * reaches the internet: every test passes a resolver and a websiteFor pointing at loopback.
 */

const NOW = Date.UTC(2025, 2, 14, 9, 30, 0);
const ENRICHED_AT = '2025-03-14T09:30:00.000Z';

let dns: DnsServer;

beforeAll(async () => {
  dns = await startDnsServer({
    'acme.test': { mx: [{ preference: 10, exchange: 'mx1.acme.test' }] },
    'gmail.com': { mx: [{ preference: 5, exchange: 'gmail-smtp-in.l.google.com' }] },
    'mailinator.com': { mx: [{ preference: 10, exchange: 'mail.mailinator.com' }] },
    'foo.mailinator.com': { mx: [{ preference: 10, exchange: 'mail.mailinator.com' }] },
    'nomail.test': { mx: [{ preference: 0, exchange: '.' }], a: ['192.0.2.1'] },
    'afallback.test': { a: ['192.0.2.10'] },
    'v6fallback.test': { aaaa: ['2001:db8::10'] },
    'empty.test': {},
    'broken.test': { fail: { '*': 'SERVFAIL' } },
    'refusing.test': { fail: { '*': 'REFUSED' } },
    'silent.test': { fail: { '*': 'silent' } },
    'half-broken.test': { fail: { A: 'SERVFAIL' } },
  });
});

afterAll(async () => {
  await dns.close();
});

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function site(handler: Handler, host = '127.0.0.1'): Promise<{ url: string; port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host}:${port}/`, port, paths };
}

function html(body: string, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...headers });
    res.end(body);
  };
}

/** A port nothing listens on: the website "is down". */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function item(email: unknown): OutboxItem {
  return {
    id: 'L-1:3:0:enrich',
    lead: 'L-1',
    kind: 'enrich',
    payload: { email },
    attempts: 0,
    createdAt: NOW - 60_000,
  };
}

function lead(email: string, fields: LeadSnapshot['fields'] = {}): LeadSnapshot {
  return {
    id: 'L-1',
    fields: { name: 'Dana', email, ...fields },
    owner: 'rep-a1',
    pipeline: 'sales',
    stage: 'new',
    status: 'open',
    lists: [],
  };
}

function ctx(l: LeadSnapshot | null): DeliveryContext {
  return { process: {} as never, lead: l, now: NOW };
}

/** Every call of websiteFor, so a test can say the website was (not) fetched. */
function websiteAt(url: string, calls: string[] = []): (domain: string) => URL {
  return (domain) => {
    calls.push(domain);
    return new URL(url);
  };
}

async function enrich(email: string, opts: EnrichmentOptions, l: LeadSnapshot | null = lead(email)) {
  return enrichDeliverer({ resolver: dns.resolver(), allowPrivateAddresses: true, ...opts })(item(email), ctx(l));
}

function sentFields(result: DeliveryResult): EnrichmentFields {
  if (result.status !== 'sent' || !result.followUp || !('fields' in result.followUp)) {
    throw new Error(`expected sent with fields, got ${JSON.stringify(result)}`);
  }
  return result.followUp.fields;
}

const ACME_PAGE = `<!doctype html>
<html><head>
  <meta charset="utf-8">
  <title>Home | Acme Widgets</title>
  <meta property="og:site_name" content="  Acme   Widgets ">
  <meta property="og:description" content="Widgets for every &amp; any workshop.">
  <meta name="description" content="The meta description, not used when OpenGraph has one.">
  <link rel="apple-touch-icon" sizes="180x180" href="/static/touch-180.png">
  <meta property="og:image" content="/img/logo.png">
</head><body>
  <a href="https://www.facebook.com/sharer/sharer.php?u=https://acme.test">Share</a>
  <a href="https://twitter.com/intent/tweet?text=hi">Tweet</a>
  <a href="https://www.linkedin.com/in/dana-founder">Our founder</a>
  <footer>
    <a href="https://www.linkedin.com/company/acme-widgets/">LinkedIn</a>
    <a href="https://x.com/acmewidgets?ref=footer">X</a>
    <a href="https://facebook.com/AcmeWidgets">Facebook</a>
    <a href="https://www.instagram.com/acme.widgets/">Instagram</a>
    <a href="https://www.youtube.com/@AcmeWidgets">YouTube</a>
    <a href="https://github.com/acme-widgets/widget-sdk">GitHub</a>
  </footer>
</body></html>`;

describe('enrichDeliverer: email domain lists', () => {
  it('a free-mail address: lists and DNS, and the website is not fetched', async () => {
    const calls: string[] = [];
    const result = await enrich('Dana.Smith@GMail.com', { websiteFor: websiteAt('http://127.0.0.1:9/', calls) });
    expect(result).toEqual({
      status: 'sent',
      detail: 'gmail.com: free-mail provider, accepts mail',
      followUp: {
        email: 'Dana.Smith@GMail.com',
        fields: {
          email_domain: 'gmail.com',
          email_free_provider: true,
          email_disposable: false,
          email_domain_accepts_mail: true,
          enriched_at: ENRICHED_AT,
        },
      },
    });
    expect(calls).toEqual([]);
  });

  it('a disposable address is disposable and not free-mail, though the free-mail list has it too', async () => {
    const calls: string[] = [];
    const fields = sentFields(
      await enrich('temp@mailinator.com', { websiteFor: websiteAt('http://127.0.0.1:9/', calls) }),
    );
    expect(fields).toMatchObject({
      email_domain: 'mailinator.com',
      email_disposable: true,
      email_free_provider: false,
    });
    expect(calls).toEqual([]);
  });

  it('a subdomain of a disposable domain is disposable (foo.mailinator.com)', async () => {
    const fields = sentFields(
      await enrich('temp@foo.mailinator.com', { websiteFor: websiteAt('http://127.0.0.1:9/') }),
    );
    expect(fields).toMatchObject({
      email_domain: 'foo.mailinator.com',
      email_disposable: true,
      email_free_provider: false,
      email_domain_accepts_mail: true,
    });
  });

  it('a company domain is neither', async () => {
    const s = await site(html(ACME_PAGE));
    const fields = sentFields(await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) }));
    expect(fields).toMatchObject({ email_domain: 'acme.test', email_disposable: false, email_free_provider: false });
  });
});

describe('enrichDeliverer: does the domain accept mail (DNS)', () => {
  const down = { websiteFor: websiteAt('http://127.0.0.1:9/') };

  it('MX records present: accepts mail', async () => {
    const fields = sentFields(await enrich('dana@acme.test', down));
    expect(fields['email_domain_accepts_mail']).toBe(true);
  });

  it('a null MX (RFC 7505) accepts no mail, even with an A record', async () => {
    const result = await enrich('dana@nomail.test', down);
    expect(sentFields(result)['email_domain_accepts_mail']).toBe(false);
    expect(dns.queries).not.toContain('A nomail.test');
  });

  it('NXDOMAIN: accepts no mail', async () => {
    const fields = sentFields(await enrich('dana@nx.test', down));
    expect(fields['email_domain_accepts_mail']).toBe(false);
  });

  it('no MX: falls back to the A or AAAA record (RFC 5321)', async () => {
    expect(sentFields(await enrich('dana@afallback.test', down))['email_domain_accepts_mail']).toBe(true);
    expect(sentFields(await enrich('dana@v6fallback.test', down))['email_domain_accepts_mail']).toBe(true);
  });

  it('no MX and no address: accepts no mail', async () => {
    expect(sentFields(await enrich('dana@empty.test', down))['email_domain_accepts_mail']).toBe(false);
  });

  it('SERVFAIL is retried: it says nothing about the domain', async () => {
    const result = await enrich('dana@broken.test', down);
    expect(result.status).toBe('retry');
    expect(result.status === 'retry' && result.error).toMatch(/^dns: MX lookup for broken\.test failed: .*ESERVFAIL/);
  });

  it('REFUSED, a timeout, or a failing A lookup after NODATA are retried too', async () => {
    for (const domain of ['refusing.test', 'silent.test', 'half-broken.test']) {
      const result = await enrich(`dana@${domain}`, down);
      expect({ domain, status: result.status }).toEqual({ domain, status: 'retry' });
    }
    const r = await enrich('dana@half-broken.test', down);
    expect(r.status === 'retry' && r.error).toMatch(/A\/AAAA lookup for half-broken\.test failed: .*ESERVFAIL/);
  });
});

describe('enrichDeliverer: the company website', () => {
  it('reads OpenGraph, the title, the logo (made absolute) and the social profiles', async () => {
    const s = await site(html(ACME_PAGE));
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) });
    const origin = `http://127.0.0.1:${s.port}`;
    expect(result).toEqual({
      status: 'sent',
      detail: `acme.test: company domain, accepts mail, website ${origin} ("Acme Widgets")`,
      followUp: {
        email: 'dana@acme.test',
        fields: {
          email_domain: 'acme.test',
          email_free_provider: false,
          email_disposable: false,
          email_domain_accepts_mail: true,
          company_website: origin,
          company_name: 'Acme Widgets',
          company_description: 'Widgets for every & any workshop.',
          company_logo_url: `${origin}/img/logo.png`,
          company_linkedin_url: 'https://www.linkedin.com/company/acme-widgets',
          company_twitter_url: 'https://x.com/acmewidgets',
          company_facebook_url: 'https://www.facebook.com/AcmeWidgets',
          company_instagram_url: 'https://www.instagram.com/acme.widgets',
          company_youtube_url: 'https://www.youtube.com/@AcmeWidgets',
          company_github_url: 'https://github.com/acme-widgets',
          company: 'Acme Widgets',
          enriched_at: ENRICHED_AT,
        },
      },
    });
    expect(s.paths).toEqual(['/']);
  });

  it('without OpenGraph: the cleaned title, the meta description and the touch icon', async () => {
    const s = await site(
      html(`<html><head><title>Home – Acme</title><meta name="description" content="We make widgets.">
        <link rel="icon" href="favicon.ico"><link rel="apple-touch-icon" href="touch.png"></head><body></body></html>`),
    );
    const fields = sentFields(await enrich('dana@acme.test', { websiteFor: websiteAt(`${s.url}en/`) }));
    expect(fields).toMatchObject({
      company_name: 'Acme',
      company_description: 'We make widgets.',
      company_logo_url: `http://127.0.0.1:${s.port}/en/touch.png`,
    });
  });

  it('follows up to 3 redirects, each hop checked, and reports the final origin', async () => {
    const final = await site(html('<title>Acme Final</title>'));
    const first = await site((req, res) => {
      const next: Record<string, string> = {
        '/': '/one',
        '/one': '/two',
        '/two': `http://localhost:${final.port}/home`,
      };
      res.writeHead(req.url === '/one' ? 302 : 301, { location: next[req.url ?? ''] ?? '/' });
      res.end();
    });
    const fields = sentFields(await enrich('dana@acme.test', { websiteFor: websiteAt(first.url) }));
    expect(first.paths).toEqual(['/', '/one', '/two']);
    expect(final.paths).toEqual(['/home']);
    expect(fields['company_website']).toBe(`http://localhost:${final.port}`);
    expect(fields['company_name']).toBe('Acme Final');
  });

  it('a 4th redirect is not followed: sent without company fields', async () => {
    const s = await site((req, res) => {
      const n = Number((req.url ?? '/0').slice(1)) || 0;
      res.writeHead(302, { location: `/${n + 1}` });
      res.end();
    });
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) });
    const fields = sentFields(result);
    expect(s.paths).toEqual(['/', '/1', '/2', '/3']);
    expect(Object.keys(fields).filter((k) => k.startsWith('company'))).toEqual([]);
    expect(result.status === 'sent' && result.detail).toBe(
      `acme.test: company domain, accepts mail; website: http://127.0.0.1:${s.port}/: more than 3 redirects`,
    );
  });

  it('a slow site times out: the email fields are still sent', async () => {
    const s = await site((_req, res) => {
      setTimeout(() => html('<title>Too late</title>')(_req, res), 3_000).unref();
    });
    const started = Date.now();
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url), websiteTimeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(2_500);
    const fields = sentFields(result);
    expect(fields['email_domain_accepts_mail']).toBe(true);
    expect(fields['company_name']).toBeUndefined();
    expect(result.status === 'sent' && result.detail).toContain('no complete answer within 300 ms');
  });

  it('a body that trickles past the deadline times out as well', async () => {
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html><head><title>Slow</title>');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    });
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url), websiteTimeoutMs: 300 });
    expect(sentFields(result)['company_name']).toBeUndefined();
    expect(result.status === 'sent' && result.detail).toContain('no complete answer within 300 ms');
  });

  it('an endless page is read up to the size cap, and its head is used', async () => {
    let closed = false;
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html><head><title>Huge</title></head><body>');
      const chunk = Buffer.alloc(16 * 1024, 'a');
      let open = true;
      res.on('close', () => {
        open = false;
        closed = true;
      });
      const pump = (): void => {
        while (open && res.write(chunk));
        if (open) res.once('drain', pump);
      };
      pump();
    });
    const result = await enrich('dana@acme.test', {
      websiteFor: websiteAt(s.url),
      websiteMaxBytes: 64 * 1024,
      websiteTimeoutMs: 10_000,
    });
    expect(sentFields(result)['company_name']).toBe('Huge');
    await expect.poll(() => closed).toBe(true);
  });

  it('what lies past the cap is not read, whether the length is declared or not', async () => {
    const late = `${' '.repeat(70_000)}<title>Late</title>`;
    const declared = await site(html(late, { 'content-length': String(Buffer.byteLength(late)) }));
    const cut = await enrich('dana@acme.test', { websiteFor: websiteAt(declared.url), websiteMaxBytes: 64 * 1024 });
    expect(sentFields(cut)['company_name']).toBeUndefined();
    const early = `<title>Big</title>${'x'.repeat(70_000)}`;
    const big = await site(html(early, { 'content-length': String(Buffer.byteLength(early)) }));
    const read = await enrich('dana@acme.test', { websiteFor: websiteAt(big.url), websiteMaxBytes: 64 * 1024 });
    expect(sentFields(read)['company_name']).toBe('Big');
  });

  it('the cap counts decoded bytes: a small gzip of a large page is cut off after the cap', async () => {
    // 1 MiB of spaces is about 1 KiB on the wire; the title after them is past a 64 KiB cap.
    const zipped = gzipSync(
      Buffer.from(`<title>Bomb</title>${' '.repeat(1024 * 1024)}<meta name="description" content="late">`),
    );
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip', 'content-length': zipped.length });
      res.end(zipped);
    });
    const bomb = sentFields(
      await enrich('dana@acme.test', { websiteFor: websiteAt(s.url), websiteMaxBytes: 64 * 1024 }),
    );
    expect(bomb['company_name']).toBe('Bomb');
    expect(bomb['company_description']).toBeUndefined();

    const small = gzipSync(Buffer.from('<title>Zipped Acme</title>'));
    const ok = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-encoding': 'gzip' });
      res.end(small);
    });
    const fields = sentFields(await enrich('dana@acme.test', { websiteFor: websiteAt(ok.url) }));
    expect(fields['company_name']).toBe('Zipped Acme');
  });

  it('a page cut off mid-way is not read as a page', async () => {
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html', 'content-length': '5000' });
      res.write('<title>Half a page</title>');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) });
    expect(sentFields(result)['company_name']).toBeUndefined();
    expect(result.status === 'sent' && result.detail).toContain('the connection closed before the page was complete');
  });

  it('not HTML: sent without company fields', async () => {
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"title":"Acme"}');
    });
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) });
    expect(Object.keys(sentFields(result)).filter((k) => k.startsWith('company'))).toEqual([]);
    expect(result.status === 'sent' && result.detail).toContain(
      `http://127.0.0.1:${s.port}/: not HTML (application/json)`,
    );
  });

  it('a site that is down or answers 500: sent without company fields', async () => {
    const port = await closedPort();
    const down = await enrich('dana@acme.test', { websiteFor: websiteAt(`http://127.0.0.1:${port}/`) });
    expect(sentFields(down)['company_website']).toBeUndefined();
    expect(down.status === 'sent' && down.detail).toContain('ECONNREFUSED');

    const s = await site((_req, res) => {
      res.writeHead(500);
      res.end('oops');
    });
    const failing = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) });
    expect(sentFields(failing)['company_website']).toBeUndefined();
    expect(failing.status === 'sent' && failing.detail).toContain('HTTP 500');
  });

  it('decodes the charset the server declares', async () => {
    const s = await site((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=windows-1252' });
      res.end(Buffer.from('<title>Caf\xe9 Acme</title>', 'latin1'));
    });
    const fields = sentFields(await enrich('dana@acme.test', { websiteFor: websiteAt(s.url) }));
    expect(fields['company_name']).toBe('Café Acme');
  });
});

describe('enrichDeliverer: the SSRF guard', () => {
  it('refuses a loopback address unless allowPrivateAddresses is set', async () => {
    const s = await site(html(ACME_PAGE));
    const result = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url), allowPrivateAddresses: false });
    expect(s.paths).toEqual([]);
    const fields = sentFields(result);
    expect(fields['company_website']).toBeUndefined();
    expect(fields['email_domain_accepts_mail']).toBe(true);
    expect(result.status === 'sent' && result.detail).toContain(
      `http://127.0.0.1:${s.port}/: 127.0.0.1 is not a public address: not fetched`,
    );

    const allowed = await enrich('dana@acme.test', { websiteFor: websiteAt(s.url), allowPrivateAddresses: true });
    expect(sentFields(allowed)['company_name']).toBe('Acme Widgets');
    expect(s.paths).toEqual(['/']);
  });

  it('refuses a host name that resolves to loopback (the address connected to is checked)', async () => {
    const s = await site(html(ACME_PAGE));
    const result = await enrich('dana@acme.test', {
      websiteFor: websiteAt(`http://localhost:${s.port}/`),
      allowPrivateAddresses: false,
    });
    expect(s.paths).toEqual([]);
    expect(sentFields(result)['company_website']).toBeUndefined();
    expect(result.status === 'sent' && result.detail).toMatch(
      /localhost resolves to .*, which is not a public address/,
    );
  });
});

describe('enrichDeliverer: the lead', () => {
  it('never overwrites the company a person entered; fills it when empty', async () => {
    const s = await site(html(ACME_PAGE));
    const opts = { websiteFor: websiteAt(s.url) };
    const kept = sentFields(
      await enrich('dana@acme.test', opts, lead('dana@acme.test', { company: 'Acme Holdings Ltd' })),
    );
    expect(kept['company_name']).toBe('Acme Widgets');
    expect('company' in kept).toBe(false);

    for (const empty of ['', '   ', null]) {
      const filled = sentFields(await enrich('dana@acme.test', opts, lead('dana@acme.test', { company: empty })));
      expect({ empty, company: filled['company'] }).toEqual({ empty, company: 'Acme Widgets' });
    }
  });

  it('a lead that is gone, or has another address now, is not looked up at all', async () => {
    const before = dns.queries.length;
    const calls: string[] = [];
    const opts = { websiteFor: websiteAt('http://127.0.0.1:9/', calls) };
    expect(await enrich('dana@acme.test', opts, null)).toEqual({
      status: 'sent',
      detail: 'the lead is gone: nothing enriched',
    });
    expect(await enrich('dana@acme.test', opts, lead('someone@else.test'))).toEqual({
      status: 'sent',
      detail: 'the lead has another address by now: nothing enriched',
    });
    expect(dns.queries.length).toBe(before);
    expect(calls).toEqual([]);
  });

  it('the same address in another case or with spaces is the same address', async () => {
    const result = await enrich(
      'Dana@Acme.test',
      { websiteFor: websiteAt('http://127.0.0.1:9/') },
      lead(' dana@acme.TEST '),
    );
    expect(sentFields(result)['email_domain']).toBe('acme.test');
  });
});

describe('enrichDeliverer: unusable payloads are dead', () => {
  it.each([
    [undefined, 'enrich payload has no email'],
    ['', 'enrich payload has no email'],
    [42, 'enrich payload has no email'],
    ['not-an-address', 'enrich email "not-an-address" is not an address (local@domain)'],
    ['dana@', 'enrich email "dana@" is not an address (local@domain)'],
    ['dana@localhost', 'enrich email "dana@localhost" has no usable domain'],
    ['dana@192.0.2.1', 'enrich email "dana@192.0.2.1" has no usable domain'],
    [
      'dana@[192.0.2.1]',
      'enrich email "dana@[192.0.2.1]" has an address literal, not a domain: nothing to enrich from',
    ],
    ['dana@-acme.test', 'enrich email "dana@-acme.test" has no usable domain'],
    ['da na@acme.test', 'enrich email "da na@acme.test" has spaces in it'],
  ])('%j', async (email, error) => {
    const result = await enrichDeliverer({ resolver: dns.resolver() })(item(email), ctx(lead('dana@acme.test')));
    expect(result).toEqual({ status: 'dead', error });
  });

  it('an internationalised domain is looked up in ASCII and shown in Unicode', async () => {
    const calls: string[] = [];
    const result = await enrich('dana@Bücher.test', { websiteFor: websiteAt('http://127.0.0.1:9/', calls) });
    expect(sentFields(result)['email_domain']).toBe('bücher.test');
    expect(dns.queries).toContain('MX xn--bcher-kva.test');
    expect(calls).toEqual(['xn--bcher-kva.test']);
  });
});

describe('enrichDeliverer: pluggable providers', () => {
  const resolver = () => dns.resolver();

  function provider(name: string, enrich: EnrichmentProvider['enrich']): EnrichmentProvider {
    return { name, enrich };
  }

  it('runs a paid provider after the built-in ones, with what they learned; the first answer wins', async () => {
    const seen: EnrichmentFields[] = [];
    const paid = provider('paid api', (email, domain, _signal, known) => {
      seen.push({ email, domain, ...known });
      return Promise.resolve({
        company_industry: '  Industrial   widgets ',
        company_employee_count: 120,
        email_free_provider: true,
        company_linkedin_url: 'javascript:alert(1)',
        name: 'Someone Else',
        email_nothing: null,
      });
    });
    const opts = { resolver: resolver(), websiteFor: websiteAt('http://127.0.0.1:9/') };
    const deliver = enrichDeliverer({ providers: [...builtInProviders(opts), paid] });
    const result = await deliver(item('dana@acme.test'), ctx(lead('dana@acme.test')));
    const fields = sentFields(result);
    expect(seen).toEqual([
      {
        email: 'dana@acme.test',
        domain: 'acme.test',
        email_domain: 'acme.test',
        email_free_provider: false,
        email_disposable: false,
        email_domain_accepts_mail: true,
      },
    ]);
    expect(fields).toMatchObject({
      company_industry: 'Industrial widgets',
      company_employee_count: 120,
      email_free_provider: false,
    });
    expect('name' in fields || 'company_linkedin_url' in fields || 'email_nothing' in fields).toBe(false);
    expect(result.status === 'sent' && result.detail).toContain(
      'paid api: ignored company_linkedin_url (not a usable value), name (only email_* and company_* fields)',
    );
  });

  it('a provider that fails is noted and the others still count; a temporary failure retries', async () => {
    const failing = provider('flaky', () => Promise.reject(new Error('quota exceeded')));
    const after = provider('after', () => Promise.resolve({ company_size: 'large' }));
    const result = await enrichDeliverer({ providers: [failing, after] })(
      item('dana@acme.test'),
      ctx(lead('dana@acme.test')),
    );
    expect(result).toEqual({
      status: 'sent',
      detail: 'acme.test: nothing learned; flaky: quota exceeded',
      followUp: { email: 'dana@acme.test', fields: { company_size: 'large', enriched_at: ENRICHED_AT } },
    });

    const temporary = provider('rate limited', () => Promise.reject(new TemporaryEnrichmentError('HTTP 429')));
    const retried = await enrichDeliverer({ providers: [temporary, after] })(
      item('dana@acme.test'),
      ctx(lead('dana@acme.test')),
    );
    expect(retried).toEqual({ status: 'retry', error: 'rate limited: HTTP 429' });
  });

  it('a provider that throws synchronously does not make the deliverer throw', async () => {
    const broken: EnrichmentProvider = {
      name: 'broken',
      enrich: () => {
        throw new TypeError('bad state');
      },
    };
    const result = await enrichDeliverer({ providers: [broken] })(item('dana@acme.test'), ctx(lead('dana@acme.test')));
    expect(result.status === 'sent' && result.detail).toBe('acme.test: nothing learned; broken: bad state');
  });
});
