import type { Tx } from './db.js';

/** A person's open work: the open leads they own and the open tasks of open leads assigned to them. */
export interface UserWork {
  user: string;
  leads: number;
  tasks: number;
}

/** Everyone with open work, for what a process version that drops people would leave behind. */
export async function openWorkByUser(tx: Tx): Promise<UserWork[]> {
  const [leads, tasks] = await Promise.all([
    tx
      .selectFrom('leads')
      .select(['owner', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'open')
      .where('owner', 'is not', null)
      .groupBy('owner')
      .execute(),
    tx
      .selectFrom('tasks')
      .innerJoin('leads', 'leads.id', 'tasks.lead_id')
      .select(['tasks.assignee', (eb) => eb.fn.countAll<number>().as('n')])
      .where('leads.status', '=', 'open')
      .where('tasks.status', '=', 'open')
      .where('tasks.assignee', 'is not', null)
      .groupBy('tasks.assignee')
      .execute(),
  ]);
  const work = new Map<string, UserWork>();
  const of = (user: string): UserWork => {
    let w = work.get(user);
    if (!w) work.set(user, (w = { user, leads: 0, tasks: 0 }));
    return w;
  };
  for (const r of leads) if (r.owner !== null) of(r.owner).leads = Number(r.n);
  for (const r of tasks) if (r.assignee !== null) of(r.assignee).tasks = Number(r.n);
  return [...work.values()];
}
