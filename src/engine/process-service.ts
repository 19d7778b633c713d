import { formatProblem, parseProcess } from '../domain/process-load.js';
import {
  overridesAfterApply,
  problemsAdded,
  problemsOfOverride,
  withAvailability,
  type AvailabilityField,
} from '../domain/availability.js';
import { diffProcesses, type ProcessDiff } from '../domain/process-diff.js';
import {
  backfillFor,
  deactivatedUsersWithWork,
  describeDeactivatedUser,
  describeImpacts,
  describeOverdueChange,
  describeRemovedHolding,
  describeRemovedUser,
  needsEngine,
  overdueAfterMs,
  overdueHoursChange,
  removedHoldingProblem,
  removedHoldings,
  removedUserProblem,
  removedUsersWithWork,
  stageImpacts,
  stallAfterMs,
  type StageImpact,
} from '../domain/process-impact.js';
import type { Process } from '../domain/process-schema.js';
import { keepOverrides, noteAvailabilityChange, storedOverrides } from '../store/availability.js';
import { withTransaction, type Store, type Tx } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { updatedAtNoEarlierThan } from '../store/leads.js';
import { lockLeadsForApply, reindexStages, stageReindexes, type Reindexed } from '../store/stage-reindex.js';
import { openWorkByUser } from '../store/user-work.js';
import { insertProcessVersion, latestProcess, lockProcessVersions } from '../store/processes.js';
import {
  openTaskCounts,
  rescheduleThresholds,
  stalledOpenLeadCounts,
  type NewThresholds,
  type Rescheduled,
} from '../store/threshold-refresh.js';
import { Engine, type TimedEvent } from './engine.js';

/**
 * Applying a process file. Leads in flight follow the new version in place when their stage
 * still exists (stages are identified by id, so a renamed stage keeps its leads and history).
 * A version that removes a stage or pipeline still holding open leads is refused, naming them:
 * move those leads first; so is one that removes a person who owns open leads or holds open
 * tasks (reassign them, or keep the person with `active: false`). Closed leads keep the version they closed under. Open leads in a stage
 * whose goal or gate changed, or that gains tasks when `backfillTasks` is asked, also go through
 * the engine (one `process.upgraded` event each, in the same transaction): their run log then
 * says what the version did to them (docs/process.md, versions and leads in flight). A changed
 * stall threshold or overdue_after_hours moves the open stays' stall times and the open tasks'
 * overdue times in the same transaction; alerts already sent stay sent. A version that moves a
 * pipeline's stages (inserted, reordered, removed) re-indexes that pipeline's stays and lead rows in
 * the same transaction, so reports compare history with the current positions (stage-reindex.ts).
 */

export class ProcessRejected extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
  }
}

export function loadProcessText(text: string): Process {
  const parsed = parseProcess(text);
  if (!parsed.ok) throw new ProcessRejected(parsed.problems.map(formatProblem));
  return parsed.process;
}

/** The diff, plus what it means for the open leads in the stages it changes (`inFlight`). */
// Type aliases, not interfaces: the API's response schemas take them as plain JSON objects.
export type InFlightDiff = ProcessDiff & {
  inFlight: string[];
};

export interface ApplyOptions {
  /** Create the tasks a stage gains for the open leads already in it, due from the apply time. */
  backfillTasks?: boolean;
}

export async function diffAgainstCurrent(store: Store, text: string, opts: ApplyOptions = {}): Promise<InFlightDiff> {
  const next = loadProcessText(text);
  const current = await latestProcess(store.db);
  const diff = diffProcesses(current?.process ?? null, next);
  const inFlight = await describeInFlight(store.db, current?.process ?? null, next, opts.backfillTasks === true);
  return { ...diff, inFlight };
}

/**
 * The lines `diff` and `apply` print for the leads in flight: removed stages and pipelines that
 * still hold open leads, and removed people with open work (apply refuses those), people made
 * inactive with open work, then per changed stage what its open leads get, then the open tasks'
 * new overdue time.
 */
async function describeInFlight(
  tx: Tx,
  current: Process | null,
  next: Process,
  backfill: boolean,
  open?: readonly OpenCount[],
): Promise<string[]> {
  const counts = open ?? (await openLeadCounts(tx));
  const impacts = stageImpacts(current, next);
  const stalled = impacts.some((i) => i.stallDays) ? await stalledOpenLeadCounts(tx) : [];
  const work = await openWorkByUser(tx);
  const lines = [
    ...removedHoldings(current, next, counts).map(describeRemovedHolding),
    ...removedUsersWithWork(current, next, work).map(describeRemovedUser),
    // Not refused: keeping a leaver with active: false is the documented way; said so nobody is surprised.
    ...deactivatedUsersWithWork(current, next, work).map(describeDeactivatedUser),
    ...describeImpacts(impacts, countIn(counts), backfill, countIn(stalled)),
  ];
  const overdue = overdueHoursChange(current, next);
  if (overdue) {
    const tasks = await openTaskCounts(tx);
    lines.push(describeOverdueChange(overdue, tasks.open, tasks.alerted));
  }
  const availability = await availabilityAfter(tx, current, next);
  for (const r of availability.replaced) lines.push(describeReplaced(r));
  lines.push(...overrideConflicts(next, availability).map((p) => `! ${p}`));
  return lines;
}

