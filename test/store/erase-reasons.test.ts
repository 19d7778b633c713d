import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { eraseContact } from '../../src/store/contact-erase.js';
import type { Store } from '../../src/store/db.js';
import { T0 } from '../support/process-fixtures.js';
import { dialects, freshStore } from '../support/stores.js';

/** An erase reaches the person's name in another case and their phone number in another format. */

const PROCESS = `name: Reasons
organisation: { timezone: UTC }
users:
  - { id: anna, name: Anna }
assignment: { default_owner: anna }
pipelines:
  - id: nb
    name: New business
    default: true
    stages:
      - { id: qualify, name: Qualify }
`;

const open: Store[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe.each(dialects)('erase reasons on %s', (dialect) => {
  it('replaces the name and its parts in any case and the phone however written in the close reason and the lost event', async () => {
    const store = await freshStore(dialect);
    open.push(store);
    await applyProcess(store, PROCESS, T0, 'test');
    const engine = new Engine(store);
    await engine.handle(
      {
        type: 'lead.created',
        lead: 'L-KIM',
        fields: { name: 'Kim Lee', email: 'kim@lee.test', phone: '+44 20 7946 0000' },
      },
      T0,
    );
    await engine.handle(
      {
        type: 'lead.lost',
        lead: 'L-KIM',
        reason: 'KIM LEE said no, call 020 7946 0000 / +442079460000; kim prefers mail',
      },
      T0,
    );
    const { pseudonym } = await eraseContact(store, 'kim@lee.test', 'dpo', T0 + 1000);

    const lead = await store.db.selectFrom('leads').selectAll().where('id', '=', 'L-KIM').executeTakeFirstOrThrow();
    const scrubbed = `${pseudonym} said no, call ${pseudonym} / ${pseudonym}; ${pseudonym} prefers mail`;
    expect(lead.close_reason).toBe(scrubbed);
    const lost = await store.db
      .selectFrom('events')
      .select('payload')
      .where('lead_id', '=', 'L-KIM')
      .where('type', '=', 'lead.lost')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(lost.payload)).toMatchObject({
      reason: scrubbed,
    });
    const everything = JSON.stringify(
      await Promise.all(
        (['leads', 'events', 'field_history', 'run_log', 'outbox'] as const).map((t) =>
          store.db.selectFrom(t).selectAll().execute(),
        ),
      ),
    ).toLowerCase();
    expect(everything).not.toContain('kim lee');
    expect(everything).not.toContain('7946');
  });
});
