import { IANAZone } from 'luxon';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Document } from 'yaml';
import type { z } from 'zod';
import { checkAutomationFields } from './automation-fields.js';
import { checkBuiltInConditions, checkCatalogue } from './catalogue-check.js';
import type { Condition, Pipeline, Process } from './process-schema.js';
import { processSchema } from './process-schema.js';

export type PathSegment = string | number;

export interface ProcessProblem {
  path: string;
  message: string;
  line: number | null;
}

export type ProcessParseResult = { ok: true; process: Process } | { ok: false; problems: ProcessProblem[] };

/** `pipelines[1].stages[2].goal` from ['pipelines', 1, 'stages', 2, 'goal']. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    return acc === '' ? seg : `${acc}.${seg}`;
  }, '');
}

export function formatProblem(p: ProcessProblem): string {
  return `${p.path || '(file)'}: ${p.message}${p.line === null ? '' : ` (line ${p.line})`}`;
}

/** Parses YAML or JSON (JSON is YAML) and validates shape and cross-references. */
export function parseProcess(text: string): ProcessParseResult {
  const parsed = parseYamlWith(processSchema, text);
  if (!parsed.ok) return parsed;
  const problems = crossCheck(parsed.value).map(({ path, message }) => ({
    path: formatPath(path),
    message,
    line: parsed.lineOf(path),
  }));
  return problems.length > 0 ? { ok: false, problems } : { ok: true, process: withImplicitDefault(parsed.value) };
}

/**
 * With no pipeline marked `default: true`, the one pipeline without entry criteria is the default:
 * it matches no lead by entry, so without this a process of one plain pipeline would validate
 * and then refuse every lead. Marked in the parsed process, so the stored version, `process show
 * --json` and the engine's routing all say so. (Two such pipelines are refused by `crossCheck`.)
 */
function withImplicitDefault(p: Process): Process {
  const open = entryless(p.pipelines);
  if (p.pipelines.some((pl) => pl.default) || open.length !== 1) return p;
  return { ...p, pipelines: p.pipelines.map((pl) => (pl === open[0] ? { ...pl, default: true } : pl)) };
}

const entryless = (pipelines: Pipeline[]): Pipeline[] => pipelines.filter((pl) => pl.entry === undefined);

export type YamlParseResult<T> =
  | { ok: true; value: T; lineOf: (path: readonly PathSegment[]) => number | null }
  | { ok: false; problems: ProcessProblem[] };

/** Any YAML (or JSON) file validated by a zod schema, each problem with its path and line. */
export function parseYamlWith<T>(schema: z.ZodType<T>, text: string): YamlParseResult<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({
        path: '',
        message: e.message.split('\n')[0] ?? e.message,
        line: lines.linePos(e.pos[0]).line,
      })),
    };
  }
  const lineOf = (path: readonly PathSegment[]): number | null => lineAt(doc, lines, path);
  const parsed = schema.safeParse(doc.toJS());
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => {
        const path = issue.path.filter((s): s is PathSegment => typeof s !== 'symbol');
        return { path: formatPath(path), message: issue.message, line: lineOf(path) };
      }),
    };
  }
  return { ok: true, value: parsed.data, lineOf };
}

/** The line of the deepest node that exists along `path`. */
function lineAt(doc: Document, lines: LineCounter, path: readonly PathSegment[]): number | null {
  let node: unknown = doc.contents;
  let found: YamlNode | null = (doc.contents as YamlNode | null) ?? null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (!pair) break;
      node = pair.value;
      // A key's own line is more useful than the value's when the value is a block.
      found = (pair.key as YamlNode | null) ?? found;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      if (!node) break;
      found = node as YamlNode;
    } else break;
  }
  const offset = found?.range?.[0];
  return offset === undefined ? null : lines.linePos(offset).line;
}

interface RawProblem {
  path: PathSegment[];
  message: string;
}

function duplicates<T extends { id: string }>(items: T[], at: PathSegment[], what: string, out: RawProblem[]): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id)) out.push({ path: [...at, i, 'id'], message: `duplicate ${what} id "${item.id}"` });
    seen.add(item.id);
  });
}