/** What the file does to the availability overrides set through the API (domain/availability.ts). */
async function availabilityAfter(tx: Tx, current: Process | null, next: Process) {
  const stored = await storedOverrides(tx);
  return { stored, ...overridesAfterApply(current, next, new Map(stored.map((s) => [s.user, s.override]))) };
}

/**
 * The problems the file's own checks find once the overrides it keeps are merged in (an override
 * keeping the new default owner inactive, say), each naming the override to blame: apply refuses
 * them, as PUT /users/{id}/availability refuses making them, so routing never sees that process.
 */
function overrideConflicts(next: Process, availability: Awaited<ReturnType<typeof availabilityAfter>>): string[] {
  const { kept, stored } = availability;
  const out: string[] = [];
  for (const [user, override] of kept) {
    const s = stored.find((x) => x.user === user);
    const set = `set${s?.changedBy ? ` by ${s.changedBy}` : ''}${s ? ` at ${new Date(s.changedAt).toISOString()}` : ''}`;
    const fields = Object.keys(override).join(', ');
    for (const p of problemsOfOverride(next, kept, user))
      out.push(
        `${p} (because of ${user}'s availability override of ${fields}, ${set} through PUT /users/${user}/availability: clear it there, or change the file)`,
      );
  }
  // Problems only several overrides together cause (each alone is fine).
  if (out.length === 0 && kept.size > 0)
    for (const p of problemsAdded(next, withAvailability(next, kept)))
      out.push(
        `${p} (because of the availability overrides of ${[...kept.keys()].join(', ')} set through PUT /users/{id}/availability)`,
      );
  return out;
}

function describeReplaced(r: { user: string; fields: AvailabilityField[] }): string {
  return `~ availability of ${r.user}: ${r.fields.join(', ')} set through the API replaced by the file's`;
}

export type ApplyResult = {
  version: number;
  diff: InFlightDiff;
  migratedLeads: number;
  /** Open leads the engine saw because their stage's goal, gate or (backfilled) tasks changed. */
  checkedLeads: number;
  /** Of those, how many left their stage on apply because its new goal was met. */
  advancedLeads: number;
  /** Tasks created by `backfillTasks`. */
  backfilledTasks: number;
  /** Open stays given the new stall time, open tasks the new overdue time. */
  rescheduled: Rescheduled;
  /** Stays and lead rows given their stages' new positions. */
  reindexed: Reindexed;
  /** Availability overrides the file replaced, because it changed those fields of the person. */
  availabilityReplaced: { user: string; fields: AvailabilityField[] }[];
  unchanged: boolean;
};

interface OpenCount {
  pipeline: string;
  stage: string;
  n: number;
}

