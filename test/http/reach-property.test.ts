import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Role } from '../../src/store/members.js';
import { dialects } from '../support/stores.js';
import { call, PEOPLE, startServer, TEST_PROCESS, tokenFor, type TestServer } from '../support/http.js';

/**
 * Reach as a property: for a random organisation of leads (random owners among the test process's
 * people, some handed over to someone else after their first task is done), every caller's lead
 * list, read a few leads a page, is exactly the leads they may see, and their task list exactly the
 * tasks on those leads or assigned to people they reach. All runs share one server; each run tags
 * its leads with a `source` of its own and judges only those.
 */

const TEAMS = (parse(TEST_PROCESS) as { teams: { manager: string; members: string[] }[] }).teams;
const IDS = Object.keys(PEOPLE);
const REPS = IDS.filter((id) => PEOPLE[id] === 'rep');
const MANAGERS = IDS.filter((id) => PEOPLE[id] === 'manager');

/** The reach rule, independently of src/http/access.ts. */
function reaches(who: string, owner: string | null): boolean {
  const role = PEOPLE[who] as Role;
  if (role === 'admin') return true;
  if (owner === null) return false;
  return owner === who || (role === 'manager' && TEAMS.some((t) => t.manager === who && t.members.includes(owner)));
}

const planArb = fc.record({
  leads: fc.array(
    fc.record({
      owner: fc.constantFrom(...IDS),
      value: fc.integer({ min: 0, max: 3 }).map((n) => n * 500),
      // Complete the first task, then reassign the lead: its done task stays with the first owner.
      handover: fc.option(fc.constantFrom(...IDS), { nil: null, freq: 3 }),
    }),
    { minLength: 0, maxLength: 8 },
  ),
  rep: fc.constantFrom(...REPS),
  manager: fc.constantFrom(...MANAGERS),
  sort: fc.constantFrom('created_at', 'value', 'updated_at'),
  order: fc.constantFrom('asc', 'desc'),
});

interface LeadJson {
  id: string;
  owner: string | null;
  source: string | null;
}
interface TaskJson {
  id: string;
  lead: string;
  assignee: string | null;
  template: string;
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

describe.each(dialects)('reach on %s', (dialect) => {
  let server: TestServer;
  let admin: string;
  const readers = new Map<string, string>();
  let run = 0;

  beforeAll(async () => {
    server = await startServer(dialect);
    admin = await tokenFor(server, 'admin');
    for (const id of IDS) readers.set(id, await tokenFor(server, id, ['leads:read']));
  });
  afterAll(() => server.close());

  async function ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await call(server, method, path, { token: admin, ...(body !== undefined ? { body } : {}) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body as T;
  }

  /** Every page of a list, following nextCursor; fails on a repeated item. */
  async function all<T extends { id: string }>(who: string, path: string): Promise<T[]> {
    const token = readers.get(who) ?? '';
    const out: T[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const sep = path.includes('?') ? '&' : '?';
      const r = await call(server, 'GET', cursor === null ? path : `${path}${sep}cursor=${cursor}`, { token });
      expect(r.status, `${who} GET ${path}: ${r.text}`).toBe(200);
      const page = r.body as Page<T>;
      out.push(...page.items);
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(new Set(out.map((x) => x.id)).size, `${who} ${path}: an item on two pages`).toBe(out.length);
    return out;
  }

  it('lists exactly the leads and tasks each caller reaches', async () => {
    await fc.assert(
      fc.asyncProperty(planArb, async (plan) => {
        const source = `reach-${dialect}-${++run}`;
        const owners = new Map<string, string>();
        for (const l of plan.leads) {
          const lead = await ok<{ id: string; openTasks: { id: string }[] }>('POST', '/api/v1/leads', {
            owner: l.owner,
            contact: { name: `Lead of ${l.owner}` },
            fields: { source, value: l.value },
          });
          owners.set(lead.id, l.owner);
          if (l.handover !== null) {
            const first = lead.openTasks[0]?.id;
            if (!first) throw new Error(`lead ${lead.id} has no open task`);
            await ok('POST', `/api/v1/tasks/${encodeURIComponent(first)}/complete`);
            // To the owner it has already, a reassignment is refused (409 already_owner) and changes nothing.
            if (l.handover !== l.owner)
              await ok('POST', `/api/v1/leads/${encodeURIComponent(lead.id)}/reassign`, { owner: l.handover });
            owners.set(lead.id, l.handover);
          }
        }

        // The tasks of this run's leads, as the admin (who reaches everything) sees them.
        const tasks: TaskJson[] = [];
        for (const id of owners.keys())
          tasks.push(
            ...(await ok<Page<TaskJson>>('GET', `/api/v1/tasks?lead=${encodeURIComponent(id)}&limit=50`)).items,
          );
        const firstCalls = tasks.filter((t) => t.template === 'first-call');
        expect(firstCalls.map((t) => [t.lead, t.assignee]).sort()).toEqual(
          plan.leads.map((l, i) => [[...owners.keys()][i], l.owner]).sort(),
        );

        for (const who of [plan.rep, plan.manager, 'admin']) {
          const leads = await all<LeadJson>(
            who,
            `/api/v1/leads?source=${source}&limit=3&sort=${plan.sort}&order=${plan.order}`,
          );
          const want = [...owners].filter(([, owner]) => reaches(who, owner)).map(([id]) => id);
          expect(leads.map((l) => l.id).sort(), `leads ${who} sees`).toEqual(want.sort());
          for (const l of leads) expect(l.owner).toBe(owners.get(l.id));

          const seen = (await all<TaskJson>(who, '/api/v1/tasks?limit=20')).filter((t) => owners.has(t.lead));
          const wantTasks = tasks
            .filter((t) => reaches(who, owners.get(t.lead) ?? null) || reaches(who, t.assignee))
            .map((t) => t.id);
          expect(seen.map((t) => t.id).sort(), `tasks ${who} sees`).toEqual(wantTasks.sort());
        }
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});
