import { describe, expect, it } from 'vitest';
import { unsubscribeTokens } from '../../src/auth/unsubscribe-token.js';
import { loadConfig } from '../../src/config.js';
import { parseProcess } from '../../src/domain/process-load.js';
import type { DeliveryContext, OutboxItem } from '../../src/integrations/delivery.js';
import { deliveryWarnings } from '../../src/integrations/index.js';
import { composeMail, type Composed, type MailMessage } from '../../src/integrations/mail/compose.js';
import { mailLinks } from '../../src/integrations/mail/links.js';

/**
 * The pure half of one-click unsubscribe: tokens that carry an address without naming it and
 * cannot be forged, and the headers and footer marketing mail gets from them.
 */

const SECRET = 'a-test-secret-of-at-least-32-characters!';

describe('unsubscribe tokens', () => {
  const tokens = unsubscribeTokens(SECRET);

  it('carry the address, normalised, without it in clear; the same address gives the same token', () => {
    const t = tokens.make(' Lisa@Buyer.Example ');
    expect(tokens.read(t)).toBe('lisa@buyer.example');
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(t.toLowerCase()).not.toContain('lisa');
    expect(Buffer.from(t, 'base64url').toString('latin1')).not.toContain('buyer');
    expect(tokens.make('lisa@buyer.example')).toBe(t);
    expect(tokens.make('anna@buyer.example')).not.toBe(t);
  });

  it('refuse a token changed anywhere, cut short, made with another key, or not a token at all', () => {
    const t = tokens.make('lisa@buyer.example');
    for (let i = 0; i < t.length; i++) {
      const flipped = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
      // The last character may carry only padding bits: a flip there can decode to the same bytes.
      if (Buffer.from(flipped, 'base64url').equals(Buffer.from(t, 'base64url'))) continue;
      expect(tokens.read(flipped), `flipped at ${i}`).toBeNull();
    }
    expect(tokens.read(t.slice(0, -4))).toBeNull();
    expect(tokens.read(`${t}AAAA`)).toBeNull();
    expect(unsubscribeTokens(`${SECRET}x`).read(t)).toBeNull();
    for (const junk of ['', 'x', 'not a token', 'a/b', 'A'.repeat(2000)]) expect(tokens.read(junk)).toBeNull();
  });

  it('after a rotation, make tokens with the new key and still read those of the keys given as previous', () => {
    const old = tokens.make('lisa@buyer.example');
    const rotated = unsubscribeTokens(`new-${SECRET}`, [SECRET]);
    const fresh = rotated.make('lisa@buyer.example');
    expect(fresh).not.toBe(old);
    expect(rotated.read(old)).toBe('lisa@buyer.example');
    expect(rotated.read(fresh)).toBe('lisa@buyer.example');
    expect(tokens.read(fresh)).toBeNull();
    expect(unsubscribeTokens(`new-${SECRET}`).read(old)).toBeNull();
  });

  it('take former keys from UNSUBSCRIBE_PREVIOUS_SECRETS, refusing one too short to be a key', () => {
    expect(loadConfig({ UNSUBSCRIBE_PREVIOUS_SECRETS: `${SECRET}, ${SECRET}2` }).UNSUBSCRIBE_PREVIOUS_SECRETS).toEqual([
      SECRET,
      `${SECRET}2`,
    ]);
    expect(loadConfig({}).UNSUBSCRIBE_PREVIOUS_SECRETS).toEqual([]);
    expect(() => loadConfig({ UNSUBSCRIBE_PREVIOUS_SECRETS: `${SECRET},short` })).toThrow(
      /UNSUBSCRIBE_PREVIOUS_SECRETS: .*at least 32 characters/,
    );
  });
});

const PROCESS = `
name: Links test
organisation: { timezone: UTC }
users:
  - { id: olga, name: Olga Owner, email: olga@sales.example }
pipelines:
  - id: sales
    name: Sales
    default: true
    stages:
      - { id: new, name: New }
assignment:
  default_owner: olga
templates:
  welcome:
    subject: Hello
    body: 'Hi {{first_name}}.'
  newsletter:
    subject: News
    marketing: true
    body: 'Hi {{first_name}}, here is what is new.'
  placed:
    subject: News
    marketing: true
    body: "Hi {{first_name}}.\\nLeave the list: {{ unsubscribe_url }}\\nBye."
`;

function ctx(): DeliveryContext {
  const parsed = parseProcess(PROCESS);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return {
    process: parsed.process,
    lead: {
      id: 'L1',
      fields: { first_name: 'Lisa', email: 'lisa@buyer.example', unsubscribed: false },
      owner: 'olga',
      pipeline: 'sales',
      stage: 'new',
      status: 'open',
      lists: [],
    },
    now: Date.UTC(2026, 2, 2, 9),
  };
}

