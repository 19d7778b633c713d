import { describe, expect, it } from 'vitest';
import type { Condition, Stage } from '../../src/domain/process-schema.js';
import { goalChecklist, missingRequiredFields, requiredFields, unmetItems } from '../../src/domain/stage-checklist.js';

/** A stage goal in words, each part judged on the facts decide() uses. */

const goal: Condition = {
  all: [
    { task_done: 'first-touch' },
    { activity: 'call', min: 2 },
    { field: 'value', gte: 10000 },
    { any: [{ signal: 'trial_started' }, { field: 'product', in: ['Core', 'Plus'] }] },
  ],
};

describe('goalChecklist', () => {
  it('lists each condition in words, met or not, with what it counts', () => {
    const items = goalChecklist(goal, {
      fields: { value: 9000, product: 'core' },
      doneTasks: new Set(['first-touch']),
      activities: { call: 1 },
      signals: new Set(),
    });
    expect(items.map((i) => [i.depth, i.kind, i.text, i.met, i.current])).toEqual([
      [0, 'task', 'task first-touch done', true, null],
      [0, 'activity', '2 calls logged (1 so far)', false, 1],
      [0, 'field', 'field value ≥ 10000', false, 9000],
      [0, 'any', 'any of', true, null],
      [1, 'signal', 'signal trial_started received', false, null],
      [1, 'field', 'field product one of Core, Plus', true, 'core'],
    ]);
  });

  it('a goal that is not `all` is one line, its parts below it', () => {
    const items = goalChecklist({ any: [{ activity: 'call' }, { field: 'x', set: true }] }, { fields: {} });
    expect(items.map((i) => [i.depth, i.text, i.met])).toEqual([
      [0, 'any of', false],
      [1, '1 call logged (0 so far)', false],
      [1, 'field x set', false],
    ]);
  });
});

describe('unmetItems', () => {
  it('keeps what is still to do: not the other parts of a group already met', () => {
    const items = goalChecklist(goal, {
      fields: { value: 9000, product: 'core' },
      doneTasks: new Set(),
      activities: {},
      signals: new Set(),
    });
    // The `any of` is met by the product: its unmet signal needs nothing.
    expect(unmetItems(items).map((i) => i.text)).toEqual([
      'task first-touch done',
      '2 calls logged (0 so far)',
      'field value ≥ 10000',
    ]);
  });

  it('an unmet group keeps its parts below it', () => {
    const items = goalChecklist({ any: [{ activity: 'call' }, { field: 'x', set: true }] }, { fields: { x: 1 } });
    expect(unmetItems(items)).toEqual([]);
    const none = goalChecklist({ any: [{ activity: 'call' }, { field: 'x', set: true }] }, { fields: {} });
    expect(unmetItems(none).map((i) => [i.depth, i.text])).toEqual([
      [0, 'any of'],
      [1, '1 call logged (0 so far)'],
      [1, 'field x set'],
    ]);
  });
});

describe('missingRequiredFields', () => {
  const stage = { required_fields: ['value', 'decision_maker', 'expected_close'] } as unknown as Stage;
  it('counts unset, null and empty text as missing, and 0 or false as set', () => {
    expect(missingRequiredFields(stage, { value: 0, decision_maker: '', expected_close: null })).toEqual([
      'decision_maker',
      'expected_close',
    ]);
    expect(requiredFields(stage, { value: 5, decision_maker: 'Ann' })).toEqual({
      fields: [
        { field: 'value', set: true },
        { field: 'decision_maker', set: true },
        { field: 'expected_close', set: false },
      ],
      missing: ['expected_close'],
    });
  });
});
