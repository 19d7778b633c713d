import type { Process } from '../../domain/process-schema.js';
import { boardView, type BoardColumn } from '../../store/board-view.js';
import { outboxCountsByKind } from '../../store/queries.js';
import { EVERYONE } from '../access.js';
import type { AppContext } from '../app.js';
import { boardQuery, boardSchema } from '../schemas/board.js';
import { processFilterOf } from '../process-filter.js';
import { callerOf, reachFor, type Api } from './shared.js';

/**
 * `GET /board`: the open leads you can see, by pipeline and stage, with each stage's count and
 * value, filtered and capped in the database so that a refresh costs what the board shows.
 */
export function boardRoutes(api: Api, ctx: AppContext): void {
  api.get(
    '/board',
    {
      schema: {
        tags: ['leads'],
        summary: 'Open leads you can see, by pipeline and stage, with each stage’s count and value',
        querystring: boardQuery,
        response: { 200: boardSchema },
      },
      config: { access: { roles: EVERYONE, scope: 'leads:read' } },
    },
    async (req) => {
      const caller = callerOf(req);
      const q = req.query;
      const reach = await reachFor(ctx, caller);
      const process = (await ctx.processes.current())?.process ?? null;
      let owners: string[] | null = reach.kind === 'all' ? null : [...reach.owners];
      const narrow = (to: readonly string[]) => {
        owners = owners === null ? [...to] : owners.filter((o) => to.includes(o));
      };
      if (q.owner !== undefined) narrow([q.owner === 'me' ? caller.member.id : q.owner]);
      const { members } = processFilterOf(process, await ctx.processes.knownStages(), {
        pipeline: q.pipeline,
        team: q.team,
      });
      if (members !== undefined) narrow(members);
      const view = await boardView(ctx.store.db, { owners, pipeline: q.pipeline, perStage: q.per_stage });
      const shown = new Map<string, number>();
      for (const l of view.leads) shown.set(key(l), (shown.get(key(l)) ?? 0) + 1);
      return {
        stages: orderedColumns(process, view.columns, q.pipeline).map((c) => ({
          ...c,
          value: c.valueMinor / 100,
          shown: shown.get(key(c)) ?? 0,
        })),
        leads: view.leads.map(({ valueMinor, stageEnteredAt, ...l }) => ({
          ...l,
          value: valueMinor === null ? null : valueMinor / 100,
          stageEnteredAt: new Date(stageEnteredAt).toISOString(),
        })),
        openTasks: view.openTasks.map((t) => ({ ...t, dueAt: new Date(t.dueAt).toISOString() })),
        outboxByKind: reach.kind === 'all' ? await outboxCountsByKind(ctx.store.db) : {},
      };
    },
  );
}

const key = (c: { pipeline: string; stage: string }): string => `${c.pipeline}\u0000${c.stage}`;

type Column = BoardColumn & { name: string; index: number | null };

/** The process's stages in order, empty ones included, then any stage only the leads still know. */
function orderedColumns(process: Process | null, columns: BoardColumn[], pipeline: string | undefined): Column[] {
  const counted = new Map(columns.map((c) => [key(c), c]));
  const out: Column[] = [];
  for (const pl of process?.pipelines ?? []) {
    if (pipeline !== undefined && pl.id !== pipeline) continue;
    pl.stages.forEach((s, index) => {
      const c = counted.get(key({ pipeline: pl.id, stage: s.id }));
      counted.delete(key({ pipeline: pl.id, stage: s.id }));
      out.push({
        pipeline: pl.id,
        stage: s.id,
        name: s.name,
        index,
        count: c?.count ?? 0,
        valueMinor: c?.valueMinor ?? 0,
      });
    });
  }
  for (const c of counted.values()) out.push({ ...c, name: c.stage, index: null });
  return out;
}
