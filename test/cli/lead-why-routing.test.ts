import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { session, tempFile, type CliResult } from './helpers.js';

/**
 * `lead why` accounts for a routing choice: the rule that matched even when its team was full and
 * the default owner took the lead (fixed by raising a cap, not by writing a rule, as when no rule
 * matched), the members passed over for being outside their working hours, and the open-lead
 * counts a least_open pick compared. Through the real CLI on a SQLite file.
 */

const PROCESS = `name: Why routing
organisation: { timezone: Europe/Berlin }
users:
  - { id: boss, name: Boss }
  - { id: syd, name: Syd, timezone: Australia/Sydney, capacity: { per_day: 2 } }
  - { id: ber, name: Ber, timezone: Europe/Berlin, weight: 2, working_hours: { days: [1, 2, 3, 4, 5], start: "09:00", end: "17:00" } }
  - { id: lon, name: Lon, timezone: Europe/London, working_hours: { days: [1, 2, 3, 4, 5], start: "09:00", end: "17:00" } }
  - { id: ny, name: Ny, timezone: America/New_York, working_hours: { days: [1, 2, 3, 4, 5], start: "09:00", end: "17:00" } }
  - { id: a, name: A }
  - { id: b, name: B }
teams:
  - { id: tsyd, name: Sydney, members: [syd] }
  - { id: w, name: World, members: [ber, lon, ny] }
  - { id: ab, name: AB, members: [a, b] }
assignment:
  default_owner: boss
  rules:
    - { id: r-syd, when: { field: territory, eq: APAC }, to: { team: tsyd, strategy: round_robin } }
    - { id: r-w, when: { field: territory, eq: W }, to: { team: w, strategy: weighted } }
    - { id: r-lo, when: { field: territory, eq: LO }, to: { team: ab, strategy: least_open } }
pipelines:
  - { id: p, name: P, default: true, stages: [{ id: s1, name: S1 }] }
`;

describe('lead why explains the routing (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const ok = (r: CliResult): string => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout;
  };
  const create = async (id: string, territory: string, now: string): Promise<void> => {
    ok(
      await cli(
        ['--admin', 'lead', 'create', '--id', id, '--field', `name=${id}`, '--field', `territory=${territory}`],
        now,
      ),
    );
  };
  const assignment = async (id: string): Promise<string> => {
    const out = ok(await cli(['lead', 'why', id]));
    return out.slice(out.indexOf('assignment')).replace(/\s+/g, ' ');
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS)], '2026-03-01T00:00:00Z'));
  });

  it('names the rule that matched when its team was full, apart from no rule matching', async () => {
    for (const i of [1, 2, 3]) await create(`S${i}`, 'APAC', `2026-03-09T11:0${i}:00Z`);
    await create('X1', 'Narnia', '2026-03-09T11:05:00Z');
    expect(await assignment('S3')).toContain(
      'r-syd created: rule r-syd matched (territory eq "APAC"): team:tsyd/round_robin had nobody eligible (syd: daily cap 2 reached); default owner boss',
    );
    expect(await assignment('X1')).toContain('default_owner created: no rule matched; default owner boss');
  });

  it('names the members passed over for being outside their working hours', async () => {
    // Monday 16 March, 17:30Z: 18:30 in Berlin, 17:30 in London, 13:30 in New York.
    await create('W1', 'W', '2026-03-16T17:30:00Z');
    const why = await assignment('W1');
    expect(why).toContain('rule r-w routed to ny via team:w/weighted');
    expect(why).toContain('outside working hours (09:00-17:00 Europe/Berlin)');
    expect(why).toContain('outside working hours (09:00-17:00 Europe/London)');
  });

  it('shows the open-lead counts a least_open pick compared', async () => {
    await create('L1', 'LO', '2026-03-16T10:00:00Z');
    await create('L2', 'LO', '2026-03-16T10:01:00Z');
    expect(await assignment('L2')).toContain('rule r-lo routed to b via team:ab/least_open; open leads: a 1, b 0');
  });
});
