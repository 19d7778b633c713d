import { describe, expect, it } from 'vitest';
import { optedOut, optOutValue } from '../../src/domain/consent.js';
import { decide } from '../../src/domain/decide.js';
import { leadEventSchema, type LeadEvent } from '../../src/domain/events.js';
import type { LeadState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';
import { composeMail } from '../../src/integrations/mail/compose.js';

/** The marketing opt-out `unsubscribed`, in the spellings people and exports write it. */

const parsed = parseProcess(`name: Consent
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: new
        name: New
        on_enter:
          - email: { template: welcome }
          - email: { template: newsletter }
templates:
  welcome: { subject: Welcome, body: Hello }
  newsletter: { subject: News, body: News, marketing: true }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const T0 = Date.parse('2026-03-02T09:00:00Z');

function handle(lead: LeadState | null, event: LeadEvent, at = T0): LeadState & { mails: string[] } {
  const d = decide({ process, processVersion: 1, lead, event, now: at, routing: { users: {}, cursors: {} } });
  if (!d.ok) throw new Error(d.error.message);
  return { ...d.lead, mails: d.effects.filter((e) => e.kind === 'email').map((e) => String(e.payload['template'])) };
}

describe('the marketing opt-out', () => {
  it('reads every usual spelling of yes and no, and nothing else', () => {
    for (const yes of [true, 'true', 'TRUE', 'Yes', ' y ', '1', 1, 'on']) expect(optOutValue(yes)).toBe(true);
    for (const no of [false, 'false', 'FALSE', 'No', 'n', '0', 0, 'off']) expect(optOutValue(no)).toBe(false);
    for (const cleared of [null, undefined, '', '  ']) expect(optOutValue(cleared)).toBeNull();
    for (const other of ['maybe', '2', 'unsubscribed?']) expect(optOutValue(other)).toBeUndefined();
  });

  it('counts a value that spells neither as opted out: consent is never guessed', () => {
    expect(optedOut({ unsubscribed: 'maybe' })).toBe(true);
    expect(optedOut({ unsubscribed: 'no' })).toBe(false);
    expect(optedOut({})).toBe(false);
  });

  it('refuses a value that spells neither, naming the field', () => {
    const bad = leadEventSchema.safeParse({ type: 'lead.created', lead: 'L', fields: { unsubscribed: 'maybe' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['fields.unsubscribed', 'must be true or false (yes/no, 1/0 and on/off are read as such)'],
    ]);
    expect(
      leadEventSchema.safeParse({ type: 'lead.created', lead: 'L', fields: { unsubscribed: 'TRUE' } }).success,
    ).toBe(true);
  });

  it('refuses a set automation that would write a value spelling neither, at its line', () => {
    const bad = parseProcess(`name: Bad
organisation: { timezone: UTC }
users: [{ id: anna, name: Anna }]
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: new
        name: New
        on_enter: [{ set: { field: unsubscribed, value: maybe } }]
`);
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).toContain(
      'unsubscribed must be true or false (yes/no, 1/0 and on/off are read as such), not \\"maybe\\"',
    );
  });

  it.each(['TRUE', 'yes', '1', 'true', true] as const)(
    'a lead created with unsubscribed=%s is stored as true and gets no marketing mail',
    (value) => {
      const lead = handle(null, {
        type: 'lead.created',
        lead: 'L',
        fields: { name: 'L', email: 'l@l.example', unsubscribed: value },
      });
      expect(lead.fields['unsubscribed']).toBe(true);
      expect(lead.mails).toEqual(['welcome']);
    },
  );

  it('an update with "No" is stored as false', () => {
    const lead = handle(null, { type: 'lead.created', lead: 'L', fields: { name: 'L', email: 'l@l.example' } });
    expect(
      handle(lead, { type: 'lead.updated', lead: 'L', fields: { unsubscribed: 'No' } }).fields['unsubscribed'],
    ).toBe(false);
  });

  it('the worker does not send marketing mail to a lead whose opt-out was stored as text', () => {
    const item = {
      id: 'L:1:1:email',
      lead: 'L',
      kind: 'email',
      payload: { lead: 'L', template: 'newsletter', to: 'l@l.example', recipient: 'contact', marketing: true },
      attempts: 0,
      createdAt: T0,
    };
    const snapshot = (unsubscribed: string) => ({
      process,
      now: T0,
      lead: {
        id: 'L',
        fields: { name: 'L', email: 'l@l.example', unsubscribed },
        owner: 'anna',
        pipeline: 'nb',
        stage: 'new',
        status: 'open',
        lists: [],
      },
    });
    const from = { from: 'CRM <crm@example.com>' };
    expect(composeMail(item, snapshot('TRUE'), from)).toMatchObject({ status: 'dead' });
    expect(composeMail(item, snapshot('no'), from)).toMatchObject({ status: 'ready' });
  });
});
