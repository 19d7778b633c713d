import { z } from 'zod';
import { timedEventSchema } from './events.js';

/** The JSON Schema of one line of a simulation event file, generated from the zod schema. */
export function eventFileJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(timedEventSchema, { io: 'input' }),
    $id: 'https://stageflow.dev/schemas/events.schema.json',
    title: 'Stageflow event (one line of a .events.jsonl file)',
    description:
      'Each line of an event file is one JSON object: the time it happens ("at") and a lead event. Lines starting with // are comments. Events must be in time order.',
  };
}