/**
 * A member listed twice does not get a double share: round robin resumes after the first place
 * they appear, so it never reaches whoever follows the second. `weight` is the way to say it.
 */
function duplicateMembers(
  members: readonly string[],
  at: PathSegment[],
  users: readonly { id: string }[],
  out: RawProblem[],
): void {
  members.forEach((m, j) => {
    const first = members.indexOf(m);
    if (first === j) return;
    const u = users.findIndex((x) => x.id === m);
    const weight = u < 0 ? 'weight' : `weight (users[${u}].weight)`;
    out.push({
      path: [...at, j],
      message: `user "${m}" is listed twice (also members[${first}]); list each member once: for a larger share, raise their ${weight} and use strategy: weighted`,
    });
  });
}

function conditionRefs(c: Condition, visit: (c: Condition, sub: PathSegment[]) => void, at: PathSegment[] = []): void {
  visit(c, at);
  if ('all' in c) c.all.forEach((s, i) => conditionRefs(s, visit, [...at, 'all', i]));
  if ('any' in c) c.any.forEach((s, i) => conditionRefs(s, visit, [...at, 'any', i]));
}

/** References between parts of the file: ids that must exist, a single default pipeline. */
function crossCheck(p: Process): RawProblem[] {
  const out: RawProblem[] = [];
  const users = new Set(p.users.map((u) => u.id));
  const teams = new Set(p.teams.map((t) => t.id));
  // An inactive user gets no new work (docs/process.md). A rule's `{user}` target is passed over
  // at routing time (its fallback or the default owner takes the lead, and `lead why` says so), but
  // the default owner and a task's fixed assignee would be handed the work as they are.
  const inactive = new Set(p.users.filter((u) => !u.active).map((u) => u.id));
  duplicates(p.users, ['users'], 'user', out);
  duplicates(p.teams, ['teams'], 'team', out);
  duplicates(p.pipelines, ['pipelines'], 'pipeline', out);

  const zoneOk = (z: string): boolean => IANAZone.isValidZone(z);
  if (!zoneOk(p.organisation.timezone))
    out.push({ path: ['organisation', 'timezone'], message: `unknown time zone "${p.organisation.timezone}"` });
  p.users.forEach((u, i) => {
    if (u.timezone && !zoneOk(u.timezone))
      out.push({ path: ['users', i, 'timezone'], message: `unknown time zone "${u.timezone}"` });
    u.out_of_office.forEach((o, j) => {
      if (o.to < o.from)
        out.push({ path: ['users', i, 'out_of_office', j], message: `"to" ${o.to} is before "from" ${o.from}` });
    });
  });
  p.teams.forEach((t, i) => {
    t.members.forEach((m, j) => {
      if (!users.has(m)) out.push({ path: ['teams', i, 'members', j], message: `unknown user "${m}"` });
    });
    duplicateMembers(t.members, ['teams', i, 'members'], p.users, out);
    if (t.manager && !users.has(t.manager))
      out.push({ path: ['teams', i, 'manager'], message: `unknown user "${t.manager}"` });
  });

  const checkTarget = (
    t: { user: string } | { team: string } | { pool: { team?: string } },
    at: PathSegment[],
  ): void => {
    if ('pool' in t && t.pool.team && !teams.has(t.pool.team))
      out.push({ path: [...at, 'pool', 'team'], message: `unknown team "${t.pool.team}"` });
    if ('user' in t && !users.has(t.user)) out.push({ path: [...at, 'user'], message: `unknown user "${t.user}"` });
    if ('team' in t && !teams.has(t.team)) out.push({ path: [...at, 'team'], message: `unknown team "${t.team}"` });
  };
  if (!users.has(p.assignment.default_owner))
    out.push({ path: ['assignment', 'default_owner'], message: `unknown user "${p.assignment.default_owner}"` });
  if (inactive.has(p.assignment.default_owner))
    out.push({
      path: ['assignment', 'default_owner'],
      message: `user "${p.assignment.default_owner}" is inactive (active: false) and gets no new leads: the default owner must be an active user`,
    });
  duplicates(p.assignment.rules, ['assignment', 'rules'], 'rule', out);
  p.assignment.rules.forEach((r, i) => {
    checkTarget(r.to, ['assignment', 'rules', i, 'to']);
    r.fallback.forEach((f, j) => checkTarget(f, ['assignment', 'rules', i, 'fallback', j]));
    if (r.when) fieldOnly(r.when, ['assignment', 'rules', i, 'when'], out);
  });

  const defaults = p.pipelines.filter((pl) => pl.default).length;
  if (defaults > 1)
    out.push({ path: ['pipelines'], message: `${defaults} pipelines are marked default; at most one may be` });
  const open = entryless(p.pipelines);
  if (defaults === 0 && open.length > 1)
    out.push({
      path: ['pipelines', p.pipelines.indexOf(open[1] as Pipeline)],
      message:
        `pipelines ${open.map((pl) => `"${pl.id}"`).join(', ')} have no entry criteria and none is marked default, ` +
        'so a lead that matches no entry criteria would be refused: mark the one such leads go to with `default: true`',
    });

  p.pipelines.forEach((pl, pi) => {
    const at: PathSegment[] = ['pipelines', pi];
    if (pl.entry) fieldOnly(pl.entry, [...at, 'entry'], out);
    duplicates(pl.stages, [...at, 'stages'], 'stage', out);
    const stageIds = new Set(pl.stages.map((s) => s.id));
    const checkAutomations = (list: typeof pl.on_won, where: PathSegment[]): void =>
      list.forEach((a, k) => {
        if ('email' in a && !(a.email.template in p.templates))
          out.push({
            path: [...where, k, 'email', 'template'],
            message: `unknown email template "${a.email.template}"`,
          });
        if ('move' in a && !stageIds.has(a.move))
          out.push({ path: [...where, k, 'move'], message: `unknown stage "${a.move}" in pipeline "${pl.id}"` });
        for (const problem of checkAutomationFields(a))
          out.push({ path: [...where, k, ...problem.path], message: problem.message });
      });
    checkAutomations(pl.on_won, [...at, 'on_won']);
    checkAutomations(pl.on_lost, [...at, 'on_lost']);
    pl.stages.forEach((s, si) => {
      const sat: PathSegment[] = [...at, 'stages', si];
      duplicates(s.tasks, [...sat, 'tasks'], 'task', out);
      const taskIds = new Set(s.tasks.map((t) => t.id));
      if (s.goal)
        conditionRefs(
          s.goal,
          (c, sub) => {
            if ('task_done' in c && !taskIds.has(c.task_done))
              out.push({ path: [...sat, 'goal', ...sub], message: `unknown task "${c.task_done}"` });
          },
          [],
        );
      s.tasks.forEach((t, ti) => {
        if (typeof t.assignee === 'object') checkTarget(t.assignee, [...sat, 'tasks', ti, 'assignee']);
        if (typeof t.assignee === 'object' && 'user' in t.assignee && inactive.has(t.assignee.user))
          out.push({
            path: [...sat, 'tasks', ti, 'assignee', 'user'],
            message: `user "${t.assignee.user}" is inactive (active: false) and gets no new tasks: assign the task to an active user, the owner or a team`,
          });
      });
      checkAutomations(s.on_enter, [...sat, 'on_enter']);
    });
  });
  out.push(...checkCatalogue(p), ...checkBuiltInConditions(p));
  return out;
}

/** Entry criteria and routing rules see only lead fields: tasks, activities and signals belong to goals. */
function fieldOnly(c: Condition, at: PathSegment[], out: RawProblem[]): void {
  conditionRefs(c, (sub, subPath) => {
    if ('task_done' in sub || 'activity' in sub || 'signal' in sub)
      out.push({ path: [...at, ...subPath], message: 'only field conditions are allowed here' });
  });
}
