import { describe, expect, it } from 'vitest';
import type { Fields } from '../../src/domain/conditions.js';
import { decide } from '../../src/domain/decide.js';
import type { LeadEvent } from '../../src/domain/events.js';
import type { LeadState } from '../../src/domain/lead.js';
import { formatProblem, parseProcess } from '../../src/domain/process-load.js';
import type { Process } from '../../src/domain/process-schema.js';

/**
 * The process file's `fields:` section (review r6, finding 11): validated with paths and lines,
 * every field the process names must be in it, and decide() holds every write to it. Without the
 * section, fields stay an open map.
 */

const base = `name: Catalogue
users:
  - { id: anna, name: Anna }
assignment:
  default_owner: anna
  reroute_on_change: [territory]
pipelines:
  - id: nb
    name: New business
    stages:
      - id: qualify
        name: Qualify
        goal: { all: [{ field: seats, gte: 5 }, { field: plan, eq: Pro }] }
        on_enter:
          - set: { field: plan, value: Starter, if_empty: true }
      - id: close
        name: Close
        required_fields: [decision_maker]
templates:
  hello: { subject: 'Hi {{first_name}}', body: '{{owner.name}} on {{plan}}' }
`;

const catalogue = `fields:
  - { key: seats, label: Seats, type: number }
  - { key: plan, label: Plan, type: select, options: [Starter, Pro] }
  - { key: decision_maker, label: Decision maker, type: text }
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

describe('the fields section of the process file', () => {
  it('accepts a catalogue covering every field the process names', () => {
    expect(problems(base + catalogue)).toEqual([]);
  });

  it('names the path and line of each field a goal, a set, a gate, a rule or a template gets wrong', () => {
    const text = (base + catalogue)
      .replace('{ field: seats, gte: 5 }', '{ field: seat, gte: 5 }')
      .replace('{ field: plan, eq: Pro }', '{ field: plan, eq: Premium }')
      .replace('value: Starter', 'value: Basic')
      .replace('[decision_maker]', '[decison_maker]')
      .replace('[territory]', '[teritory]')
      .replace('{{plan}}', '{{pln}}');
    expect(problems(text)).toEqual([
      'assignment.reroute_on_change[0]: unknown field "teritory" (did you mean territory?): declare it under fields (or fix its name) (line 6)',
      'pipelines[0].stages[0].goal.all[0].field: unknown field "seat" (did you mean seats?): declare it under fields (or fix its name) (line 13)',
      'pipelines[0].stages[0].goal.all[1].eq: "Premium" is not an option of plan: Starter, Pro (line 13)',
      'pipelines[0].stages[0].on_enter[0].set.value: plan must be one of Starter, Pro, not "Basic" (line 15)',
      'pipelines[0].stages[1].required_fields[0]: unknown field "decison_maker" (did you mean decision_maker?): declare it under fields (or fix its name) (line 18)',
      'templates.hello.body: {{pln}}: unknown field "pln" (did you mean plan?): declare it under fields (or fix its name) (line 20)',
    ]);
  });

  it('checks each declaration: a select needs options, a key is declared once, a built-in keeps its type', () => {
    const text =
      base +
      `fields:
  - { key: seats, label: Seats, type: number }
  - { key: plan, label: Plan, type: select }
  - { key: seats, label: Seats again, type: number }
  - { key: value, label: Value, type: text }
  - { key: decision_maker, label: Decision maker, type: text, options: [a] }
`;
    expect(problems(text)).toEqual([
      'fields[1].options: a select field needs its options, such as [a, b] (line 23)',
      'fields[4].options: only a select field takes options, not text (line 26)',
    ]);
    expect(
      problems(text.replace('type: select }', 'type: select, options: [Starter, Pro] }').replace(', options: [a]', '')),
    ).toEqual([
      'fields[2].key: field "seats" is declared twice (line 24)',
      'fields[3].type: "value" is a built-in money field: declare it as money, or leave it out (it is in the catalogue anyway) (line 25)',
    ]);
  });

  it("refuses a test that can never hold for the field's type", () => {
    const extra = `  - { key: budget, label: Budget, type: boolean }
  - { key: closes, label: Closes, type: date }
