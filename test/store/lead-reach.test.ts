import { expect, it } from 'vitest';
import { reachAfter } from '../../src/store/lead-reach.js';

const at = (pipeline: string, stage_index: number) => ({ pipeline, stage_index });

it('a new lead reaches the furthest stage it entered in its pipeline', () => {
  expect(reachAfter('nb', null, [at('nb', 0), at('nb', 2), at('nb', 1)])).toEqual({
    furthest_index: 2,
    other_pipelines: 0,
  });
  expect(reachAfter('nb', null, [])).toEqual({ furthest_index: null, other_pipelines: 0 });
});

it('a later stay in the same pipeline only ever raises the furthest stage', () => {
  const before = { pipeline: 'nb', furthest_index: 3, other_pipelines: 0 };
  expect(reachAfter('nb', before, [at('nb', 1)])).toEqual({ furthest_index: 3, other_pipelines: 0 });
  expect(reachAfter('nb', before, [at('nb', 4)])).toEqual({ furthest_index: 4, other_pipelines: 0 });
});

it('a lead that moved to another pipeline is marked, and its new pipeline counts from its new stays', () => {
  const before = { pipeline: 'nb', furthest_index: 3, other_pipelines: 0 };
  expect(reachAfter('renewal', before, [at('renewal', 0)])).toEqual({ furthest_index: 0, other_pipelines: 1 });
  // Moved within one batch: the stay it left is in the other pipeline.
  expect(reachAfter('renewal', null, [at('nb', 0), at('renewal', 1)])).toEqual({
    furthest_index: 1,
    other_pipelines: 1,
  });
  // Once marked, always marked, even back in the first pipeline.
  const moved = { pipeline: 'renewal', furthest_index: 0, other_pipelines: 1 };
  expect(reachAfter('nb', moved, [at('nb', 1)]).other_pipelines).toBe(1);
});
