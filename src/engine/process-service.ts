import { formatProblem, parseProcess } from '../domain/process-load.js';
import { diffProcesses, type ProcessDiff } from '../domain/process-diff.js';
import { backfillFor, describeImpacts, needsEngine, stageImpacts } from '../domain/process-impact.js';
import type { Process } from '../domain/process-schema.js';
import { withTransaction, type Store, type Tx } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { LOCK_ORDER } from '../store/leads.js';
import { insertProcessVersion, latestProcess, lockProcessVersions } from '../store/processes.js';
import { Engine, type TimedEvent } from './engine.js';

/**
 * Applying a process file. Leads in flight follow the new version in place when their stage
 * still exists (stages are identified by id, so a renamed stage keeps its leads and history).
 * A version that removes a stage or pipeline still holding open leads is refused, naming them:
 * move those leads first. Closed leads keep the version they closed under. Open leads in a stage
 * whose goal or gate changed, or that gains tasks when `backfillTasks` is asked, also go through
 * the engine (one `process.upgraded` event each, in the same transaction): their run log then
 * says what the version did to them (docs/process.md, versions and leads in flight).
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
  const open = await openLeadCounts(store.db);
  const inFlight = describeImpacts(
    stageImpacts(current?.process ?? null, next),
    countIn(open),
    opts.backfillTasks === true,
  );
  return { ...diff, inFlight };
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
    if (store.dialect === 'postgres') {
      // First the lock new and reopened leads take to read the latest version, then the open
      // leads: the order the engine takes them in, so neither waits for the other in a cycle.
      await lockProcessVersions(tx, 'apply');
      await lockOpenLeads(tx);
    }
    const current = await latestProcess(tx);
    const open = await openLeadCounts(tx);
    const impacts = stageImpacts(current?.process ?? null, next);
    const diff = {
      ...diffProcesses(current?.process ?? null, next),
      inFlight: describeImpacts(impacts, countIn(open), backfill),
    };
    if (current && diff.changes.length === 0) {
      return {
        version: current.version,
        diff,
        migratedLeads: 0,
        checkedLeads: 0,
        advancedLeads: 0,
        backfilledTasks: 0,
        unchanged: true,
      };
    }
    const orphans = open.filter((g) => {
      const pl = next.pipelines.find((p) => p.id === g.pipeline);
      return !pl || !pl.stages.some((s) => s.id === g.stage);
    });
    if (orphans.length > 0) {
      throw new ProcessRejected(
        orphans.map(
          (o) =>
            `pipelines: stage ${o.pipeline}/${o.stage} is removed but holds ${o.n} open lead(s); move them to another stage first`,
        ),
      );
    }
    const version = await insertProcessVersion(tx, next, text, now, by);
    // Before the bulk move below, so each lead's run log says which version it came from.
    const engineRun = await upgradeChangedStages(store, tx, version, impacts, backfill, now, by);
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
            updated_at: now,
          }))
          .where('status', '=', 'open')
          .where('pipeline', '=', pl.id)
          .where('stage', '=', stage.id)
          .executeTakeFirst();
        migrated += Number(res.numUpdatedRows);
      }
    }
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
      unchanged: false,
    };
  });
}

/**
 * PostgreSQL: the open leads' rows are locked before anything is read, in id order as the engine
 * locks a batch's, so an event on one of them either commits first (and apply then reads the
 * stage it left the lead in) or waits for the apply and decides under the new version. Without
 * it, an event that moved a lead while apply was running left it on the old version: apply's
 * update for its old stage waited for the lead's lock, then no longer matched it. SQLite's
 * BEGIN IMMEDIATE already runs one writer at a time.
 */
async function lockOpenLeads(tx: Tx): Promise<void> {
  await tx.selectFrom('leads').select('id').where('status', '=', 'open').orderBy(LOCK_ORDER).forUpdate().execute();
}

/**
 * The open leads of the stages whose goal or gate changed (or that gain tasks, with backfill) go
 * through the engine in this transaction: a refusal or a crash leaves no version behind.
 */
async function upgradeChangedStages(
  store: Store,
  tx: Tx,
  version: number,
  impacts: ReturnType<typeof stageImpacts>,
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
