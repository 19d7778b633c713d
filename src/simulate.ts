import { timedEventSchema, type LeadEvent } from './domain/events.js';
import type { DomainError } from './domain/errors.js';
import { Engine } from './engine/engine.js';
import { applyProcess } from './engine/process-service.js';
import { fireTimers } from './engine/scheduler.js';
import { openStore, type Store } from './store/db.js';
import { snapshot, type Snapshot } from './store/snapshot.js';

/**
 * Simulation: the same engine on an in-memory SQLite database with a virtual clock. Before each
 * event the scheduler fires every timer that fell due in between, at its own time.
 */

export class EventFileError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`events line ${line}: ${message}`);
  }
}

export interface ParsedEvent {
  line: number;
  at: number;
  event: LeadEvent;
}

export function parseEventLines(text: string): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('//')) return;
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch (e) {
      throw new EventFileError(line, `not JSON (${(e as Error).message})`);
    }
    const parsed = timedEventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new EventFileError(line, `${where}${issue?.message ?? 'invalid event'}`);
    }
    const { at, ...event } = parsed.data;
    out.push({ line, at: Date.parse(at), event: event as LeadEvent });
  });
  for (let i = 1; i < out.length; i++) {
    const prev = out[i - 1];
    const cur = out[i];
    if (prev && cur && cur.at < prev.at)
      throw new EventFileError(cur.line, `time ${new Date(cur.at).toISOString()} is before the previous event's`);
  }
  return out;
}

export interface SimulationResult extends Snapshot {
  rejected: { line: number; type: string; lead: string; error: DomainError }[];
  timersFired: number;
}

export interface SimulationOptions {
  processText: string;
  eventsText: string;
  until?: number;
  /** Defaults to a fresh in-memory SQLite database. */
  store?: Store;
}

export async function simulate(opts: SimulationOptions): Promise<SimulationResult> {
  const events = parseEventLines(opts.eventsText);
  const store = opts.store ?? (await openStore(':memory:'));
  try {
    const start = events[0]?.at ?? opts.until ?? 0;
    await applyProcess(store, opts.processText, start, 'simulation');
    const engine = new Engine(store);
    const rejected: SimulationResult['rejected'] = [];
    let timersFired = 0;
    for (const e of events) {
      if (opts.until !== undefined && e.at > opts.until) break;
      timersFired += await fireTimers(engine, e.at, 'own-time');
      const out = await engine.handle(e.event, e.at);
      if (!out.ok) rejected.push({ line: e.line, type: e.event.type, lead: e.event.lead, error: out.error });
    }
    const end = opts.until ?? events.at(-1)?.at;
    if (end !== undefined) timersFired += await fireTimers(engine, end, 'own-time');
    return { ...(await snapshot(store.db)), rejected, timersFired };
  } finally {
    if (!opts.store) await store.close();
  }
}
