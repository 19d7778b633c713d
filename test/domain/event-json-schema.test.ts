import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { eventFileJsonSchema } from '../../src/domain/event-json-schema.js';

it('docs/events.schema.json matches the schema the simulator validates with (run npm run docs:gen)', () => {
  const committed = JSON.parse(
    readFileSync(join(import.meta.dirname, '../../docs/events.schema.json'), 'utf8'),
  ) as unknown;
  expect(committed).toEqual(JSON.parse(JSON.stringify(eventFileJsonSchema())));
});
