import type { Actor } from '../domain/events.js';
import type { RunLogEvent } from '../store/queries.js';
import { zoneOf, type LeadPage } from './lead-view.js';
import { formatPairs, formatTime, iso, plural, table } from './output.js';

/**
 * `lead why`: the run log laid out for a manager. Each event shows when it happened, who sent
 * it and what it carried; under it, each rule that fired (routing, assignment, goal, gate,
 * automation...) with its message and the inputs it decided on.
 */

export function formatActor(a: Actor): string {
  return a.id ? `${a.kind}:${a.id}` : a.kind;
}

/** The event's own data, without what the header already shows. */
function eventDetails(payload: Record<string, unknown>): string {
  const rest = Object.fromEntries(
    Object.entries(payload).filter(
      ([k, v]) => !['type', 'lead', 'actor'].includes(k) && v !== undefined && v !== false,
    ),
  );
  return formatPairs(rest);
}

export function renderRunLog(page: LeadPage, events: readonly RunLogEvent[]): string[] {
  const zone = zoneOf(page);
  const out = [`run log of ${page.lead.id}: ${plural(events.length, 'event')}, times in ${zone}`];
  // One table for all entries, so kinds and rules line up down the whole log.
  const rows: string[][] = [];
  const starts: { at: number; header: string; details: string }[] = [];
  for (const e of events) {
    starts.push({
      at: rows.length,
      header: `#${e.seq}  ${formatTime(e.at, zone)}  ${e.type}  by ${formatActor(e.actor)}  (process v${e.processVersion})`,
      details: eventDetails(e.payload),
    });
    if (e.entries.length === 0) rows.push(['-', '', 'no rule fired']);
    for (const l of e.entries) {
      rows.push([l.kind, l.rule ?? '-', l.message]);
      if (l.inputs && Object.keys(l.inputs).length > 0) rows.push(['', '', `inputs: ${formatPairs(l.inputs)}`]);
    }
  }
  const lines = table(rows, '    ');
  starts.forEach((s, i) => {
    const end = starts[i + 1]?.at ?? lines.length;
    out.push('', s.header);
    if (s.details) out.push(`    ${s.details}`);
    out.push(...lines.slice(s.at, end));
  });
  return out;
}

export function runLogJson(events: readonly RunLogEvent[]): Record<string, unknown>[] {
  return events.map((e) => ({ ...e, at: iso(e.at) }));
}
