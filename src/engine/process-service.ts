import { formatProblem, parseProcess } from '../domain/process-load.js';
import { diffProcesses, type ProcessDiff } from '../domain/process-diff.js';
import type { Process } from '../domain/process-schema.js';
import { withTransaction, type Store } from '../store/db.js';
import { appendAudit } from '../store/audit.js';
import { insertProcessVersion, latestProcess } from '../store/processes.js';

/**
 * Applying a process file. Leads in flight follow the new version in place when their stage
 * still exists (stages are identified by id, so a renamed stage keeps its leads and history).
 * A version that removes a stage or pipeline still holding open leads is refused, naming them:
 * move those leads first. Closed leads keep the version they closed under.
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

export async function diffAgainstCurrent(store: Store, text: string): Promise<ProcessDiff> {
  const next = loadProcessText(text);
  const current = await latestProcess(store.db);
  return diffProcesses(current?.process ?? null, next);
}

export interface ApplyResult {
  version: number;
  diff: ProcessDiff;
  migratedLeads: number;
  unchanged: boolean;
}

export async function applyProcess(store: Store, text: string, now: number, by: string | null): Promise<ApplyResult> {
  const next = loadProcessText(text);
  return withTransaction(store, async (tx) => {
    const current = await latestProcess(tx);
    const diff = diffProcesses(current?.process ?? null, next);
    if (current && diff.changes.length === 0) {
      return { version: current.version, diff, migratedLeads: 0, unchanged: true };
    }
    const open = await tx
      .selectFrom('leads')
      .select(['pipeline', 'stage', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', '=', 'open')
      .groupBy(['pipeline', 'stage'])
      .execute();
    const orphans = open.filter((g) => {
      const pl = next.pipelines.find((p) => p.id === g.pipeline);
      return !pl || !pl.stages.some((s) => s.id === g.stage);
    });
    if (orphans.length > 0) {
      throw new ProcessRejected(
        orphans.map(
          (o) =>
            `pipelines: stage ${o.pipeline}/${o.stage} is removed but holds ${Number(o.n)} open lead(s); move them to another stage first`,
        ),
      );
    }
    const version = await insertProcessVersion(tx, next, text, now, by);
    let migrated = 0;
    for (const pl of next.pipelines) {
      for (const [index, stage] of pl.stages.entries()) {
        const res = await tx
          .updateTable('leads')
          .set({ process_version: version, stage_index: index })
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
        details: { changes: diff.changes.length, migratedLeads: migrated },
      },
      now,
    );
    return { version, diff, migratedLeads: migrated, unchanged: false };
  });
}
