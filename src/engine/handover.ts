import type { DomainError } from '../domain/errors.js';
import type { Actor, EngineEvent } from '../domain/events.js';
import { handoverProblem, taskTaker, type HandoverTarget } from '../domain/handover.js';
import { appendAudit } from '../store/audit.js';
import { latestEffectiveProcess } from '../store/availability.js';
import { withTransaction, type Store } from '../store/db.js';
import { openLeadsOf, openTasksOf } from '../store/user-work.js';
import type { EventOutcome } from './engine.js';

/**
 * A person's open work handed to others (src/domain/handover.ts says when it may start): each lead
 * and each task goes through the engine as its own `lead.reassigned` or `task.reassigned` event, so
 * every one is atomic, gated and explained in its lead's run log like a single reassignment, and a
 * run cut short is finished by running it again. Leads go first, since a lead's owner tasks follow
 * it; the tasks left are the ones assigned to the person by name or by team rotation.
 */

export interface HandoverRequest {
  from: string;
  target: HandoverTarget;
  actor: Actor;
  /** Who asked, for the audit log. */
  by: string;
  now: number;
  /** Say what would move, change nothing. */
  dryRun: boolean;
}

export interface HandoverResult {
  from: string;
  /** The person who takes over, or null when the assignment rules place each lead. */
  to: string | null;
  dryRun: boolean;
  /** Leads handed over (or, in a dry run, that would be), with their new owner (null: the rules decide). */
  leads: { lead: string; owner: string | null }[];
  tasks: { task: string; lead: string; assignee: string | null }[];
  /** What stayed with the person, and why (a rule refused it, or nobody could take the task). */
  kept: { lead: string; task: string | null; code: string; message: string }[];
}

export class HandoverRefused extends Error {}

/**
 * How events reach the engine: the CLI's own Engine, or the server's group committer. Each event
 * applies only if its lead is still at the version given (`ifVersion`), so a lead someone else
 * changed meanwhile (another handover, a reassignment) is left for a second run to judge.
 */
export type SubmitMany = (events: { event: EngineEvent; ifVersion: number }[]) => Promise<EventOutcome[]>;

const CHUNK = 200;

