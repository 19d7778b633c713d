import type { Pipeline, Process, Stage } from './process-schema.js';

/** A readable diff between two process versions, by id: what a manager checks before applying. */

export interface ProcessDiff {
  changes: string[];
}

export function diffProcesses(before: Process | null, after: Process): ProcessDiff {
  if (!before) return { changes: [`+ process ${after.name} (first version)`] };
  const changes: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const byId = <T extends { id: string }>(xs: readonly T[]): Map<string, T> => new Map(xs.map((x) => [x.id, x]));

  for (const key of ['name', 'organisation', 'assignment', 'templates', 'fields'] as const) {
    if (!same(before[key], after[key])) changes.push(`~ ${key} changed`);
  }
  diffList('user', before.users, after.users, changes, byId);
  diffList('team', before.teams, after.teams, changes, byId);

  const oldPipes = byId(before.pipelines);
  const newPipes = byId(after.pipelines);
  for (const [id] of oldPipes) if (!newPipes.has(id)) changes.push(`- pipeline ${id}`);
  for (const [id, pl] of newPipes) {
    const old = oldPipes.get(id);
    if (!old) {
      changes.push(`+ pipeline ${id} (${pl.stages.length} stages)`);
      continue;
    }
    diffPipeline(old, pl, changes);
  }
  return { changes };
}

function diffList<T extends { id: string }>(
  what: string,
  before: readonly T[],
  after: readonly T[],
  changes: string[],
  byId: (xs: readonly T[]) => Map<string, T>,
): void {
  const a = byId(before);
  const b = byId(after);
  for (const [id] of a) if (!b.has(id)) changes.push(`- ${what} ${id}`);
  for (const [id, x] of b) {
    const old = a.get(id);
    if (!old) changes.push(`+ ${what} ${id}`);
    else if (JSON.stringify(old) !== JSON.stringify(x)) changes.push(`~ ${what} ${id} changed`);
  }
}

function diffPipeline(old: Pipeline, pl: Pipeline, changes: string[]): void {
  const { stages: oldStages, ...oldRest } = old;
  const { stages: newStages, ...newRest } = pl;
  for (const [k, v] of Object.entries(newRest)) {
    if (JSON.stringify(v) !== JSON.stringify(oldRest[k as keyof typeof oldRest]))
      changes.push(`~ pipeline ${pl.id}: ${k} changed`);
  }
  const oldIds = oldStages.map((s) => s.id);
  const newIds = newStages.map((s) => s.id);
  for (const s of oldStages) if (!newIds.includes(s.id)) changes.push(`- stage ${pl.id}/${s.id}`);
  newStages.forEach((s, i) => {
    const prev = oldStages.find((x) => x.id === s.id);
    if (!prev) return void changes.push(`+ stage ${pl.id}/${s.id} at position ${i + 1}`);
    if (prev.name !== s.name) changes.push(`~ stage ${pl.id}/${s.id}: renamed "${prev.name}" -> "${s.name}"`);
    const fields = (Object.keys(s) as (keyof Stage)[]).filter(
      (k) => k !== 'name' && JSON.stringify(s[k]) !== JSON.stringify(prev[k]),
    );
    if (fields.length > 0) changes.push(`~ stage ${pl.id}/${s.id}: ${fields.join(', ')} changed`);
  });
  const kept = newIds.filter((id) => oldIds.includes(id));
  const oldOrder = oldIds.filter((id) => kept.includes(id));
  if (JSON.stringify(kept) !== JSON.stringify(oldOrder)) changes.push(`~ pipeline ${pl.id}: stages reordered`);
}
