import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROCESS_YAML, session, tempFile } from './helpers.js';

/** `stageflow activity log --at`, `activity show`, `activity edit` and `activity delete`, as the API has them. */

interface Exported {
  id: string;
  note: string | null;
  at: string;
}

describe('activities on the command line', () => {
  it('logs with a time it happened, prints the id, and shows, edits and deletes by that id', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'stageflow-activity-')), 'a.db');
    const cli = session(db);
    const at = (now: string) => (args: readonly string[]) => cli(args, now);
    const noon = at('2026-03-02T12:00:00Z');
    expect((await cli(['process', 'apply', tempFile('p.yaml', PROCESS_YAML)])).code).toBe(0);
    expect((await cli(['lead', 'create', '--id', 'A1', '--field', 'value=10'])).code).toBe(0);

    const future = await noon(['activity', 'log', 'A1', 'call', '--at', '2026-03-02T13:00:00Z']);
    expect(future.code).toBe(1);
    expect(future.stderr).toContain('occurredAt 2026-03-02T13:00:00Z is in the future');
    const early = await noon(['activity', 'log', 'A1', 'call', '--at', '2026-03-02T08:00:00Z']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('is before the lead entered stage');

    const logged = await noon([
      '--json',
      'activity',
      'log',
      'A1',
      'call',
      '--note',
      'typo',
      '--at',
      '2026-03-02T10:30:00+00:00',
    ]);
    expect(logged.code, logged.stderr).toBe(0);
    const id = (JSON.parse(logged.stdout) as { activity: string }).activity;
    expect(id).toMatch(/^A1:\d+\.0$/);
    const text = await noon(['activity', 'log', 'A1', 'note', '--note', 'second']);
    expect(text.stdout).toMatch(/activity {2}A1:\d+\.0/);

    const exported = async () =>
      (await noon(['export', 'activities'])).stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Exported);
    expect((await exported())[0]).toMatchObject({ id, note: 'typo', at: '2026-03-02T10:30:00.000Z' });

    // `activity show` is the API's GET /activities/{id}: the same JSON, or a short table.
    const shown = await noon(['--json', 'activity', 'show', id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual({
      id,
      lead: 'A1',
      kind: 'call',
      note: 'typo',
      at: '2026-03-02T10:30:00.000Z',
      actor: 'user',
      stay: expect.any(String),
    });
    const table = await noon(['activity', 'show', id]);
    expect(table.stdout).toMatch(/^kind +call$/m);
    expect(table.stdout).toMatch(/^at +2026-03-02 10:30 \+00:00$/m);
    expect(table.stdout).toMatch(/^note +typo$/m);

    const edited = await noon(['activity', 'edit', id, '--note', 'fixed']);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toContain(`activity ${id} (call) note edited by`);
    expect((await exported()).map((a) => a.note)).toEqual(['fixed', 'second']);

    const deleted = await noon(['activity', 'delete', id]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await exported()).map((a) => a.note)).toEqual(['second']);
    const again = await noon(['activity', 'delete', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`activity "${id}" does not exist`);
    const gone = await noon(['activity', 'show', id]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`activity "${id}" does not exist`);
  }, 240_000);
});
