/** A separate process that writes to one lead: used to test cross-process safety on SQLite. */
import { Engine } from '../../src/engine/engine.js';
import { openStore } from '../../src/store/db.js';

const [url, prefix, count] = process.argv.slice(2);
if (!url || !prefix || !count) throw new Error('usage: race-writer URL PREFIX COUNT');
const store = await openStore(url);
const engine = new Engine(store);
for (let i = 0; i < Number(count); i++) {
  const out = await engine.handle({ type: 'lead.updated', lead: 'L1', fields: { [`${prefix}${i}`]: i } }, Date.now());
  if (!out.ok) throw new Error(out.error.message);
}
await store.close();
