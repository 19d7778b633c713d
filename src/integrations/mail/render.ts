import type { Process } from '../../domain/process-schema.js';
import type { LeadSnapshot } from '../delivery.js';

/**
 * Email templates: `{{name}}` placeholders, filled from the lead as it stands when the mail goes
 * out. Pure: no I/O, never throws.
 *
 *   {{first_name}}, {{company}}, ...   a lead field (numbers and booleans as written, null as empty)
 *   {{owner.name}}, {{owner.email}}    the lead's owner, from the process's users
 *   {{lead.id}}                        the lead's id
 *   {{stage}}                          the current stage's name (its id if the process lost it)
 *   {{unsubscribe_url}}                the one-click unsubscribe link of a marketing mail (empty
 *                                      without PUBLIC_URL; a marketing mail whose template does
 *                                      not place it gets it as a footer)
 *
 * The names above win over a lead field of the same name. Whitespace inside the braces is allowed
 * (`{{ first_name }}`). Anything unknown, or a missing lead, renders as the empty string, so a typo
 * in a template costs a blank, never a lost mail. A default after a bar is used when the value is
 * empty: `Hi {{first_name | there}},` greets a lead entered with a name alone (HubSpot's
 * `default` filter, Mailchimp's `*|IF:FNAME|*`).
 */

export interface RenderContext {
  process: Process;
  lead: LeadSnapshot | null;
  /** The recipient's unsubscribe link, when the mail is marketing and the server can make one. */
  unsubscribeUrl?: string | null;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;

export function renderTemplate(text: string, ctx: RenderContext): string {
  return text.replace(PLACEHOLDER, (_match, inner: string) => {
    const { name, fallback } = placeholderParts(inner);
    const value = lookup(name, ctx);
    return value.trim() === '' && fallback !== null ? fallback : value;
  });
}

/** `first_name | there` is the name first_name with the default "there"; without a bar, no default. */
export function placeholderParts(inner: string): { name: string; fallback: string | null } {
  const bar = inner.indexOf('|');
  if (bar < 0) return { name: inner.trim(), fallback: null };
  return { name: inner.slice(0, bar).trim(), fallback: inner.slice(bar + 1).trim() };
}

/** Whether a template places the unsubscribe link itself. */
export function usesUnsubscribeUrl(text: string): boolean {
  return [...text.matchAll(PLACEHOLDER)].some((m) => placeholderParts(m[1] ?? '').name === 'unsubscribe_url');
}

function lookup(name: string, { process, lead, unsubscribeUrl }: RenderContext): string {
  if (!lead) return '';
  switch (name) {
    case 'unsubscribe_url':
      return unsubscribeUrl ?? '';
    case 'owner.name':
    case 'owner.email': {
      const owner = process.users.find((u) => u.id === lead.owner);
      return (name === 'owner.name' ? owner?.name : owner?.email) ?? '';
    }
    case 'lead.id':
      return lead.id;
    case 'stage':
      return stageName(process, lead.pipeline, lead.stage);
  }
  if (!Object.hasOwn(lead.fields, name)) return '';
  const value = lead.fields[name];
  return value === null || value === undefined ? '' : String(value);
}

/** A stage's display name: looked up in the lead's pipeline first, then anywhere; else the id. */
export function stageName(process: Process, pipeline: string | null, stage: string): string {
  const inPipeline = process.pipelines.find((p) => p.id === pipeline)?.stages.find((s) => s.id === stage);
  if (inPipeline) return inPipeline.name;
  for (const p of process.pipelines) {
    const s = p.stages.find((x) => x.id === stage);
    if (s) return s.name;
  }
  return stage;
}
