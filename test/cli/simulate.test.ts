import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SimulationResult } from '../../src/simulate.js';
import { ONE_LINE_ERROR, PROCESS_YAML, stageflow, tempFile } from './helpers.js';

const EVENTS = [
  {
    at: '2026-03-02T09:00:00Z',
    type: 'lead.created',
    lead: 'S1',
    fields: { name: 'Acme', territory: 'us', email: 'a@acme.com' },
  },
  { at: '2026-03-02T10:00:00Z', type: 'task.completed', lead: 'S1', task: 'call' },
  { at: '2026-03-02T11:00:00Z', type: 'lead.moved', lead: 'S1', stage: 'close' },
  { at: '2026-03-02T12:00:00Z', type: 'lead.created', lead: 'S2', fields: { name: 'Beta' } },
]
  .map((e) => JSON.stringify(e))
  .join('\n');

describe('stageflow simulate', () => {
  const processFile = tempFile('process.yaml', PROCESS_YAML);
  const eventsFile = tempFile('events.jsonl', EVENTS);

  it('prints the full result as JSON', async () => {
    const r = await stageflow(['simulate', '--process', processFile, '--events', eventsFile, '--format', 'json']);
    expect(r.stderr).toBe('');
    const result = JSON.parse(r.stdout) as SimulationResult;
    expect(result.leads.map((l) => [l.id, l.stage, l.owner])).toEqual([
      ['S1', 'demo', 'bob'],
      ['S2', 'qualify', 'anna'],
    ]);
    expect(result.rejected).toEqual([
      expect.objectContaining({
        line: 3,
        type: 'lead.moved',
        lead: 'S1',
        error: expect.objectContaining({ code: 'gate_refused' }),
      }),
    ]);
    expect(result.outbox.map((o) => o.kind)).toEqual(['email']);
  });

  it('prints a board by default, and JSON to a file with --out', async () => {
    const board = await stageflow(['simulate', '--process', processFile, '--events', eventsFile]);
    expect(board.code).toBe(0);
    expect(board.stdout).toMatch(/1\. Qualify \(qualify\): 1\n +S2 +Beta +anna +call due 2026-03-03 12:00 \+00:00\n/);
    expect(board.stdout).toMatch(/2\. Demo \(demo\): 1\n +S1 +Acme +bob +-\n/);
    expect(board.stdout).toContain('rejected events: 1\n  line 3  lead.moved S1: stage "demo" is strict');
    expect(board.stdout).toContain('outbox: 1 effect (email 1)');

    const out = join(dirname(eventsFile), 'result.json');
    const r = await stageflow(['simulate', '--process', processFile, '--events', eventsFile, '--out', out]);
    expect(r.stdout.trim()).toBe(`wrote ${out}: 2 leads, 1 rejected event, 0 timers fired`);
    const written = JSON.parse(readFileSync(out, 'utf8')) as SimulationResult;
    expect(written.leads).toHaveLength(2);
  });

  it('--until stops the replay and fires the timers due by then', async () => {
    const r = await stageflow([
      'simulate',
      '--json',
      '--process',
      processFile,
      '--events',
      eventsFile,
      '--until',
      '2026-03-02T10:30:00Z',
    ]);
    const result = JSON.parse(r.stdout) as SimulationResult;
    expect(result.leads.map((l) => l.id)).toEqual(['S1']);
    expect(result.rejected).toEqual([]);

    // S2's call falls due at 2026-03-03 12:00; by the 4th its reminder has fired, not yet its overdue alert.
    const later = await stageflow([
      'simulate',
      '--json',
      '--process',
      processFile,
      '--events',
      eventsFile,
      '--until',
      '2026-03-04T00:00:00Z',
    ]);
    const full = JSON.parse(later.stdout) as SimulationResult;
    expect(full.timersFired).toBe(1);
    expect(full.outbox.map((o) => o.kind)).toEqual(['email', 'task.reminder']);
  });

  it('a bad events line is one error naming the file and line', async () => {
    const bad = tempFile(
      'events.jsonl',
      `${EVENTS.split('\n')[0]}\n{"at":"2026-03-02T10:00:00Z","type":"task.completed","lead":"S1"}\n`,
    );
    const r = await stageflow(['simulate', '--process', processFile, '--events', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toMatch(new RegExp(`^stageflow: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} line 2: task: `));

    const notJson = tempFile('events.jsonl', 'hello\n');
    const r2 = await stageflow(['simulate', '--process', processFile, '--events', notJson]);
    expect(r2.stderr).toMatch(/events\.jsonl line 1: not JSON/);
  });
});
