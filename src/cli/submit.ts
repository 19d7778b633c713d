import { z } from 'zod';
import { leadEventSchema, type LeadEvent } from '../domain/events.js';
import { Engine, type EventOutcome } from '../engine/engine.js';
import type { Store } from '../store/db.js';
import type { Context } from './context.js';
import { refused, UsageError } from './errors.js';
import { leadJson, loadLeadPage, renderLead, renderLog } from './lead-view.js';
import { print, printJson } from './output.js';

/** Every command that changes a lead ends here: one event, one Engine.handle, one transaction. */

export type Accepted = Extract<EventOutcome, { ok: true }>;

export async function submit(store: Store, ctx: Context, event: z.input<typeof leadEventSchema>): Promise<Accepted> {
  // The same schema as event files and the API: a value the CLI lets through is one they would accept.
  const parsed = leadEventSchema.safeParse({ ...event, actor: ctx.actor });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    throw new UsageError(`${event.type} event: ${where}${issue?.message ?? 'invalid'}`);
  }
  const outcome = await new Engine(store).handle(parsed.data as LeadEvent, ctx.now);
  if (!outcome.ok) throw refused(outcome.error);
  return outcome;
}

/**
 * Submits, then prints the lead as it now stands and what the rules did. `made` names what the
 * event made (`{activity: id}`): a JSON key, and a line of the text.
 */
export async function submitAndShow(
  store: Store,
  ctx: Context,
  event: z.input<typeof leadEventSchema>,
  made?: (outcome: Accepted) => Record<string, string>,
): Promise<void> {
  const outcome = await submit(store, ctx, event);
  const page = await loadLeadPage(store, event.lead);
  const extra = made?.(outcome) ?? {};
  if (ctx.json) return printJson({ lead: leadJson(page), ...extra, log: outcome.log, effects: outcome.effects });
  const lines = [
    ...renderLead(page, { full: false }),
    ...Object.entries(extra).map(([k, v]) => `  ${k}  ${v}`),
    ...renderLog(outcome.log),
  ];
  if (outcome.effects.length > 0) lines.push(`  queued  ${outcome.effects.map((e) => e.kind).join(', ')}`);
  for (const line of lines) print(line);
}
