import { decodeTime } from 'ulid';
import { beforeAll, describe, expect, it } from 'vitest';
import { freshDatabaseUrl } from '../support/stores.js';
import { ONE_LINE_ERROR, PROCESS_YAML, session, tempFile, type CliResult } from './helpers.js';

/** One database, one lead's life through the CLI; the steps build on each other, in order. */

interface LeadJson {
  id: string;
  stage: string;
  status: string;
  owner: string;
  fields: Record<string, unknown>;
  openTasks: { id: string; template: string; assignee: string }[];
}

interface RunLogJson {
  seq: number;
  type: string;
  entries: { kind: string; rule: string | null; message: string }[];
}

describe('stageflow lead and task commands (SQLite)', () => {
  let cli: ReturnType<typeof session>;
  const show = async (id: string): Promise<LeadJson> => {
    const r = await cli(['lead', 'show', id, '--json']);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout) as LeadJson;
  };
  const ok = (r: CliResult): CliResult => {
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r;
  };

  beforeAll(async () => {
    cli = session(await freshDatabaseUrl('sqlite'));
    ok(await cli(['process', 'apply', tempFile('process.yaml', PROCESS_YAML)]));
  });

  it('lead create routes the lead, enters the first stage and opens its tasks', async () => {
    const r = ok(
      await cli([
        'lead',
        'create',
        '--id',
        'L1',
        '--field',
        'name=Acme',
        '--field',
        'territory=us',
        '--field',
        'value=5000',
        '--field',
        'vip=true',
        '--field',
        'zip=01067',
        '--field',
        'email=ops@acme.com',
      ]),
    );
    expect(r.stdout).toMatch(/^L1 {2}Acme$/m);
    expect(r.stdout).toMatch(/owner +bob$/m);
    expect(r.stdout).toMatch(/stage +qualify · Qualify \(1\/3\)/);
    expect(r.stdout).toMatch(/L1#1:call +Discovery call +\(call\) +bob +due 2026-03-03 09:00 \+00:00/);
    expect(r.stdout).toContain('rule us-to-bob routed to bob');

    const lead = await show('L1');
    expect(lead).toMatchObject({ stage: 'qualify', status: 'open', owner: 'bob' });
    // Numbers and booleans are typed; a leading zero keeps a postcode as text.
    expect(lead.fields).toEqual({
      name: 'Acme',
      territory: 'us',
      value: 5000,
      vip: true,
      zip: '01067',
      email: 'ops@acme.com',
    });
    expect(lead.openTasks.map((t) => [t.id, t.assignee])).toEqual([['L1#1:call', 'bob']]);
  });

  it('lead create without --id generates one', async () => {
    const r = ok(await cli(['--json', 'lead', 'create', '--field', 'name=Beta']));
    const out = JSON.parse(r.stdout) as { lead: LeadJson };
    // A ULID whose time part is the command's clock (--now 2026-03-02T09:00:00Z).
    expect(out.lead.id).toMatch(/^L-[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(out.lead.id.slice(2))).toBe(Date.parse('2026-03-02T09:00:00Z'));
    expect(out.lead.owner).toBe('anna');
  });

  it('task complete meets the goal and advances the lead, queueing the stage email', async () => {
    const r = ok(await cli(['--as', 'bob', 'task', 'complete', 'L1#1:call'], '2026-03-02T15:00:00Z'));
    expect(r.stdout).toMatch(/stage +demo · Demo \(2\/3\)/);
    expect(r.stdout).toContain('goal of qualify met: task_done call');
    expect(r.stdout).toContain('queued  email');
    expect(await show('L1')).toMatchObject({ stage: 'demo', openTasks: [] });

    const outbox = ok(await cli(['outbox', 'list', '--kind', 'email', '--json']));
    const rows = JSON.parse(outbox.stdout) as { lead: string; status: string; payload: Record<string, unknown> }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      lead: 'L1',
      status: 'pending',
      payload: { template: 'welcome', to: 'ops@acme.com' },
    });
    const text = ok(await cli(['outbox', 'list', '--lead', 'L1']));
    expect(text.stdout).toMatch(/L1:2:0:email +email +pending +0 .*template=welcome/);
  });

  it('a strict gate refuses the move in one line, exit 1, and leaves the lead as it was', async () => {
    const before = await cli(['lead', 'why', 'L1', '--json']);
    const r = await cli(['lead', 'move', 'L1', 'close']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(ONE_LINE_ERROR);
    expect(r.stderr).toBe(
      'stageflow: stage "demo" is strict: cannot move to "close" because its goal is not met (signal trial_started) [gate_refused]\n',
    );
    expect(await show('L1')).toMatchObject({ stage: 'demo', status: 'open' });
    const after = await cli(['lead', 'why', 'L1', '--json']);
    expect(after.stdout).toBe(before.stdout);
  });

  it('--debug adds the stack to the same message', async () => {
    const r = await cli(['--debug', 'lead', 'move', 'L1', 'close']);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toContain('[gate_refused]');
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(1).some((l) => /^\s+at .*src\/cli\//.test(l))).toBe(true);
  });

  it('only an admin may override a gate', async () => {
    const denied = await cli(['lead', 'move', 'L1', 'close', '--override']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/\[override_forbidden\]\n$/);
    const r = ok(await cli(['--admin', '--as', 'anna', 'lead', 'move', 'L1', 'close', '--override', '--reason', 'ok']));
    expect(r.stdout).toMatch(/stage +close · Close \(3\/3\)/);
    expect(r.stdout).toContain('admin anna overrode gate of demo');
  });

  it('lead why shows each event with the rule or goal that fired and its inputs', async () => {
    const r = ok(await cli(['lead', 'why', 'L1']));
    expect(r.stdout).toContain('run log of L1: 3 events');
    expect(r.stdout).toMatch(/^#1 {2}2026-03-02 09:00 \+00:00 {2}lead\.created {2}by user/m);
    expect(r.stdout).toMatch(/assignment +us-to-bob +created: rule us-to-bob routed to bob/);
    expect(r.stdout).toMatch(/^#2 .* task\.completed {2}by user:bob/m);
    expect(r.stdout).toMatch(/goal +qualify +goal of qualify met: task_done call\n +inputs: event=task\.completed/);
    expect(r.stdout).toMatch(/gate +demo +admin anna overrode gate of demo/);

    const json = JSON.parse(ok(await cli(['lead', 'why', 'L1', '--json'])).stdout) as RunLogJson[];
    expect(json.map((e) => e.type)).toEqual(['lead.created', 'task.completed', 'lead.moved']);
    expect(json[1]?.entries).toContainEqual(expect.objectContaining({ kind: 'goal', rule: 'qualify' }));
  });

  it('tick fires due timers at --now; task list --overdue and outbox show them', async () => {
    ok(await cli(['lead', 'create', '--id', 'L3', '--field', 'name=Gamma'], '2026-03-02T10:00:00Z'));
    const before = ok(await cli(['task', 'list', '--overdue'], '2026-03-02T12:00:00Z'));
    expect(before.stdout.trim()).toBe('no tasks');
    // L3's call is due a day after its creation, 10:00 on 3 March: in [3 March, 4 March), not before 3 March.
    const dueIds = async (...range: string[]): Promise<string[]> =>
      (JSON.parse(ok(await cli(['task', 'list', '--lead', 'L3', ...range, '--json'])).stdout) as { id: string }[]).map(
        (t) => t.id,
      );
    expect(await dueIds('--due-after', '2026-03-03', '--due-before', '2026-03-04')).toEqual(['L3#1:call']);
    expect(await dueIds('--due-before', '2026-03-03T10:00:00Z')).toEqual([]);

    const later = '2026-03-05T10:00:00Z';
    const overdue = ok(await cli(['task', 'list', '--overdue', '--assignee', 'anna'], later));
    expect(overdue.stdout).toMatch(/L3#1:call +Discovery call +qualify +open +anna +.*OVERDUE/);
    const tick = ok(await cli(['tick'], later));
    // L3's call: due and overdue. The generated lead's call (also anna's) too.
    expect(tick.stdout.trim()).toBe('4 timers fired');
    const again = ok(await cli(['tick'], later));
    expect(again.stdout.trim()).toBe('0 timers fired');
    const rows = JSON.parse(ok(await cli(['outbox', 'list', '--kind', 'task.overdue', '--json'])).stdout) as unknown[];
    expect(rows).toHaveLength(2);
  });

  it('lead list filters and the board shows stages in order', async () => {
    const list = ok(await cli(['lead', 'list', '--owner', 'anna', '--stage', 'qualify', '--json']));
    const leads = JSON.parse(list.stdout) as LeadJson[];
    expect(leads.map((l) => l.owner)).toEqual(['anna', 'anna']);
    expect(leads.map((l) => l.id)).toContain('L3');
    // The API's search: name, email or company in any case; and its sorts.
    const found = JSON.parse(ok(await cli(['lead', 'list', '--search', 'gAM', '--json'])).stdout) as LeadJson[];
    expect(found.map((l) => l.id)).toEqual(['L3']);
    const oldestFirst = JSON.parse(
      ok(await cli(['lead', 'list', '--sort', 'created_at', '--order', 'asc', '--json'])).stdout,
    ) as LeadJson[];
    expect(oldestFirst.length).toBeGreaterThan(2);
    expect(oldestFirst.at(-1)?.id).toBe('L3');

    const board = ok(await cli(['board']));
    const lines = board.stdout.split('\n');
    const at = (s: string): number => lines.findIndex((l) => l.includes(s));
    expect(at('1. Qualify (qualify): 2')).toBeGreaterThan(-1);
    expect(at('2. Demo (demo): 0')).toBeGreaterThan(at('1. Qualify (qualify): 2'));
    expect(at('3. Close (close): 1')).toBeGreaterThan(at('2. Demo (demo): 0'));
    expect(board.stdout).toMatch(/L1 +Acme +bob +-/);
    // The tick caught up calls already overdue: their alerts, without stale reminders.
    expect(board.stdout).toContain('outbox: 3 effects (email 1, task.overdue 2)');
  });

  it('lose needs a reason; reopen and reassign go through the engine', async () => {
    const noReason = await cli(['lead', 'lose', 'L3']);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(ONE_LINE_ERROR);
    ok(await cli(['lead', 'lose', 'L3', '--reason', 'no budget']));
    expect(await show('L3')).toMatchObject({ status: 'lost', openTasks: [] });
    const closed = await cli(['activity', 'log', 'L3', 'call']);
    expect(closed.stderr).toBe('stageflow: lead L3 is lost; reopen it first [lead_closed]\n');
    ok(await cli(['lead', 'reopen', 'L3']));
    ok(await cli(['lead', 'reassign', 'L3', '--owner', 'bob']));
    expect(await show('L3')).toMatchObject({ status: 'open', owner: 'bob', stage: 'qualify' });
  });
});
