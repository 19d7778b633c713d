import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryContext, LeadSnapshot, OutboxItem } from '../../src/integrations/delivery.js';
import { verifyWebhookSignature, webhookDeliverer } from '../../src/integrations/webhook.js';

/**
 * The webhook deliverer against a real HTTP server on a loopback port: no fetch mocks, so the
 * bytes signed are the bytes that crossed the socket.
 */

const SECRET = 'whsec_test_0123456789abcdef';
const NOW = Date.UTC(2025, 2, 14, 9, 30, 0);
const NOW_S = Math.floor(NOW / 1000);
const CREATED = Date.UTC(2025, 2, 14, 9, 29, 0);

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

const servers: Server[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function serve(handler: Handler): Promise<{ url: string; port: number; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/stageflow`, port, received };
}

function answer(status: number, body = '', headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };
}

function item(url: string, over: Partial<OutboxItem> = {}): OutboxItem {
  return {
    id: 'L-1:4:0:webhook',
    lead: 'L-1',
    kind: 'webhook',
    payload: {
      lead: 'L-1',
      url,
      event: 'stage.entered',
      cause: 'lead.moved',
      pipeline: 'sales',
      stage: 'qualified',
      status: 'open',
      owner: 'rep-a0',
    },
    attempts: 0,
    createdAt: CREATED,
    ...over,
  };
}

const LEAD: LeadSnapshot = {
  id: 'L-1',
  fields: { name: 'Acme', email: 'buyer@acme.example' },
  owner: 'rep-a1',
  pipeline: 'sales',
  stage: 'proposal',
  status: 'open',
  lists: [],
};

/** The deliverer never reads the process, so an empty stand-in is enough. */
function ctx(lead: LeadSnapshot | null = LEAD): DeliveryContext {
  return { process: {} as never, lead, now: NOW };
}

describe('webhookDeliverer', () => {
  it('POSTs the signed JSON body with its headers, and 2xx is sent', async () => {
    const srv = await serve(answer(204));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(
      item(srv.url, { attempts: 2 }),
      ctx(),
    );

    expect(result).toEqual({ status: 'sent', detail: 'HTTP 204' });
    expect(srv.received).toHaveLength(1);
    const got = srv.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/hooks/stageflow');
    expect(JSON.parse(got.body.toString('utf8'))).toEqual({
      id: 'L-1:4:0:webhook',
      type: 'stageflow.automation',
      event: 'stage.entered',
      cause: 'lead.moved',
      // As of the event (the stage entered, the owner then), though the lead has moved on since.
      lead: { id: 'L-1', pipeline: 'sales', stage: 'qualified', status: 'open', owner: 'rep-a0' },
      current: { id: 'L-1', pipeline: 'sales', stage: 'proposal', status: 'open', owner: 'rep-a1' },
      occurredAt: '2025-03-14T09:29:00.000Z',
      attempt: 3,
    });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('Stageflow-Webhooks/1');
    expect(got.headers['idempotency-key']).toBe('L-1:4:0:webhook');

    const signature = got.headers['stageflow-signature'];
    expect(typeof signature).toBe('string');
    expect(signature).toMatch(new RegExp(`^t=${NOW_S},v1=[0-9a-f]{64}$`));
    expect(signature).not.toContain(SECRET);

    const header = signature as string;
    expect(verifyWebhookSignature(SECRET, header, got.body, NOW_S)).toBe(true);
    expect(verifyWebhookSignature(SECRET, header, got.body.toString('utf8'), NOW_S + 299)).toBe(true);
    expect(verifyWebhookSignature('another-secret', header, got.body, NOW_S)).toBe(false);
    const changed = got.body.toString('utf8').replace('"attempt":3', '"attempt":4');
    expect(changed).not.toBe(got.body.toString('utf8'));
    expect(verifyWebhookSignature(SECRET, header, changed, NOW_S)).toBe(false);
    // Too old or from the future: a captured request cannot be replayed later.
    expect(verifyWebhookSignature(SECRET, header, got.body, NOW_S + 301)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, got.body, NOW_S - 301)).toBe(false);
    expect(verifyWebhookSignature(SECRET, header, got.body, NOW_S + 3600, 7200)).toBe(true);
  });

  it('describes the lead from the payload when the lead is gone', async () => {
    const srv = await serve(answer(200, 'ok'));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx(null));
    expect(result).toEqual({ status: 'sent', detail: 'HTTP 200' });
    const body = JSON.parse(srv.received[0]!.body.toString('utf8')) as { lead: unknown; current: unknown };
    expect(body.lead).toEqual({ id: 'L-1', pipeline: 'sales', stage: 'qualified', status: 'open', owner: 'rep-a0' });
    expect(body.current).toBeNull();
  });

  it('takes what a row queued before the payload held them lacks (pipeline, owner) from the lead now', async () => {
    const srv = await serve(answer(200, 'ok'));
    const old = item(srv.url);
    const { pipeline: _p, owner: _o, ...payload } = old.payload;
    await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })({ ...old, payload }, ctx());
    expect(JSON.parse(srv.received[0]!.body.toString('utf8')).lead).toEqual({
      id: 'L-1',
      pipeline: 'sales',
      stage: 'qualified',
      status: 'open',
      owner: 'rep-a1',
    });
  });

  it('retries a 500 and names the status', async () => {
    const srv = await serve(answer(500, 'database on fire'));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('retry');
    expect(result.status !== 'sent' && result.error).toMatch(/HTTP 500.*database on fire/);
  });

  it('retries a 429', async () => {
    const srv = await serve(answer(429, '', { 'retry-after': '30' }));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('retry');
    expect(result.status !== 'sent' && result.error).toContain('HTTP 429');
  });

  it.each([408, 409, 425, 502, 503])('retries a %i', async (code) => {
    const srv = await serve(answer(code));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('retry');
  });

  it('marks a 404 dead', async () => {
    const srv = await serve(answer(404, 'no such hook'));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('dead');
    expect(result.status !== 'sent' && result.error).toMatch(/HTTP 404.*no such hook/);
  });

  it.each([400, 401, 403, 410, 422])('marks a %i dead', async (code) => {
    const srv = await serve(answer(code));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('dead');
  });

  it('does not follow a 302: dead, and the redirect target is never asked', async () => {
    const srv = await serve((req, res) => {
      if (req.url === '/elsewhere') {
        res.writeHead(200);
        res.end();
        return;
      }
      res.writeHead(302, { location: '/elsewhere' });
      res.end();
    });
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('dead');
    expect(result.status !== 'sent' && result.error).toMatch(/HTTP 302 redirect to \/elsewhere not followed/);
    expect(srv.received.map((r) => r.path)).toEqual(['/hooks/stageflow']);
  });

  it('retries when the server never answers within timeoutMs', async () => {
    const srv = await serve(() => {
      // Read the request, never answer.
    });
    const started = Date.now();
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true, timeoutMs: 200 })(
      item(srv.url),
      ctx(),
    );
    const took = Date.now() - started;
    expect(result.status).toBe('retry');
    expect(result.status !== 'sent' && result.error).toMatch(/timed out/);
    expect(took).toBeGreaterThanOrEqual(150);
    expect(took).toBeLessThan(5_000);
  });

  it('retries a refused connection (closed port)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(
      item(`http://127.0.0.1:${port}/hook`),
      ctx(),
    );
    expect(result.status).toBe('retry');
    expect(result.status !== 'sent' && result.error).toMatch(/network error: .*ECONNREFUSED/);
  });

  it('marks a port fetch always refuses dead rather than retrying it forever', async () => {
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(
      item('http://127.0.0.1:6000/hook'),
      ctx(),
    );
    expect(result.status).toBe('dead');
    expect(result.status !== 'sent' && result.error).toMatch(/refuses port 6000/);
    // The guarded transport (public receivers) refuses them too.
    const guarded = await webhookDeliverer({ secret: SECRET })(item('http://hooks.example:25/hook'), ctx());
    expect(guarded.status !== 'sent' && guarded.error).toMatch(/refuses port 25, reserved for another protocol/);
  });

  it.each([
    ['ftp://files.example/hook', /scheme ftp: is not allowed/],
    ['not a url', /does not parse/],
    ['', /no url/],
    ['https://user:pw@hooks.example/x', /credentials/],
  ])('marks %j dead without a request', async (url, message) => {
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(url), ctx());
    expect(result.status).toBe('dead');
    expect(result.status !== 'sent' && result.error).toMatch(message);
  });

  it('marks every row dead without a request when the secret is empty', async () => {
    const srv = await serve(answer(204));
    for (const secret of ['', '   ']) {
      const result = await webhookDeliverer({ secret, allowPrivateAddresses: true })(item(srv.url), ctx());
      expect(result).toEqual({
        status: 'dead',
        error: 'WEBHOOK_SECRET is not set: set it and replay the dead rows',
      });
    }
    expect(srv.received).toHaveLength(0);
  });

  it('never puts the secret in an error, even when the server echoes it', async () => {
    const srv = await serve(answer(400, `bad signature for secret ${SECRET}`));
    const result = await webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true })(item(srv.url), ctx());
    expect(result.status).toBe('dead');
    expect(result.status !== 'sent' && result.error).not.toContain(SECRET);
    expect(result.status !== 'sent' && result.error).toContain('[redacted]');
  });

  it('refuses receivers on loopback or private addresses unless allowed, without a request', async () => {
    const srv = await serve(answer(204));
    const guarded = webhookDeliverer({ secret: SECRET });
    for (const url of [srv.url, srv.url.replace('127.0.0.1', 'localhost'), 'http://169.254.169.254/latest/meta-data']) {
      const result = await guarded(item(url), ctx());
      expect(result.status, url).toBe('dead');
      expect(result.status !== 'sent' && result.error).toMatch(
        /is not a public address; webhooks go to public addresses only: set WEBHOOK_ALLOW_PRIVATE=true .* and replay$/,
      );
    }
    expect(srv.received).toHaveLength(0);
  });

  it('delivers through the guarded transport to an address its policy allows, with the same outcomes', async () => {
    const srv = await serve(answer(204));
    const loopbackOk = webhookDeliverer({ secret: SECRET, addressAllowed: (a) => a === '127.0.0.1' });
    expect(await loopbackOk(item(srv.url), ctx())).toEqual({ status: 'sent', detail: 'HTTP 204' });
    expect(srv.received).toHaveLength(1);
    expect(srv.received[0]?.headers['idempotency-key']).toBe(item(srv.url).id);
    const failing = await serve(answer(503, 'down for maintenance'));
    const r = await loopbackOk(item(failing.url), ctx());
    expect(r).toEqual({ status: 'retry', error: expect.stringMatching(/HTTP 503 .*: down for maintenance$/) });
  });

  it('refuses a timeout that is not positive', () => {
    expect(() => webhookDeliverer({ secret: SECRET, allowPrivateAddresses: true, timeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('verifyWebhookSignature', () => {
  /** A header and body signed the way the deliverer signs: by a real delivery to a real server. */
  async function signed(secret: string): Promise<{ header: string; body: Buffer }> {
    const srv = await serve(answer(204));
    await webhookDeliverer({ secret, allowPrivateAddresses: true })(item(srv.url), ctx());
    const got = srv.received[0]!;
    return { header: got.headers['stageflow-signature'] as string, body: got.body };
  }

  it('accepts any one matching v1 (secret rotation) and rejects malformed headers', async () => {
    const a = await signed(SECRET);
    const v1 = a.header.split(',v1=')[1]!;
    const other = 'f'.repeat(64);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S},v1=${other},v1=${v1}`, a.body, NOW_S)).toBe(true);
    expect(verifyWebhookSignature(SECRET, ` t=${NOW_S} , v1=${v1} `, a.body, NOW_S)).toBe(true);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S},v1=${other}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `v1=${v1}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S},t=${NOW_S},v1=${v1}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S + 1},v1=${v1}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, `t=${NOW_S},v1=${v1.slice(2)}`, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, '', a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, undefined, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature('', a.header, a.body, NOW_S)).toBe(false);
    expect(verifyWebhookSignature(SECRET, a.header, '{"id":"x"}', NOW_S)).toBe(false);
  });
});
