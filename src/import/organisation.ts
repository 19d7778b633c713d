import type { Process } from '../domain/process-schema.js';

/**
 * Merges people, teams and a pipeline found in an export (Maven's sales_teams.csv, say) into the
 * process: what exists is kept as it is, what is missing is added. The result is a process file
 * object, applied as a new version like any other, so the change is visible in `process history`.
 */

export interface OrgUser {
  id: string;
  name: string;
  territories: string[];
}

export interface OrgTeam {
  id: string;
  name: string;
  manager: string | null;
  members: string[];
}

export interface OrgPipeline {
  id: string;
  name: string;
  stages: { id: string; name: string; guidance: string; ask?: boolean }[];
}

export interface Organisation {
  users: OrgUser[];
  teams: OrgTeam[];
  pipeline: OrgPipeline | null;
  currency: string;
}

/** `Anna Snelling` -> `anna-snelling`: a user or team id from a display name. */
export function slug(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'x'
  );
}

/** The process file object with the organisation merged in, or null when nothing is missing. */
export function mergeOrganisation(current: Process | null, org: Organisation): Record<string, unknown> | null {
  const users: Record<string, unknown>[] = current ? [...current.users] : [];
  const known = new Set(users.map((u) => u['id'] as string));
  const knownNames = new Set(current?.users.map((u) => u.name.toLowerCase()) ?? []);
  let changed = current === null;
  for (const u of org.users) {
    if (known.has(u.id) || knownNames.has(u.name.toLowerCase())) continue;
    users.push({ id: u.id, name: u.name, territories: u.territories });
    known.add(u.id);
    changed = true;
  }
  const teams: Record<string, unknown>[] = current ? [...current.teams] : [];
  const knownTeams = new Set(teams.map((t) => t['id'] as string));
  for (const t of org.teams) {
    if (knownTeams.has(t.id) || t.members.length === 0) continue;
    teams.push({ id: t.id, name: t.name, ...(t.manager ? { manager: t.manager } : {}), members: t.members });
    changed = true;
  }
  const pipelines: Record<string, unknown>[] = current ? [...current.pipelines] : [];
  if (org.pipeline && !current?.pipelines.some((p) => p.id === org.pipeline?.id)) {
    pipelines.push({ ...org.pipeline, default: current === null });
    changed = true;
  }
  if (!changed) return null;
  const firstUser = (users[0]?.['id'] as string | undefined) ?? 'admin';
  return {
    name: current?.name ?? 'Imported organisation',
    organisation: current?.organisation ?? { timezone: 'UTC', currency: org.currency },
    users,
    teams,
    assignment: current?.assignment ?? { rules: [], default_owner: firstUser },
    pipelines,
    templates: current?.templates ?? {},
  };
}
