import type { Tx } from './db.js';

/** A readable dump of everything the engine wrote: simulation output and scenario expectations. */

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export interface Snapshot {
  leads: {
    id: string;
    pipeline: string;
    stage: string;
    status: string;
    owner: string | null;
    process_version: number;
    fields: Record<string, unknown>;
    created_at: string | null;
    closed_at: string | null;
    close_reason: string | null;
    error: string | null;
  }[];
  stays: {
    lead: string;
    pipeline: string;
    stage: string;
    entered_at: string | null;
    exited_at: string | null;
    exit: string | null;
    via: string;
    stalled_at: string | null;
  }[];
  tasks: {
    lead: string;
    stage: string;
    task: string;
    status: string;
    assignee: string | null;
    due_at: string | null;
    completed_at: string | null;
    skip_reason: string | null;
  }[];
  owners: { lead: string; from: string | null; to: string; reason: string; rule: string | null; at: string | null }[];
  outbox: { id: string; lead: string; kind: string; status: string; payload: Record<string, unknown> }[];
}

export async function snapshot(tx: Tx): Promise<Snapshot> {
  const [leads, stays, tasks, owners, outbox] = await Promise.all([
    tx.selectFrom('leads').selectAll().orderBy('created_at').orderBy('id').execute(),
    tx.selectFrom('stage_stays').selectAll().orderBy('lead_id').orderBy('seq').execute(),
    tx
      .selectFrom('tasks')
      .innerJoin('stage_stays', 'stage_stays.id', 'tasks.stay_id')
      .select([
        'tasks.lead_id',
        'tasks.stay_id',
        'stage_stays.seq',
        'stage_stays.stage',
        'tasks.template',
        'tasks.status',
        'tasks.assignee',
        'tasks.due_at',
        'tasks.completed_at',
        'tasks.skip_reason',
      ])
      .orderBy('tasks.lead_id')
      .orderBy('stage_stays.seq')
      .orderBy('tasks.id')
      .execute(),
    tx.selectFrom('owner_history').selectAll().orderBy('lead_id').orderBy('seq').orderBy('idx').execute(),
    tx.selectFrom('outbox').selectAll().orderBy('created_at').orderBy('id').execute(),
  ]);
  return {
    leads: leads.map((l) => ({
      id: l.id,
      pipeline: l.pipeline,
      stage: l.stage,
      status: l.status,
      owner: l.owner,
      process_version: l.process_version,
      fields: JSON.parse(l.fields) as Record<string, unknown>,
      created_at: iso(l.created_at),
      closed_at: iso(l.closed_at),
      close_reason: l.close_reason,
      error: l.error,
    })),
    stays: stays.map((s) => ({
      lead: s.lead_id,
      pipeline: s.pipeline,
      stage: s.stage,
      entered_at: iso(s.entered_at),
      exited_at: iso(s.exited_at),
      exit: s.exit_kind,
      via: s.entered_via,
      stalled_at: iso(s.stalled_at),
    })),
    tasks: tasks.map((t) => ({
      lead: t.lead_id,
      stage: t.stage,
      task: t.template,
      status: t.status,
      assignee: t.assignee,
      due_at: iso(t.due_at),
      completed_at: iso(t.completed_at),
      skip_reason: t.skip_reason,
    })),
    owners: owners.map((o) => ({
      lead: o.lead_id,
      from: o.from_owner,
      to: o.to_owner,
      reason: o.reason,
      rule: o.rule,
      at: iso(o.at),
    })),
    outbox: outbox.map((o) => ({
      id: o.id,
      lead: o.lead_id,
      kind: o.kind,
      status: o.status,
      payload: JSON.parse(o.payload) as Record<string, unknown>,
    })),
  };
}