async function openLeadCounts(tx: Tx): Promise<OpenCount[]> {
  const rows = await tx
    .selectFrom('leads')
    .select(['pipeline', 'stage', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', '=', 'open')
    .groupBy(['pipeline', 'stage'])
    .execute();
  return rows.map((r) => ({ pipeline: r.pipeline, stage: r.stage, n: Number(r.n) }));
}

function countIn(open: readonly OpenCount[]): (pipeline: string, stage: string) => number {
  return (pipeline, stage) => open.find((o) => o.pipeline === pipeline && o.stage === stage)?.n ?? 0;
}

export async function applyProcess(
  store: Store,
  text: string,
  now: number,
  by: string | null,
  opts: ApplyOptions = {},
): Promise<ApplyResult> {
  const next = loadProcessText(text);
  const backfill = opts.backfillTasks === true;
  return withTransaction(store, async (tx) => {
    // PostgreSQL: first the lock new and reopened leads take to read the latest version, then the
    // leads: the order the engine takes them in, so neither waits for the other in a cycle.
    if (store.dialect === 'postgres') await lockProcessVersions(tx, 'apply');
    // No other apply can change it now.
    const current = await latestProcess(tx);
    const reindexes = stageReindexes(current?.process ?? null, next);
    if (store.dialect === 'postgres') await lockLeadsForApply(tx, reindexes);
    const open = await openLeadCounts(tx);
    const impacts = stageImpacts(current?.process ?? null, next);
    const diff = {
      ...diffProcesses(current?.process ?? null, next),
      inFlight: await describeInFlight(tx, current?.process ?? null, next, backfill, open),
    };
    if (current && diff.changes.length === 0) {
      return {
        version: current.version,
        diff,
        migratedLeads: 0,
        checkedLeads: 0,
        advancedLeads: 0,
        backfilledTasks: 0,
        rescheduled: { stays: 0, tasks: 0 },
        reindexed: { stays: 0, leads: 0 },
        availabilityReplaced: [],
        unchanged: true,
      };
    }
    const orphans = [
      ...removedHoldings(current?.process ?? null, next, open).map(removedHoldingProblem),
      ...removedUsersWithWork(current?.process ?? null, next, await openWorkByUser(tx)).map(removedUserProblem),
    ];
    if (orphans.length > 0) throw new ProcessRejected(orphans);
    // Before the engine below routes anything: a field the file changes for a person replaces
    // the override of it; the rest stay. Counted as a change, so every engine reloads them.
    await noteAvailabilityChange(tx);
    const availability = await availabilityAfter(tx, current?.process ?? null, next);
    const conflicts = overrideConflicts(next, availability);
    if (conflicts.length > 0) throw new ProcessRejected(conflicts);
    await keepOverrides(tx, availability.stored, availability.kept);
    const version = await insertProcessVersion(tx, next, text, now, by);
    // Before the bulk move below, so each lead's run log says which version it came from.
    const engineRun = await upgradeChangedStages(store, tx, version, impacts, backfill, now, by);
    // After the engine: a lead it advanced entered its new stage under the new thresholds already.
    const rescheduled = await rescheduleThresholds(tx, newThresholds(current?.process ?? null, next, impacts));
    let migrated = 0;
    for (const pl of next.pipelines) {
      for (const [index, stage] of pl.stages.entries()) {
        const res = await tx
          .updateTable('leads')
          // A new version of the lead: an engine batch or an If-Match that read it before sees it
          // changed, and a client syncing by updated_since reads it again.
          .set((eb) => ({
            process_version: version,
            stage_index: index,
            version: eb('version', '+', 1),
            updated_at: updatedAtNoEarlierThan(now),
          }))
          .where('status', '=', 'open')
          .where('pipeline', '=', pl.id)
          .where('stage', '=', stage.id)
          .executeTakeFirst();
        migrated += Number(res.numUpdatedRows);
      }
    }
    // After the engine, whose leads that advanced left a stay with its old index behind.
    const reindexed = await reindexStages(tx, reindexes, now);
    // Recorded in the same transaction: no version without its audit row, whoever applied it.
    await appendAudit(
      tx,
      {
        actor: by ?? 'unknown',
        action: 'process.applied',
        target: `v${version}`,
        details: {
          changes: diff.changes.length,
          migratedLeads: migrated,
          checkedLeads: engineRun.checked,
          advancedLeads: engineRun.advanced,
          backfilledTasks: engineRun.backfilled,
          rescheduledStays: rescheduled.stays,
          rescheduledTasks: rescheduled.tasks,
          reindexedStays: reindexed.stays,
          reindexedLeads: reindexed.leads,
          ...(availability.replaced.length > 0 ? { availabilityReplaced: availability.replaced } : {}),
        },
      },
      now,
    );
    return {
      version,
      diff,
      migratedLeads: migrated,
      checkedLeads: engineRun.checked,
      advancedLeads: engineRun.advanced,
      backfilledTasks: engineRun.backfilled,
      rescheduled,
      reindexed,
      availabilityReplaced: availability.replaced,
      unchanged: false,
    };
  });
}

/** The stall and overdue times the open leads' stays and tasks move to, for what changed. */
function newThresholds(current: Process | null, next: Process, impacts: readonly StageImpact[]): NewThresholds {
  const overdue = overdueHoursChange(current, next);
  return {
    stall: impacts.flatMap((i) =>
      i.stallDays ? [{ pipeline: i.pipeline, stage: i.stage, afterMs: stallAfterMs(i.stallDays.after) }] : [],
    ),
    overdueAfterMs: overdue ? overdueAfterMs(overdue.after) : null,
  };
}

/**
 * The open leads of the stages whose goal or gate changed (or that gain tasks, with backfill) go
 * through the engine in this transaction: a refusal or a crash leaves no version behind.
 */
async function upgradeChangedStages(
  store: Store,
  tx: Tx,
  version: number,
  impacts: readonly StageImpact[],
  backfill: boolean,
  now: number,
  by: string | null,
): Promise<{ checked: number; advanced: number; backfilled: number }> {
  const events: TimedEvent[] = [];
  for (const impact of impacts) {
    if (!needsEngine(impact, backfill)) continue;
    const ids = await tx
      .selectFrom('leads')
      .select('id')
      .where('status', '=', 'open')
      .where('pipeline', '=', impact.pipeline)
      .where('stage', '=', impact.stage)
      .orderBy('id')
      .execute();
    for (const { id } of ids)
      events.push({
        event: {
          type: 'process.upgraded',
          lead: id,
          version,
          backfillTasks: backfillFor(impact, backfill),
          actor: { kind: 'system', ...(by ? { id: by } : {}) },
        },
        at: now,
      });
  }
  if (events.length === 0) return { checked: 0, advanced: 0, backfilled: 0 };
  const outcomes = await new Engine(store).handleWithin(tx, events);
  let advanced = 0;
  let backfilled = 0;
  const refusals: string[] = [];
  outcomes.forEach((o, i) => {
    const lead = events[i]?.event.lead ?? '?';
    if (!o.ok) return void refusals.push(`lead ${lead}: ${o.error.message}`);
    if (o.log.some((l) => l.kind === 'goal')) advanced++;
    backfilled += o.log.filter((l) => l.kind === 'task' && l.inputs?.['backfilled'] === true).length;
  });
  if (refusals.length > 0) throw new ProcessRejected(refusals);
  return { checked: events.length, advanced, backfilled };
}
