import type { Process } from '../domain/process-schema.js';
import type { SimulationResult } from '../simulate.js';
import type { BoardData } from '../store/queries.js';
import { formatTime, plural, table } from './output.js';

/**
 * The pipeline board as text: for each pipeline its stages in order, the open leads in each
 * with owner and open tasks, then won/lost counts, rejected events and the outbox by kind.
 * The same renderer serves the live database and a simulation result.
 */

export interface BoardInput extends BoardData {
  process: Process | null;
  /** Simulation only: events the rules refused. */
  rejected?: SimulationResult['rejected'];
}

export function boardFromSimulation(result: SimulationResult, process: Process | null): BoardInput {
  return {
    process,
    leads: result.leads.map((l) => ({
      id: l.id,
      name: typeof l.fields['name'] === 'string' ? l.fields['name'] : null,
      pipeline: l.pipeline,
      stage: l.stage,
      status: l.status as BoardData['leads'][number]['status'],
      owner: l.owner,
    })),
    openTasks: result.tasks
      .filter((t) => t.status === 'open')
      .map((t) => ({ lead: t.lead, template: t.task, assignee: t.assignee, dueAt: Date.parse(t.due_at ?? '') })),
    outboxByKind: result.outbox.reduce<Record<string, number>>((acc, o) => {
      acc[o.kind] = (acc[o.kind] ?? 0) + 1;
      return acc;
    }, {}),
    rejected: result.rejected,
  };
}

interface Column {
  pipeline: string;
  title: string;
  stages: { id: string; title: string }[];
}

/** Pipelines and stages in process order; ones only the leads know (an older version's) come last. */
function columns(input: BoardInput): Column[] {
  const out: Column[] = (input.process?.pipelines ?? []).map((pl) => ({
    pipeline: pl.id,
    title: `${pl.name} (${pl.id})`,
    stages: pl.stages.map((s, i) => ({ id: s.id, title: `${i + 1}. ${s.name} (${s.id})` })),
  }));
  const known = new Map((input.process?.pipelines ?? []).map((pl, i) => [pl.id, out[i] as Column]));
  for (const l of input.leads) {
    let col = known.get(l.pipeline);
    if (!col) {
      col = { pipeline: l.pipeline, title: `${l.pipeline} (not in the current process)`, stages: [] };
      known.set(l.pipeline, col);
      out.push(col);
    }
    if (l.status === 'open' && !col.stages.some((s) => s.id === l.stage))
      col.stages.push({ id: l.stage, title: `?. ${l.stage} (not in the current process)` });
  }
  return out;
}

export function renderBoard(input: BoardInput): string[] {
  const zone = input.process?.organisation.timezone ?? 'UTC';
  const ownerOf = new Map(input.leads.map((l) => [l.id, l.owner]));
  const tasksOf = new Map<string, string[]>();
  for (const t of input.openTasks) {
    const due = Number.isFinite(t.dueAt) ? ` due ${formatTime(t.dueAt, zone)}` : '';
    // Most tasks go to the lead's owner; only name the assignee when it is someone else.
    const who = t.assignee && t.assignee !== ownerOf.get(t.lead) ? ` (${t.assignee})` : '';
    tasksOf.set(t.lead, [...(tasksOf.get(t.lead) ?? []), `${t.template}${who}${due}`]);
  }

  // Stage headers and lead rows go through one table, so every column lines up across the board.
  const rows: string[][] = [];
  const out: (string | number)[] = [];
  for (const col of columns(input)) {
    const leads = input.leads.filter((l) => l.pipeline === col.pipeline);
    const won = leads.filter((l) => l.status === 'won').length;
    const lost = leads.filter((l) => l.status === 'lost').length;
    const open = leads.filter((l) => l.status === 'open');
    out.push(col.title, `  open ${open.length}, won ${won}, lost ${lost}`);
    for (const stage of col.stages) {
      const here = open.filter((l) => l.stage === stage.id);
      out.push(`  ${stage.title}: ${here.length}`);
      for (const l of here) {
        out.push(rows.length);
        rows.push([l.id, l.name ?? '', l.owner ?? '(no owner)', (tasksOf.get(l.id) ?? []).join(', ') || '-']);
      }
    }
    out.push('');
  }
  if (input.leads.length === 0) out.push('no leads', '');
  const aligned = table(rows, '      ');
  const lines = out.map((x) => (typeof x === 'number' ? (aligned[x] ?? '') : x));

  if (input.rejected) {
    lines.push(`rejected events: ${input.rejected.length}`);
    for (const r of input.rejected)
      lines.push(`  line ${r.line}  ${r.type} ${r.lead}: ${r.error.message} [${r.error.code}]`);
  }
  const kinds = Object.entries(input.outboxByKind).sort(([a], [b]) => a.localeCompare(b));
  const total = kinds.reduce((n, [, k]) => n + k, 0);
  lines.push(
    `outbox: ${plural(total, 'effect')}${kinds.length > 0 ? ` (${kinds.map(([k, n]) => `${k} ${n}`).join(', ')})` : ''}`,
  );
  return lines;
}
