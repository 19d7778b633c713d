import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { applyProcess } from '../../src/engine/process-service.js';
import { fireTimers } from '../../src/engine/scheduler.js';
import type { Store } from '../../src/store/db.js';
import { dialects, freshStore } from '../support/stores.js';

/**
 * The live scheduler after downtime (`tick` or the server's worker not run for ten days): each
 * missed task gets its overdue alert alone, not a stale "is due" reminder beside it; the run log
 * says the timers fired late and when they fell due; a stall is stamped when the stay crossed its
 * threshold. A tick on time still sends the reminder. On a real SQLite file and PostgreSQL.
 */

const PROCESS = `name: Catch-up
organisation: { timezone: UTC, overdue_after_hours: 24 }
users:
  - { id: anna, name: Anna, email: anna@example.com }
assignment: { default_owner: anna, rules: [] }
pipelines:
  - id: p
    name: P
    default: true
    stages:
      - id: s1
        name: S1
        stall_after_days: 3
        tasks:
          - { id: call, title: Call, kind: call, due: { hours: 1 } }
          - { id: mail, title: Mail, kind: email, due: { days: 2 } }
`;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-03-02T09:00:00Z');

describe.each(dialects)('timers caught up after downtime on %s', (dialect) => {
  let store: Store | null = null;
  afterEach(async () => {
    await store?.close();
    store = null;
  });

  it('sends each missed task its overdue alert alone, logs the lateness and stamps the stall when it happened', async () => {
    store = await freshStore(dialect);
    await applyProcess(store, PROCESS, T0 - HOUR, 'test');
    const engine = new Engine(store);
    const created = await engine.handle({ type: 'lead.created', lead: 'L1', actor: { kind: 'api' }, fields: {} }, T0);
    expect(created.ok).toBe(true);

    // Ten days without a tick, then one.
    await fireTimers(engine, T0 + 10 * DAY, 'until');
    const db = store.db;
    const kinds = async (lead: string): Promise<string[]> =>
      (await db.selectFrom('outbox').select('kind').where('lead_id', '=', lead).orderBy('id').execute()).map(
        (r) => r.kind,
      );
    expect((await kinds('L1')).sort()).toEqual(['stage.stalled', 'task.overdue', 'task.overdue']);
    const stay = await db.selectFrom('stage_stays').select('stalled_at').where('lead_id', '=', 'L1').executeTakeFirst();
    expect(Number(stay?.stalled_at)).toBe(T0 + 3 * DAY);
    const log = (
      await db.selectFrom('run_log').select('message').where('lead_id', '=', 'L1').where('kind', '=', 'timer').execute()
    ).map((r) => r.message);
    expect(log).toContain('task call was due 2026-03-02T10:00Z: reminder not sent, it is overdue already');
    expect(log).toContain('task call is overdue; fired late, it fell due 2026-03-03T10:00Z');
    expect(log).toContain('stalled in s1; fired late, it fell due 2026-03-05T09:00Z');

    // A tick a minute after a due time sends the reminder, without a word of lateness.
    const t1 = T0 + 20 * DAY;
    await engine.handle({ type: 'lead.created', lead: 'L2', actor: { kind: 'api' }, fields: {} }, t1);
    await fireTimers(engine, t1 + HOUR + 60_000, 'until');
    expect(await kinds('L2')).toEqual(['task.reminder']);
    const l2 = await db
      .selectFrom('run_log')
      .select('message')
      .where('lead_id', '=', 'L2')
      .where('kind', '=', 'timer')
      .execute();
    expect(l2.map((r) => r.message)).toEqual(['task call is due']);
  });
});
