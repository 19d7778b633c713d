import { afterEach, describe, expect, it } from 'vitest';
import { unsubscribeTokens } from '../../src/auth/unsubscribe-token.js';
import { loadConfig } from '../../src/config.js';
import { Engine } from '../../src/engine/engine.js';
import { buildDeliverers } from '../../src/integrations/index.js';
import { workOnce } from '../../src/server/worker.js';
import { call, startServer, type TestServer } from '../support/http.js';
import { startSmtp } from '../support/smtp.js';
import { dialects } from '../support/stores.js';

/**
 * Unsubscribes reach the leads, end to end on both databases: marketing mail sent by the worker to
 * a real SMTP server carries a one-click link (RFC 8058); a POST to it through the real HTTP server
 * opts out every lead of the address, a GET does not, a tampered link is refused; and Mailchimp's
 * webhook, posted exactly as Mailchimp documents it, opts out or marks bounced.
 */

const UNSUBSCRIBE_SECRET = 'unsubscribe-secret-for-the-tests-0123456789';
/** The key before a rotation: links in mail sent under it must keep working. */
const PREVIOUS_SECRET = 'the-unsubscribe-secret-before-rotation-987';
const HOOK_SECRET = 'mailchimp-hook-secret-0123';
const AUDIENCE = 'a6b5da1054';

const PROCESS = `
name: Unsubscribe test
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna Owner, email: anna@seller.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - id: new
        name: New
        on_enter:
          - email: { template: newsletter, to: contact }
      - id: nurture
        name: Nurture
        on_enter:
          - subscribe: { list: nurture }
          - email: { template: newsletter, to: contact }
assignment:
  default_owner: anna
templates:
  newsletter:
    subject: 'News for {{first_name}}'
    marketing: true
    body: 'Hi {{first_name}}, here is what is new.'
`;

interface Mail {
  rcpt: string[];
  headers: Map<string, string>;
  body: string;
}

/** A real SMTP server whose messages are read back as headers and body. */
async function smtpServer(): Promise<{ port: number; readonly mails: Mail[]; close(): Promise<void> }> {
  const smtp = await startSmtp();
  return {
    port: smtp.port,
    get mails() {
      return smtp.received.map((m) => ({ rcpt: m.rcpt, ...parseMail(m.raw) }));
    },
    close: smtp.close,
  };
}

