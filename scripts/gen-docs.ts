/** Regenerates the committed JSON Schema docs: `npm run docs:gen`. A test checks they are current. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventFileJsonSchema } from '../src/domain/event-json-schema.js';

const target = join(import.meta.dirname, '..', 'docs', 'events.schema.json');
writeFileSync(target, `${JSON.stringify(eventFileJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target}`);
