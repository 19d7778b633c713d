import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { leadEventSchema, type LeadEvent } from '../../src/domain/events.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * A task a person added is written about the person ("Send Jane Doe the deck", a note): erasing
 * the contact takes their values out of its title and drops its note, in the tasks table and in
 * the lead's working set, as it drops activity notes. A stage's own task is left as it is.
 */

const PROCESS = `name: Privacy
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna, email: anna@example.com }
assignment:
  default_owner: anna
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - id: qualify
        name: Qualify
        tasks: [{ id: call, title: Discovery call, kind: call, due: { days: 1 } }]
`;
const T0 = Date.parse('2026-03-02T09:00:00Z');

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('erasing a contact with a task a person added (%s)', (dialect) => {
  it('scrubs the title and drops the note, in the row and the working set', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    const events = [
      { type: 'lead.created', lead: 'L1', fields: { name: 'Jane Doe', email: 'jane.doe@example.com' } },
      {
        type: 'task.added',
        lead: 'L1',
        title: 'Send Jane Doe the deck',
        dueAt: '2026-03-10T10:00:00Z',
        note: 'she asked for the pricing page',
        actor: { kind: 'user', id: 'anna' },
      },
    ];
    for (const [i, raw] of events.entries()) {
      const out = await engine.handle(leadEventSchema.parse(raw) as LeadEvent, T0 + i * 60_000);
      expect(out.ok).toBe(true);
    }
    await eraseContact(store, 'jane.doe@example.com', 'dpo', T0 + 3_600_000);
    const rows = await store.db.selectFrom('tasks').select(['template', 'title', 'note']).orderBy('template').execute();
    expect(rows.find((r) => r.template === 'call')).toMatchObject({ title: 'Discovery call', note: null });
    const added = rows.find((r) => r.template === 'adhoc-2');
    expect(added?.note).toBeNull();
    expect(added?.title.toLowerCase()).not.toContain('jane');
    expect(added?.title).toContain('the deck');
    const lead = await store.db.selectFrom('leads').select('state').where('id', '=', 'L1').executeTakeFirstOrThrow();
    expect(lead.state.toLowerCase()).not.toContain('jane');
    expect(lead.state).not.toContain('pricing page');
  });
});
