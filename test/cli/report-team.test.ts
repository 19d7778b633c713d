import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/db.js';
import { playScenario } from '../support/owner-scope-scenario.js';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, session, type CliResult } from './helpers.js';

/**
 * `stageflow report NAME --team TEAM`: the report limited to a team's members, through the same
 * scope the API uses for a manager. Data: test/support/owner-scope-scenario.ts, written through the
 * engine beforehand; the CLI runs as a child process.
 */

const NOW = '2026-12-10T12:00:00Z';
const PERIOD = ['--from', '2026-09-01', '--to', '2026-12-01'];

describe('stageflow report --team', () => {
  let cli: (args: readonly string[], now?: string) => Promise<CliResult>;

  beforeAll(async () => {
    const url = await freshDatabaseUrl('sqlite');
    const store = await openStore(url);
    try {
      await playScenario(store);
    } finally {
      await store.close();
    }
    cli = session(url);
  });

  it("limits the figures to the team's members and says so", async () => {
    const r = await cli(['report', 'win-rate', ...PERIOD, '--team', 'team-a', '--format', 'json'], NOW);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      report: 'win-rate',
      from: '2026-09-01',
      to: '2026-12-01',
      by: null,
      pipeline: null,
      // A1, A2, A3 won, A4 lost; cohort A1..A6 (the organisation: 5 won, 3 lost, cohort 11)
      rows: [{ won: 3, lost: 1, closed: 4, win_rate: 0.75, cohort: 6, cohort_won: 3, cohort_win_rate: 0.5 }],
      notes: ['limited to team Team A: figures count only the leads owned by (and the work of) Anna A1, Arno A2'],
    });
  });

  it('takes a team by name, and several teams repeated or comma-separated', async () => {
    const table = await cli(['report', 'deal-size', ...PERIOD, '--by', 'owner', '--team', 'Team B'], NOW);
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('Bea B1');
    expect(table.stdout).not.toContain('Anna A1');
    expect(table.stdout).toContain(
      'note: limited to team Team B: figures count only the leads owned by (and the work of) Bea B1, Ben B2\n',
    );
    const all = JSON.parse((await cli(['report', 'win-rate', ...PERIOD, '--format', 'json'], NOW)).stdout) as {
      rows: unknown[];
    };
    const repeated = await cli(
      ['report', 'win-rate', ...PERIOD, '--team', 'team-a', '--team', 'team-b', '--format', 'json'],
      NOW,
    );
    const commas = await cli(['report', 'win-rate', ...PERIOD, '--team', 'team-a,team-b', '--format', 'json'], NOW);
    // Every lead of the scenario is owned by a member of one of the two teams.
    for (const r of [repeated, commas]) {
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as { rows: unknown[]; notes: string[] };
      expect(out.rows).toEqual(all.rows);
      expect(out.notes).toEqual([
        'limited to teams Team A, Team B: figures count only the leads owned by (and the work of) Anna A1, Arno A2, Bea B1, Ben B2',
      ]);
    }
  });

  it('refuses an unknown team in one line naming the known teams', async () => {
    const r = await cli(['report', 'win-rate', ...PERIOD, '--team', 'team-a,team-c'], NOW);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toBe('stageflow: unknown team "team-c" (teams: team-a, team-b)\n');
    const empty = await cli(['report', 'win-rate', '--team', ','], NOW);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(ONE_LINE_ERROR);
    expect(empty.stderr).toContain('--team needs a team id or name');
  });
});
