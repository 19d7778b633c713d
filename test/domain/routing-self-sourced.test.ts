import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import type { RoutingState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/**
 * A lead a rep finds and enters herself (`sourcedBy`): under `assignment.self_sourced: creator` it
 * is hers, whatever the rules or her caps say, and no cap is charged for it; under `rules` (the
 * default) the rules route it and the run log says it was self-sourced.
 */

const source = (setting: string) => `name: Self-sourced
organisation: { timezone: UTC }
users:
  - { id: boss, name: Boss }
  - { id: paula, name: Paula, capacity: { per_day: 1 } }
  - { id: ben, name: Ben }
  - { id: gone, name: Gone, active: false }
teams:
  - { id: emea, name: EMEA, members: [ben] }
assignment:
  default_owner: boss
  rules:
    - { id: all-to-emea, to: { team: emea } }
${setting}
pipelines:
  - id: p
    name: P
    default: true
    stages:
      - { id: s1, name: S1 }
`;

function processWith(setting: string) {
  const parsed = parseProcess(source(setting));
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.process;
}

const now = Date.parse('2026-03-16T09:00:00Z');

function create(setting: string, sourcedBy: string | undefined, routing?: RoutingState) {
  const d = decide({
    process: processWith(setting),
    processVersion: 1,
    lead: null,
    event: { type: 'lead.created', lead: 'L1', fields: {}, ...(sourcedBy ? { sourcedBy } : {}) },
    now,
    routing: routing ?? { users: {}, cursors: {} },
  });
  if (!d.ok) throw new Error(d.error.message);
  return d;
}

describe('self-sourced leads', () => {
  it('under creator the rep keeps her lead, past a full cap, and no cap is charged for it', () => {
    // Paula's daily cap of 1 is used up: the rules could not give her a lead today.
    const routing: RoutingState = { users: { paula: { open: 3, routedToday: 1, routedThisWeek: 1 } }, cursors: {} };
    const d = create('  self_sourced: creator', 'paula', routing);
    expect(d.lead.owner).toBe('paula');
    expect(d.routing.users['paula']?.routedToday).toBe(1);
    expect(d.routing.users['ben']?.routedToday ?? 0).toBe(0);
    expect(d.log.filter((l) => l.kind === 'assignment')).toEqual([
      {
        kind: 'assignment',
        rule: 'self_sourced',
        message:
          'created: self-sourced by paula, who keeps it (assignment.self_sourced: creator); no cap holds it back or counts it',
        inputs: { sourcedBy: 'paula' },
      },
    ]);
    expect(d.changes).toContainEqual({
      kind: 'owner.changed',
      from: null,
      to: 'paula',
      reason: 'self_sourced',
      rule: null,
    });
  });

  it('under rules (the default) the rules route it, and the run log says it was self-sourced', () => {
    const d = create('', 'paula');
    expect(d.lead.owner).toBe('ben');
    expect(d.log.filter((l) => l.kind === 'assignment').map((l) => l.message)).toEqual([
      'created: self-sourced by paula; routed by the rules (assignment.self_sourced: rules)',
      'created: rule all-to-emea routed to ben via team:emea/round_robin',
    ]);
  });

  it('someone who is not an active user of the process does not keep it: the rules route it, saying why', () => {
    expect(create('  self_sourced: creator', 'gone').lead.owner).toBe('ben');
    const stranger = create('  self_sourced: creator', 'stranger');
    expect(stranger.lead.owner).toBe('ben');
    expect(stranger.log.map((l) => l.message)).toContain(
      'created: self-sourced by stranger; stranger is not a user of the process: routed by the rules',
    );
  });

  it('a lead nobody sourced is routed as before, whatever the setting', () => {
    expect(create('  self_sourced: creator', undefined).lead.owner).toBe('ben');
  });
});
