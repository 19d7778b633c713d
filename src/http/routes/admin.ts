import { z } from 'zod';
import { configVariables, displayValue } from '../../config.js';
import { takePeriodStartSnapshots } from '../../engine/forecast-scheduler.js';
import { fireTimers } from '../../engine/scheduler.js';
import { appendAudit, listAudit } from '../../store/audit.js';
import { withTransaction } from '../../store/db.js';
import { readKeptMessage } from '../../integrations/mail/deliver.js';
import {
  cancelOutboxRow,
  findOutboxRow,
  replayDeadRows,
  retryKeptRows,
  retryOutboxRow,
  type AdminOutcome,
} from '../../store/outbox-admin.js';
import { listOutbox } from '../../store/queries.js';
import { ADMINS } from '../access.js';
import type { AppContext } from '../app.js';
import { cursorTuple, pageFromRows, pageQuery } from '../paging.js';
import { Problem } from '../problem.js';
import {
  auditListSchema,
  cancelledSchema,
  configListSchema,
  outboxListSchema,
  replayedSchema,
  retriedSchema,
  tickSchema,
} from '../schemas.js';
import { callerOf, type Api } from './shared.js';

/** The outbox, the audit log and the scheduler by hand. */

const OUTBOX_STATUSES = ['pending', 'sending', 'sent', 'kept', 'failed', 'dead', 'cancelled'] as const;

/** 404 for an unknown row, 409 with the reason for a row whose state rules the action out. */
function refuseUnless(outcome: AdminOutcome): void {
  if (outcome.ok) return;
  throw new Problem(outcome.refusal.kind === 'unknown' ? 'not-found' : 'conflict', outcome.refusal.message);
}

