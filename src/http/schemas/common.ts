import { z } from 'zod';

/** Building blocks the resources' answer schemas share. */

export const isoTime = z.string().describe('ISO 8601 time, UTC');
export const fieldValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** A page of a list: the items, and the cursor of the next page (null on the last). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable().describe('Pass as cursor= for the next page') });

/** A list answered whole, without pages. */
export const itemsOf = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item) });

/** What the rules did with one event: the run log the CLI's `lead why` prints. */
export const logEntrySchema = z
  .object({
    kind: z.string().describe('routing, assignment, goal, gate, automation, task, timer, error or event'),
    rule: z.string().nullable(),
    message: z.string(),
    inputs: z.record(z.string(), z.unknown()).optional().describe('What the rule looked at'),
  })
  .meta({ id: 'LogEntry' });

export const effectsSchema = z.array(z.string()).describe('Kinds of the side effects queued for delivery');

/** Free-form JSON the server stores as given (event payloads, audit details, process blocks). */
export const jsonObject = z.record(z.string(), z.unknown());
