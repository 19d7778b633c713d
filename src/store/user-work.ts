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

/** One of a person's open leads, or one of their open tasks on an open lead with its lead's owner. */
export interface OpenLeadRef {
  id: string;
  /** As read: a handover applies only if the lead is still as it was (still theirs). */
  version: number;
}
export interface OpenTaskRef {
  id: string;
  lead: string;
  /** Given by team rotation ('team'), by name ('user') or as the lead owner's ('owner'). */
  rule: string;
  leadOwner: string | null;
  leadVersion: number;
}

/** The open leads a person owns, oldest first (ids are ordered by creation time). */
export async function openLeadsOf(tx: Tx, user: string): Promise<OpenLeadRef[]> {
  return tx
    .selectFrom('leads')
    .select(['id', 'version'])
    .where('owner', '=', user)
    .where('status', '=', 'open')
    .orderBy('id')
    .execute();
}

/** The open tasks assigned to a person on open leads (a closed lead's tasks are settled). */
export async function openTasksOf(tx: Tx, user: string): Promise<OpenTaskRef[]> {
  const rows = await tx
    .selectFrom('tasks')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .select(['tasks.id', 'tasks.lead_id', 'tasks.assignee_rule', 'leads.owner', 'leads.version'])
    .where('tasks.assignee', '=', user)
    .where('tasks.status', '=', 'open')
    .where('leads.status', '=', 'open')
    .orderBy('tasks.lead_id')
    .orderBy('tasks.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    lead: r.lead_id,
    rule: r.assignee_rule,
    leadOwner: r.owner,
    leadVersion: r.version,
  }));
}