export function adminRoutes(api: Api, ctx: AppContext): void {
  const admin = { roles: ADMINS, scope: 'admin' } as const;

  api.get(
    '/outbox',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Side effects queued for delivery, oldest first',
        querystring: z
          .object({
            status: z.enum(OUTBOX_STATUSES).optional(),
            kind: z.string().optional(),
            lead: z.string().optional(),
            series: z
              .enum(['current', 'all'])
              .optional()
              .describe(
                'With lead: current (the default) lists the rows of the lead now under that id; all adds those of deleted leads that had the id before, and list erasures',
              ),
            ...pageQuery,
          })
          .strict(),
        response: { 200: outboxListSchema },
      },
      config: { access: admin },
    },
    async (req) => {
      const { cursor, limit, ...filter } = req.query;
      const after = cursorTuple(cursor, ['number', 'string']);
      const rows = await listOutbox(ctx.store.db, {
        ...filter,
        limit: limit + 1,
        after: after ? { createdAt: after[0], id: after[1] } : undefined,
      });
      return pageFromRows(
        rows,
        limit,
        (r) => [r.createdAt, r.id],
        (r) => ({
          ...r,
          createdAt: new Date(r.createdAt).toISOString(),
          nextAttemptAt: new Date(r.nextAttemptAt).toISOString(),
          lastAttemptAt: r.lastAttemptAt === null ? null : new Date(r.lastAttemptAt).toISOString(),
        }),
      );
    },
  );

  api.post(
    '/outbox/:id/retry',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Deliver this row again now: a pending, failed, dead or kept row',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 200: retriedSchema },
      },
      config: { access: admin, problems: ['conflict'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const now = ctx.now();
      refuseUnless(
        await withTransaction(ctx.store, async (tx) => {
          const outcome = await retryOutboxRow(tx, req.params.id, now);
          if (outcome.ok)
            await appendAudit(
              tx,
              { actor: caller.member.id, action: 'outbox.retried', target: req.params.id, details: {} },
              now,
            );
          return outcome;
        }),
      );
      return { retried: req.params.id };
    },
  );

  api.get(
    '/outbox/:id/message',
    {
      schema: {
        tags: ['outbox'],
        summary: 'A mail kept as an .eml file (SMTP_URL unset), as it would have been sent',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: {
          200: {
            description: 'The message, headers and body, as the .eml file holds it',
            content: { 'message/rfc822': { schema: z.string() } },
          },
        },
      },
      config: { access: admin, problems: ['conflict'] },
    },
    async (req, reply) => {
      const row = await findOutboxRow(ctx.store.db, req.params.id);
      if (!row) throw new Problem('not-found', `no outbox row "${req.params.id}"`);
      let kept: Awaited<ReturnType<typeof readKeptMessage>>;
      try {
        kept = await readKeptMessage(row.detail);
      } catch {
        throw new Problem('conflict', `outbox row "${req.params.id}" was kept as a file that can no longer be read`);
      }
      if (!kept)
        throw new Problem(
          'conflict',
          `outbox row "${req.params.id}" (${row.kind}, ${row.status}) was not kept as a file: only mail the worker wrote while SMTP_URL was unset is`,
        );
      return reply.type('message/rfc822').header('cache-control', 'no-store').send(kept.text);
    },
  );

  api.post(
    '/outbox/retry-kept',
    {
      schema: {
        tags: ['outbox'],
        summary:
          'Queue again every mail kept as an .eml file while SMTP_URL was unset, for a worker that has SMTP_URL now',
        querystring: z.object({ kind: z.string().min(1).optional(), lead: z.string().min(1).optional() }).strict(),
        response: { 200: z.object({ retried: z.number().int().describe('Kept rows queued again') }) },
      },
      config: { access: admin },
    },
    async (req) => {
      const caller = callerOf(req);
      const { kind, lead } = req.query;
      const now = ctx.now();
      const retried = await withTransaction(ctx.store, async (tx) => {
        const n = await retryKeptRows(tx, now, { kind, lead });
        await appendAudit(
          tx,
          {
            actor: caller.member.id,
            action: 'outbox.kept_retried',
            target: null,
            details: { rows: n, ...(kind ? { kind } : {}), ...(lead ? { lead } : {}) },
          },
          now,
        );
        return n;
      });
      return { retried };
    },
  );

  api.post(
    '/outbox/:id/cancel',
    {
      schema: {
        tags: ['outbox'],
        summary: 'Stop a queued, failing or dead row for good: it is never delivered',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { 200: cancelledSchema },
      },
      config: { access: admin, problems: ['conflict'] },
    },
    async (req) => {
      const caller = callerOf(req);
      const now = ctx.now();
      refuseUnless(
        await withTransaction(ctx.store, async (tx) => {
          const outcome = await cancelOutboxRow(tx, req.params.id, caller.member.id, now);
          if (outcome.ok)
            await appendAudit(
              tx,
              { actor: caller.member.id, action: 'outbox.cancelled', target: req.params.id, details: {} },
              now,
            );
          return outcome;
        }),
      );
      return { cancelled: req.params.id };
    },
  );

  api.post(
    '/outbox/replay-dead',
    {
      schema: {
        tags: ['outbox'],
        summary:
          'Give dead rows another round of delivery: those that ran out of tries or died of the configuration; with all=true also final refusals',
        querystring: z
          .object({
            kind: z.string().min(1).optional(),
            lead: z.string().min(1).optional(),
            all: z
              .enum(['true', 'false'])
              .optional()
              .describe('Also rows parked on a final answer (a bounce, a refusal)'),
          })
          .strict(),
        response: { 200: replayedSchema },
      },
      config: { access: admin },
    },
    async (req) => {
      const caller = callerOf(req);
      const { kind, lead, all } = req.query;
      const now = ctx.now();
      const r = await withTransaction(ctx.store, async (tx) => {
        const replayed = await replayDeadRows(tx, now, { kind, lead, all: all === 'true' });
        await appendAudit(
          tx,
          {
            actor: caller.member.id,
            action: 'outbox.replayed',
            target: null,
            details: {
              rows: replayed.replayed,
              ...(kind ? { kind } : {}),
              ...(lead ? { lead } : {}),
              all: all === 'true',
            },
          },
          now,
        );
        return replayed;
      });
      return r;
    },
  );

  api.get(
    '/audit',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log, newest first',
        querystring: z.object({ action: z.string().optional(), target: z.string().optional(), ...pageQuery }).strict(),
        response: { 200: auditListSchema },
      },
      config: { access: admin },
    },
    async (req) => {
      const { cursor, limit, ...filter } = req.query;
      const after = cursorTuple(cursor, ['number', 'string']);
      const rows = await listAudit(ctx.store.db, {
        ...filter,
        limit: limit + 1,
        after: after ? { at: after[0], id: after[1] } : undefined,
      });
      return pageFromRows(
        rows,
        limit,
        (r) => [r.at, r.id],
        (r) => ({ ...r, at: new Date(r.at).toISOString() }),
      );
    },
  );

  api.post(
    '/admin/tick',
    {
      schema: {
        tags: ['admin'],
        summary: 'Fire every timer due now and take due forecast snapshots (the worker does this itself)',
        response: { 200: tickSchema },
      },
      config: { access: admin },
    },
    async () => {
      const now = ctx.now();
      const fired = await fireTimers(ctx.engine, now, 'until');
      await takePeriodStartSnapshots(ctx.store, now);
      return { fired, at: new Date(now).toISOString() };
    },
  );

  api.get(
    '/admin/config',
    {
      schema: {
        tags: ['admin'],
        summary: 'The environment variables the server reads, with their values (credentials masked)',
        response: { 200: configListSchema },
      },
      config: { access: admin },
    },
    async () => ({
      items: configVariables.map((v) => ({
        name: v.name,
        value: displayValue(v.name),
        doc: v.doc,
      })),
    }),
  );
}
