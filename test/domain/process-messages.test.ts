import { describe, expect, it } from 'vitest';
import { decide } from '../../src/domain/decide.js';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';
import type { Process } from '../../src/domain/process-schema.js';

/** A valid process whose marked lines the tests replace with a mistake. */
const base = `name: Messages
users:
  - { id: anna, name: Anna }
teams:
  - { id: emea, name: EMEA, members: [anna] }
assignment:
  default_owner: anna
  rules:
    - id: r1
      when: { field: territory, eq: EMEA }
      to: { team: emea }
      fallback: [{ user: anna }]
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: s1
        name: S1
        tasks:
          - { id: call, title: Call, due: { days: 1 }, assignee: { team: emea } }
        on_enter:
          - email: { template: t1, to: owner }
          - webhook: { url: 'https://hooks.example.com/x' }
    on_won:
      - congratulate: manager
templates:
  t1: { subject: Hi, body: Hello }
`;

function problems(text: string): string[] {
  const r = parseProcess(text);
  return r.ok ? [] : r.problems.map(formatProblem);
}

function parsed(text: string): Process {
  const r = parseProcess(text);
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.process;
}

function swap(from: string, to: string, text = base): string {
  if (!text.includes(from)) throw new Error(`not in the file: ${from}`);
  return text.replace(from, to);
}

describe('automations, targets and assignees are told by their key', () => {
  it('accepts the base file and keeps the defaults the kinds fill in', () => {
    const p = parsed(base);
    expect(p.assignment.rules[0]?.to).toEqual({ team: 'emea', strategy: 'round_robin' });
    expect(p.pipelines[0]?.stages[0]?.on_enter[0]).toEqual({ email: { template: 't1', to: 'owner' } });
    expect(p.pipelines[0]?.stages[0]?.tasks[0]?.assignee).toEqual({ team: 'emea' });
    const bare = parsed(swap('{ template: t1, to: owner }', '{ template: t1 }'));
    expect(bare.pipelines[0]?.stages[0]?.on_enter[0]).toEqual({ email: { template: 't1', to: 'contact' } });
  });

  it('names an unknown automation, the one probably meant and the ones there are', () => {
    expect(problems(swap('- email: { template: t1, to: owner }', '- emial: { template: t1, to: owner }'))).toEqual([
      'pipelines[0].stages[0].on_enter[0]: unknown automation "emial" (did you mean email?): automations are assign, set, status, email, subscribe, unsubscribe, congratulate, webhook, enrich, move (line 23)',
    ]);
    expect(problems(swap('- congratulate: manager', '- statuz: won'))).toEqual([
      'pipelines[0].on_won[0]: unknown automation "statuz" (did you mean status?): automations are assign, set, status, email, subscribe, unsubscribe, congratulate, webhook, enrich, move (line 26)',
    ]);
  });

  it('names the value that is wrong inside an automation, and what it may be', () => {
    expect(problems(swap('to: owner', 'to: boss'))).toEqual([
      'pipelines[0].stages[0].on_enter[0].email.to: Invalid option: expected one of "contact"|"owner"|"manager" (line 23)',
    ]);
    expect(problems(swap('- congratulate: manager', '- status: maybe'))).toEqual([
      'pipelines[0].on_won[0].status: Invalid option: expected one of "won"|"lost" (line 26)',
    ]);
  });

  it('refuses two automations in one entry and an entry that is not a mapping', () => {
    expect(problems(swap('- congratulate: manager', '- { congratulate: manager, move: s1 }'))).toEqual([
      'pipelines[0].on_won[0]: has both congratulate and move: one automation per entry (write each as its own list item) (line 26)',
    ]);
    expect(problems(swap('- congratulate: manager', '- enrich'))).toEqual([
      'pipelines[0].on_won[0]: must be a mapping with one of assign, set, status, email, subscribe, unsubscribe, congratulate, webhook, enrich, move (line 26)',
    ]);
  });

  it('posts webhooks only to http and https URLs', () => {
    expect(problems(swap('https://hooks.example.com/x', 'ftp://x'))).toEqual([
      'pipelines[0].stages[0].on_enter[1].webhook.url: must be an http or https URL (line 24)',
    ]);
    expect(problems(swap('https://hooks.example.com/x', 'http://127.0.0.1:8080/hook'))).toEqual([]);
  });

  it('names an unknown assignment target and a pool tier that is not a list', () => {
    expect(problems(swap('to: { team: emea }', 'to: { usr: anna }'))).toEqual([
      'assignment.rules[0].to: unknown target "usr" (did you mean user?): targets are user, team, pool (line 11)',
    ]);
    expect(
      problems(swap('fallback: [{ user: anna }]', 'fallback: [{ pool: { territory: true, tier: closer } }]')),
    ).toEqual(['assignment.rules[0].fallback[0].pool.tier: must be a list of tiers, such as [closer] (line 12)']);
    expect(problems(swap('to: { team: emea }', 'to: { team: emea, strategy: fastest }'))).toEqual([
      'assignment.rules[0].to.strategy: Invalid option: expected one of "round_robin"|"weighted"|"least_open" (line 11)',
    ]);
  });

  it('names what a task assignee may be', () => {
    expect(problems(swap('assignee: { team: emea }', 'assignee: manager'))).toEqual([
      'pipelines[0].stages[0].tasks[0].assignee: must be owner or a mapping with one of user, team (line 21)',
    ]);
    expect(problems(swap('assignee: { team: emea }', 'assignee: { teem: emea }'))).toEqual([
      'pipelines[0].stages[0].tasks[0].assignee: unknown assignee "teem" (did you mean team?): assignees are user, team (line 21)',
    ]);
    expect(
      parsed(swap('assignee: { team: emea }', 'assignee: owner')).pipelines[0]?.stages[0]?.tasks[0]?.assignee,
    ).toBe('owner');
  });
});