const mail = (template: string): OutboxItem => ({
  id: `L1:1:0:email:${template}`,
  lead: 'L1',
  kind: 'email',
  payload: { lead: 'L1', template, to: 'lisa@buyer.example', recipient: 'contact' },
  attempts: 0,
  createdAt: 0,
});

function ready(c: Composed): MailMessage {
  if (c.status !== 'ready') throw new Error(`expected a message, got dead: ${c.error}`);
  return c.message;
}

const FROM = { from: 'Sales <sales@seller.example>' };

describe('marketing mail with links', () => {
  const links = mailLinks('https://crm.example.com/', SECRET);
  if (!links) throw new Error('links expected');
  const url = links.unsubscribeUrl('lisa@buyer.example');

  it('makes links only with both a public URL and a secret', () => {
    expect(mailLinks('', SECRET)).toBeNull();
    expect(mailLinks('https://crm.example.com', '')).toBeNull();
    expect(url).toMatch(/^https:\/\/crm\.example\.com\/unsubscribe\/[A-Za-z0-9_-]+$/);
    expect(unsubscribeTokens(SECRET).read(url.split('/').pop() ?? '')).toBe('lisa@buyer.example');
  });

  it('carries the one-click link first, the mailto second, List-Unsubscribe-Post, and the link as a footer', () => {
    const m = ready(composeMail(mail('newsletter'), { ...ctx(), links }, FROM));
    expect(m.headers['List-Unsubscribe']).toBe(`<${url}>, <mailto:sales@seller.example?subject=unsubscribe>`);
    expect(m.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(m.text).toBe(
      `Hi Lisa, here is what is new.\n\n-- \nTo stop receiving these emails, unsubscribe here: ${url}\n`,
    );
  });

  it('puts the link where the template places it, and adds no footer then', () => {
    const m = ready(composeMail(mail('placed'), { ...ctx(), links }, FROM));
    expect(m.text).toBe(`Hi Lisa.\nLeave the list: ${url}\nBye.`);
  });

  it('keeps the mailto alone without links, and gives mail that is not marketing neither header nor footer', () => {
    const plain = ready(composeMail(mail('newsletter'), ctx(), FROM));
    expect(plain.headers['List-Unsubscribe']).toBe('<mailto:sales@seller.example?subject=unsubscribe>');
    expect(plain.headers['List-Unsubscribe-Post']).toBeUndefined();
    expect(plain.text).toBe('Hi Lisa, here is what is new.');
    const placed = ready(composeMail(mail('placed'), ctx(), FROM));
    expect(placed.text).toBe('Hi Lisa.\nLeave the list: \nBye.');
    const welcome = ready(composeMail(mail('welcome'), { ...ctx(), links }, FROM));
    expect(welcome.headers['List-Unsubscribe']).toBeUndefined();
    expect(welcome.headers['List-Unsubscribe-Post']).toBeUndefined();
    expect(welcome.text).toBe('Hi Lisa.');
  });
});

describe('the worker at start', () => {
  const full = { SMTP_URL: 'smtp://mail.example:25', WEBHOOK_SECRET: 'x', MAILCHIMP_API_KEY: 'k-us1' };

  it('says when only half of the one-click setup is there, and nothing when none or all of it is', () => {
    expect(deliveryWarnings(loadConfig({ ...full, PUBLIC_URL: 'https://crm.example.com' }))).toEqual([
      'UNSUBSCRIBE_SECRET is unset: marketing mail carries no one-click unsubscribe link, only the mailto one (set PUBLIC_URL and UNSUBSCRIBE_SECRET)',
    ]);
    expect(deliveryWarnings(loadConfig({ ...full, UNSUBSCRIBE_SECRET: SECRET }))).toEqual([
      'PUBLIC_URL is unset: marketing mail carries no one-click unsubscribe link, only the mailto one (set PUBLIC_URL and UNSUBSCRIBE_SECRET)',
    ]);
    expect(deliveryWarnings(loadConfig(full))).toEqual([]);
    expect(
      deliveryWarnings(loadConfig({ ...full, PUBLIC_URL: 'https://crm.example.com', UNSUBSCRIBE_SECRET: SECRET })),
    ).toEqual([]);
  });

  it('refuses a secret too short to sign with, and a public URL that is not one', () => {
    expect(() => loadConfig({ UNSUBSCRIBE_SECRET: 'short' })).toThrow(/UNSUBSCRIBE_SECRET: .*at least 32 characters/);
    expect(() => loadConfig({ PUBLIC_URL: 'crm.example.com' })).toThrow(/PUBLIC_URL: .*http\(s\) URL/);
    expect(() => loadConfig({ PUBLIC_URL: 'https://crm.example.com/?a=1' })).toThrow(/PUBLIC_URL: .*without a query/);
    expect(() => loadConfig({ MAILCHIMP_WEBHOOK_SECRET: 'abc' })).toThrow(/MAILCHIMP_WEBHOOK_SECRET: .*16 characters/);
  });
});
