import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/**
 * Through the real CLI, the lists read as the API's: `lead list` and `task list` refuse a
 * pipeline, stage or team the process does not have (naming the option and the names there are),
 * take a team by its name, and `lead list` shows each lead's work times and sorts by them;
 * `task list` shows each task's lead and sorts by its value.
 */

interface LeadJson {
  id: string;
  lastActivityAt: string | null;
  nextTaskDueAt: string | null;
}
interface TaskJson {
  lead: string;
  leadSummary: { name: string | null; value: number | null; stageName: string };
}

describe('stageflow lead list and task list filters (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const NOW = '2026-03-02T09:00:00Z';
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(ok(await cli(['--json', ...args], NOW)).stdout) as T;

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)], NOW));
    for (const [id, value] of [
      ['C1', '100'],
      ['C2', '900'],
    ] as const)
      ok(await cli(['lead', 'create', '--id', id, '--field', `name=${id} deal`, '--field', `value=${value}`], NOW));
    ok(await cli(['activity', 'log', 'C2', 'call'], '2026-03-02T10:00:00Z'));
  });

  it('lead list: work times, sorted by them, a team by name; an unknown stage or team is an error naming it', async () => {
    const leads = await json<LeadJson[]>(['lead', 'list', '--team', 'SALES', '--sort', 'last_activity_at']);
    expect(leads.map((l) => [l.id, l.lastActivityAt, l.nextTaskDueAt])).toEqual([
      ['C2', '2026-03-02T10:00:00.000Z', '2026-03-03T09:00:00.000Z'],
      ['C1', null, '2026-03-03T09:00:00.000Z'],
    ]);
    const bad = await cli(['lead', 'list', '--stage', 'qualfy', '--team', 'emea'], NOW);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--stage: unknown stage "qualfy" (did you mean qualify?)');
    expect(bad.stderr).toContain('--team: unknown team "emea"; teams: sales');
  });

  it("task list: each task's lead, sorted by its value, filtered on stage; an unknown pipeline is an error", async () => {
    const tasks = await json<TaskJson[]>(['task', 'list', '--stage', 'qualify', '--sort', 'value', '--order', 'desc']);
    expect(tasks.map((t) => [t.lead, t.leadSummary.name, t.leadSummary.value, t.leadSummary.stageName])).toEqual([
      ['C2', 'C2 deal', 900, 'Qualify'],
      ['C1', 'C1 deal', 100, 'Qualify'],
    ]);
    const bad = await cli(['task', 'list', '--pipeline', 'nbb'], NOW);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--pipeline: unknown pipeline "nbb" (did you mean nb?)');
    const zone = await cli(['task', 'list', '--tz', 'Mars/Olympus'], NOW);
    expect(zone.stderr).toContain('--tz "Mars/Olympus"');
  });

  // Last: it applies later process versions.
  it('lead list and task list take a pipeline and stage a later version removed, as the API does', async () => {
    const renewals = 'pipelines:\n  - id: renewals\n    name: Renewals\n    stages:\n      - { id: due, name: Due }\n';
    const added = PROCESS_YAML.replace('pipelines:\n', renewals);
    expect(added).not.toBe(PROCESS_YAML);
    ok(await cli(['process', 'apply', tempFile('renewals.yaml', added)], NOW));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)], NOW));
    expect(await json<LeadJson[]>(['lead', 'list', '--pipeline', 'renewals', '--stage', 'due'])).toEqual([]);
    expect(await json<TaskJson[]>(['task', 'list', '--pipeline', 'renewals'])).toEqual([]);
    const bad = await cli(['lead', 'list', '--stage', 'dues'], NOW);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--stage: unknown stage "dues" (did you mean due?)');
    expect(bad.stderr).toContain('no longer in the process: due');
  });
});
