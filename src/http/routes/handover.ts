import { z } from 'zod';
import { handOver, HandoverRefused } from '../../engine/handover.js';
import { reachesOwner, MANAGERS } from '../access.js';
import type { AppContext } from '../app.js';
import { Problem } from '../problem.js';
import { actorOf, callerOf, denyAsMissing, denyForbidden, reachFor, type Api } from './shared.js';

/** A leaving rep's open work, handed over at once (src/engine/handover.ts): a manager's or an admin's call. */

const handoverResultSchema = z.object({
  from: z.string(),
  to: z.string().nullable().describe('Who took over; null when the assignment rules placed each lead'),
  dryRun: z.boolean(),
  leads: z.array(z.object({ lead: z.string(), owner: z.string().nullable() })),
  tasks: z.array(z.object({ task: z.string(), lead: z.string(), assignee: z.string().nullable() })),
  kept: z
    .array(z.object({ lead: z.string(), task: z.string().nullable(), code: z.string(), message: z.string() }))
    .describe('What stayed with the person, and why'),
});

export function handoverRoutes(api: Api, ctx: AppContext): void {
  api.post(
    '/users/:id/handover',
    {
      schema: {
        tags: ['users'],
        summary:
          "Hand all of a person's open leads and tasks to a colleague, or to the assignment rules (the person must then be inactive or out of office)",
        params: z.object({ id: z.string().min(1).max(100) }),
        headers: z.object({ 'idempotency-key': z.string().optional() }),
        body: z
          .object({
            to: z.string().min(1).max(200).optional().describe('User id of the one person who takes everything over'),
            rules: z.boolean().optional().describe('Run the assignment rules again for each lead instead'),
            dryRun: z.boolean().default(false).describe('Say what would move; change nothing'),
          })
          .strict()
          .refine((b) => (b.to !== undefined) !== (b.rules === true), {
            message: 'give either "to" (a user id) or "rules": true',
            path: ['to'],
          }),
        response: { 200: handoverResultSchema },
      },
      config: { access: { roles: MANAGERS, scope: 'leads:write' }, idempotent: true, problems: ['rule-refused'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const reach = await reachFor(ctx, caller);
      const from = req.params.id;
      // As lead and task reassignment: a manager moves work only among the people of their own teams.
      if (!reachesOwner(reach, from)) return denyAsMissing(ctx, req, `user "${from}"`);
      const to = req.body.to;
      const process = (await ctx.processes.current())?.process;
      // An unknown taker is a mistake in the request (422 below), not someone out of reach.
      const known = to !== undefined && (process?.users.some((u) => u.id === to) ?? false);
      if (to !== undefined && known && !reachesOwner(reach, to))
        await denyForbidden(ctx, req, `"${to}" is not in your teams`);
      // The rules may route a lead to anyone: only an admin may hand work over to them.
      if (to === undefined && reach.kind !== 'all')
        await denyForbidden(
          ctx,
          req,
          'the assignment rules may give the leads to people outside your teams: name a person of your teams with "to", or ask an admin',
        );
      try {
        return await handOver(
          ctx.store,
          (events) => Promise.all(events.map((e) => ctx.commits.submit(e.event, ctx.now(), e.ifVersion))),
          {
            from,
            target: to !== undefined ? { kind: 'user', user: to } : { kind: 'rules' },
            actor: actorOf(caller),
            by: caller.member.id,
            now: ctx.now(),
            dryRun: req.body.dryRun,
          },
        );
      } catch (e) {
        if (e instanceof HandoverRefused) throw new Problem('rule-refused', e.message);
        throw e;
      }
    },
  );
}