describe('the pipeline a lead matching no entry criteria goes to', () => {
  const plain = swap('    default: true\n', '');
  const renewals = `  - id: renewals
    name: Renewals
    entry: { field: type, eq: renewal }
    stages: [{ id: r1, name: R1 }]
`;
  const withRenewals = swap('templates:', `${renewals}templates:`, plain);

  function pipelineOf(p: Process, fields: Record<string, string>): string {
    const d = decide({
      process: p,
      processVersion: 1,
      lead: null,
      event: { type: 'lead.created', lead: 'L1', fields },
      now: Date.UTC(2026, 2, 2),
      routing: { users: {}, cursors: {} },
    });
    if (!d.ok) throw new Error(d.error.message);
    return d.lead.pipeline;
  }

  it('is the only pipeline without entry criteria when none is marked default', () => {
    const p = parsed(withRenewals);
    expect(p.pipelines.map((pl) => [pl.id, pl.default])).toEqual([
      ['nb', true],
      ['renewals', false],
    ]);
    expect(pipelineOf(p, {})).toBe('nb');
    expect(pipelineOf(p, { type: 'renewal' })).toBe('renewals');
  });

  it('is the one marked default, not the one without entry criteria', () => {
    const p = parsed(
      swap(
        'entry: { field: type, eq: renewal }',
        'entry: { field: type, eq: renewal }\n    default: true',
        withRenewals,
      ),
    );
    expect(p.pipelines.map((pl) => [pl.id, pl.default])).toEqual([
      ['nb', false],
      ['renewals', true],
    ]);
    expect(pipelineOf(p, {})).toBe('renewals');
  });

  it('refuses two pipelines without entry criteria and no default, saying how to fix it', () => {
    const second = `  - id: partners
    name: Partners
    stages: [{ id: p1, name: P1 }]
`;
    expect(problems(swap('templates:', `${second}templates:`, withRenewals))).toEqual([
      'pipelines[2]: pipelines "nb", "partners" have no entry criteria and none is marked default, so a lead that matches no entry criteria would be refused: mark the one such leads go to with `default: true` (line 30)',
    ]);
  });

  it('is none when every pipeline has entry criteria: such a lead is refused, as before', () => {
    const p = parsed(
      swap('    name: New business\n', '    name: New business\n    entry: { field: type, eq: new }\n', withRenewals),
    );
    expect(p.pipelines.some((pl) => pl.default)).toBe(false);
    const d = decide({
      process: p,
      processVersion: 1,
      lead: null,
      event: { type: 'lead.created', lead: 'L1', fields: {} },
      now: Date.UTC(2026, 2, 2),
      routing: { users: {}, cursors: {} },
    });
    expect(d.ok ? 'created' : d.error.code).toBe('no_pipeline');
  });
});
