import { describe, expect, it } from 'vitest';
import { decide, type Decision } from '../../src/domain/decide.js';
import { leadEventSchema, type LeadEvent } from '../../src/domain/events.js';
import type { LeadState, TaskState } from '../../src/domain/lead.js';
import { parseProcess } from '../../src/domain/process-load.js';

/** Tasks a person adds (task.added): the rep's, not the stage's. */

const parsed = parseProcess(`name: Ad hoc
organisation: { timezone: Europe/Berlin, overdue_after_hours: 2 }
users:
  - { id: anna, name: Anna, email: anna@example.com }
  - { id: ben, name: Ben }
teams:
  - { id: t, name: T, manager: anna, members: [anna] }
assignment:
  default_owner: anna
  rules: [{ id: all, to: { team: t } }]
pipelines:
  - id: nb
    name: NB
    default: true
    stages:
      - id: s1
        name: S1
        goal: { task_done: call }
        tasks: [{ id: call, title: Call, due: { business_days: 1 } }]
      - id: s2
        name: S2
        tasks: [{ id: prep, title: Prep, due: { days: 2 } }]
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const process = parsed.process;
const T0 = Date.parse('2026-03-02T09:00:00Z');

/** Runs the events in turn, an hour apart; a refusal ends the run with its code. */
function run(raw: object[]): { lead: LeadState; last: Decision; refused: string | null } {
  let lead: LeadState | null = null;
  let last: Decision | null = null;
  for (const [i, r] of raw.entries()) {
    const event = leadEventSchema.parse({ lead: 'L1', ...r }) as LeadEvent;
    const d = decide({
      process,
      processVersion: 1,
      lead,
      event,
      now: T0 + i * 3_600_000,
      routing: { users: {}, cursors: {} },
    });
    if (!d.ok) return { lead: lead as unknown as LeadState, last: d, refused: d.error.code };
    lead = d.lead;
    last = d;
  }
  return { lead: lead as unknown as LeadState, last: last as Decision, refused: null };
}

const adHoc = (lead: LeadState): TaskState | undefined => lead.tasks.find((t) => t.adHoc);
const add = {
  type: 'task.added',
  title: 'Call Henrik back',
  kind: 'call',
  dueAt: '2026-03-03T10:00',
  actor: { kind: 'user', id: 'ben' },
};

describe('ad-hoc tasks', () => {
  it('are due at the time given, a time without offset in the organisation zone, and go to the person adding them', () => {
    const { lead } = run([{ type: 'lead.created', fields: {} }, add]);
    const t = adHoc(lead);
    expect(t).toMatchObject({
      title: 'Call Henrik back',
      kind: 'call',
      assignee: 'ben',
      assigneeRule: 'user',
      status: 'open',
    });
    expect(t?.dueAt).toBe(Date.parse('2026-03-03T09:00:00Z')); // 10:00 in Berlin (+01:00)
    expect(t?.overdueAt).toBe(Date.parse('2026-03-03T11:00:00Z'));
    expect(t?.id).toBe('L1#1:adhoc-2');
  });

  it("go to the lead's owner when the person adding them is no user of the process", () => {
    const { lead } = run([
      { type: 'lead.created', fields: {} },
      { ...add, actor: { kind: 'api', id: 'robot' } },
    ]);
    expect(adHoc(lead)).toMatchObject({ assignee: 'anna', assigneeRule: 'owner' });
  });

  it('survive a goal advance and a move, and are skipped when the lead closes', () => {
    const { lead: moved } = run([
      { type: 'lead.created', fields: {} },
      add,
      { type: 'task.completed', task: 'call' }, // goal of s1 met: on to s2
    ]);
    expect(moved.stay.stage).toBe('s2');
    expect(adHoc(moved)?.status).toBe('open');
    const { lead: won, last } = run([
      { type: 'lead.created', fields: {} },
      add,
      { type: 'task.completed', task: 'call' },
      { type: 'lead.won' },
    ]);
    expect(won.status).toBe('won');
    expect(adHoc(won)).toMatchObject({ status: 'skipped', skipReason: 'closed' });
    expect(
      last.ok && last.changes.some((c) => c.kind === 'task.saved' && c.task.adHoc && c.task.status === 'skipped'),
    ).toBe(true);
  });

  it('do not count towards a goal that names a task, and can be completed and reopened in a later stage', () => {
    const { lead } = run([{ type: 'lead.created', fields: {} }, add, { type: 'task.completed', task: 'L1#1:adhoc-2' }]);
    expect(lead.stay.stage).toBe('s1');
    expect(adHoc(lead)?.status).toBe('done');
    const { lead: after, refused } = run([
      { type: 'lead.created', fields: {} },
      add,
      { type: 'lead.moved', stage: 's2' },
      { type: 'task.completed', task: 'L1#1:adhoc-2' },
      { type: 'task.reopened', task: 'L1#1:adhoc-2' },
    ]);
    expect(refused).toBeNull();
    expect(adHoc(after)?.status).toBe('open');
  });

  it('are edited (due time again unfired) and cancelled with a reason; process tasks are neither', () => {
    const { lead } = run([
      { type: 'lead.created', fields: {} },
      add,
      { type: 'task.updated', task: 'adhoc-2', title: 'Call Henrik', dueAt: '2026-03-04T08:00:00Z', kind: 'meeting' },
    ]);
    expect(adHoc(lead)).toMatchObject({
      title: 'Call Henrik',
      kind: 'meeting',
      dueAt: Date.parse('2026-03-04T08:00:00Z'),
      overdueAt: Date.parse('2026-03-04T10:00:00Z'),
    });
    const { lead: cancelled } = run([
      { type: 'lead.created', fields: {} },
      add,
      { type: 'task.cancelled', task: 'adhoc-2', reason: 'he called first' },
    ]);
    expect(adHoc(cancelled)).toMatchObject({ status: 'skipped', skipReason: 'cancelled: he called first' });
    expect(
      run([
        { type: 'lead.created', fields: {} },
        { type: 'task.cancelled', task: 'call', reason: 'x' },
      ]).refused,
    ).toBe('not_ad_hoc');
    expect(
      run([
        { type: 'lead.created', fields: {} },
        { type: 'task.updated', task: 'call', title: 'x' },
      ]).refused,
    ).toBe('not_ad_hoc');
  });

  it('are refused on a closed lead and for an unknown assignee', () => {
    expect(run([{ type: 'lead.created', fields: {} }, { type: 'lead.lost', reason: 'x' }, add]).refused).toBe(
      'lead_closed',
    );
    expect(
      run([
        { type: 'lead.created', fields: {} },
        { ...add, assignee: 'nobody' },
      ]).refused,
    ).toBe('unknown_user');
  });

  it('take a due time with offset or without, never a date alone', () => {
    const parse = (dueAt: string) => leadEventSchema.safeParse({ ...add, lead: 'L1', dueAt }).success;
    expect(parse('2026-03-03T10:00')).toBe(true);
    expect(parse('2026-03-03T10:00:00+02:00')).toBe(true);
    expect(parse('2026-03-03')).toBe(false);
    expect(parse('tuesday 10am')).toBe(false);
    expect(leadEventSchema.safeParse({ ...add, lead: 'L1', kind: 'lunch' }).success).toBe(false);
  });
});