/** Headers (lower-case names, unfolded) and the text body, quoted-printable decoded. */
function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding')?.toLowerCase() === 'quoted-printable')
    body = body
      .replace(/=\r\n/g, '')
      .replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe.each(dialects)('unsubscribes on %s', (dialect) => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  async function setUp() {
    const smtp = await smtpServer();
    closers.push(() => smtp.close());
    const server = await startServer(dialect, {
      process: PROCESS,
      people: false,
      publicRoutes: {
        unsubscribeSecret: UNSUBSCRIBE_SECRET,
        unsubscribePreviousSecrets: [PREVIOUS_SECRET],
        mailchimpWebhook: { secret: HOOK_SECRET, lists: new Map([['nurture', AUDIENCE]]) },
      },
    });
    closers.push(() => server.close());
    const engine = new Engine(server.store);
    const at = server.clock.now;
    // Two leads of one address (written in another case), and someone else's.
    for (const [lead, email] of [
      ['L1', 'Lisa@Buyer.example'],
      ['L2', 'lisa@buyer.example'],
      ['L3', 'anna@buyer.example'],
    ] as const) {
      const out = await engine.handle({ type: 'lead.created', lead, fields: { email, first_name: lead } }, at);
      expect(out.ok).toBe(true);
    }
    const d = buildDeliverers(
      loadConfig({
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        MAIL_FROM: 'Sales <sales@seller.example>',
        PUBLIC_URL: `${server.url}/`,
        UNSUBSCRIBE_SECRET,
      }),
    );
    closers.push(() => d.close());
    const work = () =>
      workOnce(server.store, engine, { deliverers: d.deliverers, now: () => at + 1000, sessionIdleMs: 60_000 });
    return { server, engine, smtp, work, at };
  }

  const fieldsOf = async (server: TestServer, lead: string) => {
    const row = await server.store.db
      .selectFrom('leads')
      .select(['fields', 'version'])
      .where('id', '=', lead)
      .executeTakeFirstOrThrow();
    return { fields: JSON.parse(row.fields) as Record<string, unknown>, version: Number(row.version) };
  };

  it('sends marketing mail with a one-click link whose POST opts out every lead of the address; GET and tampered links do not', async () => {
    const { server, engine, smtp, work, at } = await setUp();
    await work();
    // Each lead's address as stored (L1's in its own case); both of Lisa's mails carry the same link.
    expect(smtp.mails.map((m) => m.rcpt.join()).sort()).toEqual([
      'Lisa@buyer.example',
      'anna@buyer.example',
      'lisa@buyer.example',
    ]);
    const lisas = smtp.mails.filter((m) => m.rcpt[0]?.toLowerCase() === 'lisa@buyer.example');
    expect(new Set(lisas.map((m) => m.headers.get('list-unsubscribe'))).size).toBe(1);
    const lisa = lisas[0];
    const unsubscribe = lisa?.headers.get('list-unsubscribe') ?? '';
    const match =
      /^<(http:\/\/127\.0\.0\.1:\d+\/unsubscribe\/([A-Za-z0-9_-]+))>, <mailto:sales@seller\.example\?subject=unsubscribe>$/.exec(
        unsubscribe,
      );
    expect(match, unsubscribe).not.toBeNull();
    const [, link = '', token = ''] = match ?? [];
    expect(link.startsWith(server.url)).toBe(true);
    expect(unsubscribe.toLowerCase()).not.toContain('lisa');
    expect(lisa?.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(lisa?.body).toContain(`unsubscribe here: ${link}`);
    const path = new URL(link).pathname;

    // A GET (a mail scanner following the link) shows a button and changes nothing.
    const page = await call(server, 'GET', path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<form method="post">');
    expect(page.text).toContain('<input type="hidden" name="List-Unsubscribe" value="One-Click">');
    expect((await fieldsOf(server, 'L1')).fields['unsubscribed']).toBeUndefined();

    // Tampered, or not ours: the same 404 page, whichever way it is wrong.
    const tampered = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    const refusals = await Promise.all([
      call(server, 'GET', `/unsubscribe/${tampered}`),
      call(server, 'POST', `/unsubscribe/${tampered}`, { headers: FORM, body: 'List-Unsubscribe=One-Click' }),
      call(server, 'POST', '/unsubscribe/bm9ib2R5QGV4YW1wbGUuY29t', {
        headers: FORM,
        body: 'List-Unsubscribe=One-Click',
      }),
    ]);
    for (const r of refusals) {
      expect(r.status).toBe(404);
      expect(r.text).toContain('This unsubscribe link is not valid');
      expect(r.text).toBe(refusals[0]?.text);
    }
    expect((await fieldsOf(server, 'L1')).fields['unsubscribed']).toBeUndefined();
    // A link in older mail, made with the key before a rotation, is still read; another key's is not.
    const older = unsubscribeTokens(PREVIOUS_SECRET).make('lisa@buyer.example');
    expect(older).not.toBe(token);
    expect((await call(server, 'GET', `/unsubscribe/${older}`)).status).toBe(200);
    const stranger = unsubscribeTokens(`${PREVIOUS_SECRET}x`).make('lisa@buyer.example');
    expect((await call(server, 'GET', `/unsubscribe/${stranger}`)).status).toBe(404);

    // The one-click POST, as a mail provider sends it.
    const done = await call(server, 'POST', path, { headers: FORM, body: 'List-Unsubscribe=One-Click' });
    expect(done.status).toBe(200);
    expect(done.text).toContain('You are unsubscribed');
    expect((await fieldsOf(server, 'L1')).fields['unsubscribed']).toBe(true);
    expect((await fieldsOf(server, 'L2')).fields['unsubscribed']).toBe(true);
    expect((await fieldsOf(server, 'L3')).fields['unsubscribed']).toBeUndefined();
    const events = await server.store.db
      .selectFrom('events')
      .select(['lead_id', 'actor'])
      .where('type', '=', 'lead.updated')
      .orderBy('lead_id')
      .execute();
    expect(events.map((e) => [e.lead_id, JSON.parse(e.actor) as unknown])).toEqual([
      ['L1', { kind: 'system', id: 'unsubscribe link' }],
      ['L2', { kind: 'system', id: 'unsubscribe link' }],
    ]);

    // Again (the confirm button after the one-click, a provider's retry): 200, nothing changes.
    const before = (await fieldsOf(server, 'L1')).version;
    const again = await call(server, 'POST', path, {
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: '--x--',
    });
    expect(again.status).toBe(200);
    expect((await fieldsOf(server, 'L1')).version).toBe(before);
    const audit = await server.store.db
      .selectFrom('audit_log')
      .select(['actor', 'target', 'details'])
      .where('action', '=', 'contact.unsubscribed')
      .orderBy('at')
      .execute();
    expect(audit.map((a) => JSON.parse(a.details) as unknown)).toEqual([
      { changed: ['L1', 'L2'], unchanged: [], failed: [] },
      { changed: [], unchanged: ['L1', 'L2'], failed: [] },
    ]);
    expect(audit.every((a) => a.actor === 'unsubscribe link' && !String(a.target).includes('lisa'))).toBe(true);

    // The process goes on: the next stage's list subscribe and marketing mail are skipped.
    const sentBefore = smtp.mails.length;
    const moved = await engine.handle({ type: 'lead.moved', lead: 'L1', stage: 'nurture', override: false }, at + 2000);
    expect(moved.ok).toBe(true);
    if (!moved.ok) return;
    expect(moved.effects.map((e) => e.kind)).not.toContain('list.subscribe');
    expect(moved.effects.map((e) => e.kind)).not.toContain('email');
    expect(moved.log.map((l) => l.message).join('\n')).toMatch(/subscribe to nurture skipped: contact unsubscribed/);
    await work();
    expect(smtp.mails).toHaveLength(sentBefore);
  });

  it("takes Mailchimp's webhook as Mailchimp sends it: GET check, unsubscribe, cleaned, other types and audiences ignored", async () => {
    const { server } = await setUp();
    const hook = `/integrations/mailchimp/webhook/${HOOK_SECRET}`;
    expect((await call(server, 'GET', hook)).status).toBe(200);
    for (const wrong of [`${HOOK_SECRET}x`, 'x', HOOK_SECRET.slice(0, -1)]) {
      expect((await call(server, 'GET', `/integrations/mailchimp/webhook/${wrong}`)).status).toBe(404);
      const r = await call(server, 'POST', `/integrations/mailchimp/webhook/${wrong}`, {
        headers: FORM,
        body: `type=unsubscribe&data[email]=lisa@buyer.example&data[list_id]=${AUDIENCE}`,
      });
      expect(r.status).toBe(404);
    }
    expect((await fieldsOf(server, 'L1')).fields['unsubscribed']).toBeUndefined();

    // Mailchimp's documented unsubscribe body, form-encoded as it posts it.
    const unsubscribe = new URLSearchParams({
      type: 'unsubscribe',
      fired_at: '2009-03-26 21:40:57',
      'data[action]': 'unsub',
      'data[reason]': 'manual',
      'data[id]': '8a25ff1d98',
      'data[list_id]': AUDIENCE,
      'data[email]': 'LISA@buyer.example',
      'data[email_type]': 'html',
      'data[merges][EMAIL]': 'LISA@buyer.example',
      'data[merges][FNAME]': 'Lisa',
      'data[merges][LNAME]': 'Lind',
      'data[ip_opt]': '10.20.10.30',
      'data[campaign_id]': 'cb398d21d2',
    }).toString();
    const unsub = await call(server, 'POST', hook, { headers: FORM, body: unsubscribe });
    expect(unsub.status).toBe(200);
    expect(unsub.body).toEqual({ result: '2 lead(s) opted out, 0 already so' });
    expect((await fieldsOf(server, 'L1')).fields['unsubscribed']).toBe(true);
    expect((await fieldsOf(server, 'L2')).fields['unsubscribed']).toBe(true);
    expect((await fieldsOf(server, 'L3')).fields['unsubscribed']).toBeUndefined();
    const audit = await server.store.db
      .selectFrom('audit_log')
      .select(['actor', 'details'])
      .where('action', '=', 'contact.unsubscribed')
      .executeTakeFirstOrThrow();
    expect(audit.actor).toBe('mailchimp');
    expect(JSON.parse(audit.details)).toMatchObject({
      event: 'unsubscribe',
      list_id: AUDIENCE,
      reason: 'manual',
      changed: ['L1', 'L2'],
    });

    // cleaned: the address bounces for good.
    const cleaned = new URLSearchParams({
      type: 'cleaned',
      fired_at: '2009-03-26 22:01:00',
      'data[list_id]': AUDIENCE,
      'data[campaign_id]': '4fjk2ma9xd',
      'data[reason]': 'hard',
      'data[email]': 'anna@buyer.example',
    }).toString();
    const c = await call(server, 'POST', hook, { headers: FORM, body: cleaned });
    expect(c.status).toBe(200);
    expect((await fieldsOf(server, 'L3')).fields).toMatchObject({ email_bounced: 'anna@buyer.example' });
    expect((await fieldsOf(server, 'L3')).fields['unsubscribed']).toBeUndefined();
    // And the rep is told, as for a hard bounce of our own mail.
    const notes = await server.store.db.selectFrom('activities').select(['lead_id', 'kind', 'note']).execute();
    expect(notes).toEqual([
      {
        lead_id: 'L3',
        kind: 'email_bounced',
        note:
          "Mailchimp cleaned the contact's address from the nurture list (reason: hard): it does not take mail. " +
          'No automated mail goes to it until the address is corrected or email_bounced is cleared.',
      },
    ]);

    // Other types, and audiences this installation does not map: 200, nothing changes.
    const versions = await Promise.all(['L1', 'L2', 'L3'].map(async (l) => (await fieldsOf(server, l)).version));
    for (const body of [
      'type=profile&fired_at=2009-03-26+21%3A31%3A21&data[id]=8a25ff1d98&data[list_id]=a6b5da1054&data[email]=anna%40buyer.example',
      'type=subscribe&fired_at=2009-03-26+21%3A35%3A57&data[id]=8a25ff1d98&data[list_id]=a6b5da1054&data[email]=lisa%40buyer.example',
      'type=upemail&fired_at=2009-03-26+22%3A15%3A09&data[list_id]=a6b5da1054&data[new_id]=51da8c3259&data[new_email]=x%40buyer.example&data[old_email]=anna%40buyer.example',
      'type=unsubscribe&data[list_id]=ffffffffff&data[email]=anna%40buyer.example',
    ]) {
      const r = await call(server, 'POST', hook, { headers: FORM, body });
      expect(r.status, body).toBe(200);
      expect((r.body as { result: string }).result).toMatch(/^ignored: /);
    }
    expect(await Promise.all(['L1', 'L2', 'L3'].map(async (l) => (await fieldsOf(server, l)).version))).toEqual(
      versions,
    );

    // A body that is not Mailchimp's: 400, saying what is wrong.
    const bad = await call(server, 'POST', hook, { headers: FORM, body: `type=unsubscribe&data[list_id]=${AUDIENCE}` });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: [{ field: 'body.data[email]' }] });
  });
});
