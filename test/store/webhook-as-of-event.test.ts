import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { webhookDeliverer } from '../../src/integrations/webhook.js';
import { deliverOnce } from '../../src/server/deliver-outbox.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/** A webhook delivered after the lead moved on announces the event as it happened, on both databases. */

const PROCESS = `name: Hooks
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }, { id: ben, name: Ben }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: new
        name: New
        on_enter: [{ webhook: { url: 'https://hooks.example/new' } }]
      - id: later
        name: Later
`;
const T0 = Date.parse('2026-11-29T12:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('webhooks as of their event on %s', (dialect) => {
  it('a webhook delivered after the lead moved on and changed hands names the stage entered and the owner then', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    for (const [i, event] of [
      { type: 'lead.created', lead: 'H1', fields: { name: 'Hook' } },
      { type: 'lead.moved', lead: 'H1', stage: 'later', override: false },
      { type: 'lead.reassigned', lead: 'H1', owner: 'ben' },
    ].entries()) {
      const out = await engine.handle(event as Parameters<Engine['handle']>[0], T0 + i * 60_000);
      expect(out.ok, JSON.stringify(out)).toBe(true);
    }
    const bodies: unknown[] = [];
    const fetchImpl: typeof fetch = (_url, init) => {
      bodies.push(JSON.parse(String(init?.body)));
      return Promise.resolve(new Response(null, { status: 204 }));
    };
    const deliverers = new Map([['webhook', webhookDeliverer({ secret: 'whsec', fetchImpl })]]);
    await deliverOnce(store, { deliverers, now: () => T0 + 3_600_000, concurrency: 1 });
    expect(bodies).toEqual([
      expect.objectContaining({
        id: 'H1:1:0:webhook',
        event: 'stage.entered',
        cause: 'lead.created',
        lead: { id: 'H1', pipeline: 'sales', stage: 'new', status: 'open', owner: 'anna' },
        current: { id: 'H1', pipeline: 'sales', stage: 'later', status: 'open', owner: 'ben' },
      }),
    ]);
  });
});