export async function handOver(store: Store, submitMany: SubmitMany, req: HandoverRequest): Promise<HandoverResult> {
  // With the availability overrides: whether the taker is active and at work is judged as routing would.
  const current = await latestEffectiveProcess(store.db);
  if (!current) throw new HandoverRefused('no process has been applied yet: there is no work to hand over');
  const problem = handoverProblem(current.process, req.from, req.target, req.now);
  if (problem) throw new HandoverRefused(problem);
  const to = req.target.kind === 'user' ? req.target.user : null;
  const result: HandoverResult = { from: req.from, to, dryRun: req.dryRun, leads: [], tasks: [], kept: [] };

  const leads = await openLeadsOf(store.db, req.from);
  const tasksBefore = await openTasksOf(store.db, req.from);
  if (leads.length + tasksBefore.length === 0 && !current.process.users.some((u) => u.id === req.from))
    throw new HandoverRefused(`"${req.from}" is not a user of the process and holds no open leads or tasks`);
  if (req.dryRun) {
    result.leads = leads.map((l) => ({ lead: l.id, owner: to }));
    // A task on one of the leads goes to whoever gets the lead, which the rules decide only then.
    const owned = new Set(leads.map((l) => l.id));
    // A task given by team rotation goes round the team, which only the engine can turn.
    for (const t of tasksBefore) {
      const taker = owned.has(t.lead) ? null : taskTaker(req.target, req.from, t);
      result.tasks.push({
        task: t.id,
        lead: t.lead,
        assignee: owned.has(t.lead) ? to : taker?.kind === 'user' ? taker.user : null,
      });
    }
    return result;
  }

  for (let i = 0; i < leads.length; i += CHUNK) {
    const chunk = leads.slice(i, i + CHUNK);
    const events = chunk.map((l) => ({
      event: {
        type: 'lead.reassigned',
        lead: l.id,
        ...(to !== null ? { owner: to } : {}),
        actor: req.actor,
      } satisfies EngineEvent,
      ifVersion: l.version,
    }));
    const outcomes = await submitMany(events);
    outcomes.forEach((out, k) => {
      const lead = chunk[k]?.id ?? '';
      if (!out.ok) return result.kept.push({ lead, task: null, ...refusal(out.error, lead) });
      if (out.lead.owner === req.from)
        return result.kept.push({
          lead,
          task: null,
          code: 'routed_back',
          message: `the assignment rules gave lead ${lead} back to ${req.from}`,
        });
      result.leads.push({ lead, owner: out.lead.owner });
    });
  }

  // Read after the leads moved: owner tasks went with them, and a task's taker may be its lead's new owner.
  const tasks = await openTasksOf(store.db, req.from);
  const left = new Set(tasks.map((t) => t.id));
  const newOwner = new Map(result.leads.map((l) => [l.lead, l.owner]));
  for (const t of tasksBefore)
    if (!left.has(t.id) && newOwner.has(t.lead))
      result.tasks.push({ task: t.id, lead: t.lead, assignee: newOwner.get(t.lead) ?? null });
  const events: { event: EngineEvent; ifVersion: number; lead: string; task: string }[] = [];
  for (const t of tasks) {
    const taker = taskTaker(req.target, req.from, t);
    if (taker === null) {
      result.kept.push({
        lead: t.lead,
        task: t.id,
        code: 'no_taker',
        message: `task ${t.id} stays with ${req.from}: its lead ${t.lead} has ${t.leadOwner === null ? 'no owner' : `${req.from} as owner`} to take it over`,
      });
      continue;
    }
    events.push({
      event: {
        type: 'task.reassigned',
        lead: t.lead,
        task: t.id,
        ...(taker.kind === 'user' ? { assignee: taker.user } : {}),
        actor: req.actor,
      },
      ifVersion: t.leadVersion,
      lead: t.lead,
      task: t.id,
    });
  }
  for (let i = 0; i < events.length; i += CHUNK) {
    const chunk = events.slice(i, i + CHUNK);
    const outcomes = await submitMany(chunk.map((c) => ({ event: c.event, ifVersion: c.ifVersion })));
    outcomes.forEach((out, k) => {
      const c = chunk[k];
      if (!c) return;
      if (!out.ok) return result.kept.push({ lead: c.lead, task: c.task, ...refusal(out.error, c.lead) });
      // Read from the lead as decided: a team's rotation picks the taker only in the engine.
      const assignee = out.lead.tasks.find((t) => t.id === c.task)?.assignee ?? null;
      if (assignee === req.from)
        return result.kept.push({
          lead: c.lead,
          task: c.task,
          code: 'no_taker',
          message: `task ${c.task} stays with ${req.from}: nobody else in its team, nor its lead's owner, can take it`,
        });
      result.tasks.push({ task: c.task, lead: c.lead, assignee });
    });
  }

  if (result.leads.length + result.tasks.length + result.kept.length === 0) return result;
  await withTransaction(store, (tx) =>
    appendAudit(
      tx,
      {
        actor: req.by,
        action: 'user.handover',
        target: req.from,
        details: { to, leads: result.leads.length, tasks: result.tasks.length, kept: result.kept.length },
      },
      req.now,
    ),
  );
  return result;
}

/** A refusal as the result lists it; a lead changed meanwhile says what to do. */
function refusal(error: DomainError, lead: string): { code: string; message: string } {
  if (error.code === 'stale_version')
    return {
      code: error.code,
      message: `lead ${lead} changed while it was being handed over (someone else moved or reassigned it): run the handover again to judge it as it is now`,
    };
  return { code: error.code, message: error.message };
}