`;
    const text = (base + catalogue + extra)
      .replace('{ field: seats, gte: 5 }', '{ field: seats, eq: lots }')
      .replace(
        '{ field: plan, eq: Pro }',
        '{ any: [{ field: plan, gt: 2 }, { field: budget, eq: yes }, { field: closes, lt: 5 }] }',
      );
    expect(problems(text)).toEqual([
      'pipelines[0].stages[0].goal.all[0].eq: seats is a number field: compare it with a number, not "lots" (line 13)',
      'pipelines[0].stages[0].goal.all[1].any[0].gt: gt compares numbers, and plan is a select field: the test never holds (line 13)',
      'pipelines[0].stages[0].goal.all[1].any[1].eq: budget is a boolean field: compare it with true or false, not "yes" (line 13)',
      'pipelines[0].stages[0].goal.all[1].any[2].lt: lt compares numbers, and closes is a date field: the test never holds (line 13)',
    ]);
    expect(
      problems((base + catalogue + extra).replace('{ field: plan, eq: Pro }', '{ field: budget, eq: true }')),
    ).toEqual([]);
  });

  it("refuses, without a catalogue, a test a built-in field's type never meets", () => {
    const text = base
      .replace('{ field: seats, gte: 5 }', '{ field: expected_close, gt: 5 }')
      .replace('{ field: plan, eq: Pro }', '{ field: value, eq: lots }');
    expect(problems(text)).toEqual([
      'pipelines[0].stages[0].goal.all[0].gt: gt compares numbers, and expected_close is a date field: the test never holds (line 13)',
      'pipelines[0].stages[0].goal.all[1].eq: value is a money field: compare it with a number, not "lots" (line 13)',
    ]);
    expect(problems(base.replace('{ field: seats, gte: 5 }', '{ field: value, gte: 5000 }'))).toEqual([]);
  });

  it("checks a placeholder's name, not its default", () => {
    const text = (base + catalogue).replace("'{{owner.name}} on {{plan}}'", "'{{plan | your plan}} {{pln | x}}'");
    expect(problems(text)).toEqual([
      'templates.hello.body: {{pln}}: unknown field "pln" (did you mean plan?): declare it under fields (or fix its name) (line 20)',
    ]);
  });

  it('leaves a process without the section as it was: any field in conditions', () => {
    expect(problems(base.replace('[decision_maker]', '[decison_maker]'))).toEqual([]);
  });
});

const T0 = Date.parse('2026-03-02T09:00:00Z');

function run(process: Process, lead: LeadState | null, event: LeadEvent) {
  return decide({ process, processVersion: 1, lead, event, now: T0, routing: { users: {}, cursors: {} } });
}

function created(process: Process, fields: Fields): LeadState {
  const d = run(process, null, { type: 'lead.created', lead: 'L1', fields });
  if (!d.ok) throw new Error(d.error.message);
  return d.lead;
}

describe('decide() under a catalogue', () => {
  const process = parsed(base + catalogue);

  it('refuses a field the process does not declare and a value not of its type', () => {
    const lead = created(process, { seats: '12', plan: 'pro' });
    expect(lead.fields).toMatchObject({ seats: 12, plan: 'Pro' });
    const typo = run(process, lead, { type: 'lead.updated', lead: 'L1', fields: { decison_maker: 'CFO' } });
    expect(typo.ok).toBe(false);
    if (!typo.ok) {
      expect(typo.error.code).toBe('invalid_field');
      expect(typo.error.message).toContain(
        'fields.decison_maker: not a field of the process (did you mean decision_maker?)',
      );
    }
    const mistyped = run(process, lead, { type: 'lead.updated', lead: 'L1', fields: { seats: 'many' } });
    expect(mistyped.ok ? '' : mistyped.error.message).toBe('fields.seats: must be a number, not "many"');
    // Stageflow's own follow-ups (enrichment) are not people's typos.
    const system = run(process, lead, {
      type: 'lead.updated',
      lead: 'L1',
      fields: { company_name: 'Acme' },
      actor: { kind: 'system', id: 'enrich' },
    });
    expect(system.ok).toBe(true);
  });

  it('removes a field written as null, recording the change to null', () => {
    const lead = created(process, { seats: null, decision_maker: 'CFO' });
    expect('seats' in lead.fields).toBe(false);
    const d = run(process, lead, { type: 'lead.updated', lead: 'L1', fields: { decision_maker: null } });
    if (!d.ok) throw new Error(d.error.message);
    expect('decision_maker' in d.lead.fields).toBe(false);
    expect(d.changes.filter((c) => c.kind === 'field.changed')).toEqual([
      { kind: 'field.changed', field: 'decision_maker', from: 'CFO', to: null },
    ]);
  });

  it('keeps the open map without a catalogue, and null still removes the key', () => {
    const open = parsed(base);
    const lead = created(open, { decison_maker: 'CFO', seats: 'many' });
    expect(lead.fields).toMatchObject({ decison_maker: 'CFO', seats: 'many' });
    const d = run(open, lead, { type: 'lead.updated', lead: 'L1', fields: { decison_maker: null } });
    if (!d.ok) throw new Error(d.error.message);
    expect('decison_maker' in d.lead.fields).toBe(false);
  });
});
