import { describe, expect, it } from 'vitest';
import { decide, type Effect } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/** Mailing lists follow the contact: their opt-out and the address actually subscribed. */

const parsed = parseProcess(`name: Lists
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
        on_enter: [{ subscribe: { list: nurture, tags: [trial] } }]
      - id: later
        name: Later
        on_enter: [{ unsubscribe: { list: nurture } }]
      - id: optout
        name: Opt-out
        on_enter: [{ set: { field: unsubscribed, value: 'yes' } }]
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const T0 = Date.parse('2026-03-02T09:00:00Z');

interface Step {
  lead: LeadState;
  effects: Effect[];
  log: string[];
}

function handle(lead: LeadState | null, event: LeadEvent): Step {
  const d = decide({ process, processVersion: 1, lead, event, now: T0, routing: { users: {}, cursors: {} } });
  if (!d.ok) throw new Error(d.error.message);
  return { lead: d.lead, effects: d.effects, log: d.log.map((l) => l.message) };
}

const lists = (s: Step) =>
  s.effects.filter((e) => e.kind.startsWith('list.')).map((e) => [e.kind, e.payload['list'], e.payload['email']]);

const created = (fields: Record<string, string | boolean> = {}): Step =>
  handle(null, { type: 'lead.created', lead: 'K1', fields: { name: 'Kay', email: 'kay@old.example', ...fields } });

describe('mailing lists and the marketing opt-out', () => {
  it('a contact who opted out is not subscribed, and the run log says why', () => {
    const s = created({ unsubscribed: 'TRUE' });
    expect(lists(s)).toEqual([]);
    expect(s.lead.lists).toEqual([]);
    expect(s.log).toContain('subscribe to nurture skipped: contact unsubscribed from marketing mail');
  });

  it('a subscribed contact who opts out is unsubscribed from the list at once', () => {
    const s = created();
    expect(lists(s)).toEqual([['list.subscribe', 'nurture', 'kay@old.example']]);
    const out = handle(s.lead, { type: 'lead.updated', lead: 'K1', fields: { unsubscribed: true } });
    expect(lists(out)).toEqual([['list.unsubscribe', 'nurture', 'kay@old.example']]);
    expect(out.lead.lists).toEqual([]);
    expect(out.log).toContain('unsubscribe kay@old.example from nurture: the contact unsubscribed from marketing mail');
    // Already opted out: nothing more to do; opting in again subscribes nobody.
    expect(lists(handle(out.lead, { type: 'lead.updated', lead: 'K1', fields: { unsubscribed: 'yes' } }))).toEqual([]);
    expect(lists(handle(out.lead, { type: 'lead.updated', lead: 'K1', fields: { unsubscribed: false } }))).toEqual([]);
  });

  it('an automation that sets the opt-out takes the contact off the list too', () => {
    const s = created();
    const out = handle(s.lead, { type: 'lead.moved', lead: 'K1', stage: 'optout', override: false });
    expect(out.lead.fields['unsubscribed']).toBe(true);
    expect(lists(out)).toEqual([['list.unsubscribe', 'nurture', 'kay@old.example']]);
  });
});

describe('mailing lists and a changed address', () => {
  const listOps = (s: Step) =>
    s.effects
      .filter((e) => e.kind.startsWith('list.'))
      .map((e) => [e.kind, e.payload['email'], ...(e.kind === 'list.subscribe' ? [e.payload['tags']] : [])]);

  it("moves the membership to the new address, so the stage's unsubscribe reaches the address on the list", () => {
    const s = created();
    const moved = handle(s.lead, { type: 'lead.updated', lead: 'K1', fields: { email: 'kay@new.example' } });
    expect(listOps(moved)).toEqual([
      ['list.unsubscribe', 'kay@old.example'],
      ['list.subscribe', 'kay@new.example', ['trial']],
    ]);
    expect(moved.lead.lists).toEqual(['nurture']);
    expect(moved.log).toContain('unsubscribe kay@old.example from nurture: the address changed to kay@new.example');
    const later = handle(moved.lead, { type: 'lead.moved', lead: 'K1', stage: 'later', override: false });
    expect(listOps(later)).toEqual([['list.unsubscribe', 'kay@new.example']]);
  });

  it('a change of letter case is the same member: nothing moves', () => {
    const s = created();
    expect(listOps(handle(s.lead, { type: 'lead.updated', lead: 'K1', fields: { email: 'Kay@OLD.example' } }))).toEqual(
      [],
    );
  });

  it('an address cleared, or changed as the contact opts out, unsubscribes the address that was on the list', () => {
    const s = created();
    const cleared = handle(s.lead, { type: 'lead.updated', lead: 'K1', fields: { email: null } });
    expect(listOps(cleared)).toEqual([['list.unsubscribe', 'kay@old.example']]);
    expect(cleared.lead.lists).toEqual([]);
    const both = handle(s.lead, {
      type: 'lead.updated',
      lead: 'K1',
      fields: { email: 'kay@new.example', unsubscribed: true },
    });
    expect(listOps(both)).toEqual([['list.unsubscribe', 'kay@old.example']]);
    expect(both.lead.lists).toEqual([]);
  });
});
