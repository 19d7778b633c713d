import { describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI: a lead that arrives on a Saturday does not go to a rep whose leave starts
 * on Monday, their next working day, while nobody else in the team can take it: it falls through
 * to the default owner, who is at work, and the run log says why the rep was passed over.
 */

const PROCESS = `name: Route edge
organisation: { timezone: Europe/Berlin }
users:
  - { id: boss, name: Boss, email: boss@x.example }
  - id: x
    name: X
    email: x@x.example
    working_hours: { days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }
    out_of_office: [{ from: 2026-11-30, to: 2026-12-04 }]
  - id: y
    name: Y
    email: y@x.example
    working_hours: { days: [1, 2, 3, 4, 5], start: '12:00', end: '20:00' }
    capacity: { per_day: 1 }
teams:
  - { id: t, name: T, manager: boss, members: [x, y] }
assignment:
  default_owner: boss
  rules:
    - { id: all, when: { field: territory, set: true }, to: { team: t, strategy: round_robin } }
pipelines:
  - id: p
    name: P
    stages:
      - id: s1
        name: S1
        tasks:
          - { id: t1, title: T1, kind: call, due: { business_days: 0, at: '09:00' }, assignee: owner }
`;

interface Created {
  lead: { owner: string };
  log: { kind: string; message: string; inputs?: { passedOver?: { user: string; why: string }[] } }[];
}

describe('stageflow lead create off hours before a rep’s leave (SQLite)', () => {
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  it('passes over the rep on leave from their next working day; the default owner takes the lead', async () => {
    const cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS)], '2026-11-20T08:00:00Z'));
    const create = async (id: string, at: string): Promise<Created> =>
      JSON.parse(
        ok(await cli(['--json', 'lead', 'create', '--id', id, '--field', 'territory=EMEA'], at)).stdout,
      ) as Created;
    // Saturday 28 November: y takes Monday's one lead.
    expect((await create('A1', '2026-11-28T12:00:00Z')).lead.owner).toBe('y');
    const a2 = await create('A2', '2026-11-28T12:05:00Z');
    expect(a2.lead.owner).toBe('boss');
    const routed = a2.log.find((e) => e.kind === 'assignment');
    expect(routed?.message).toContain('default owner boss');
    expect(routed?.inputs?.passedOver).toEqual([
      { user: 'x', why: 'out of office 2026-11-30 to 2026-12-04, before they next work' },
      { user: 'y', why: 'daily cap 1 reached for 2026-11-30' },
    ]);
  }, 180_000); // three CLI runs, each a child process
});
