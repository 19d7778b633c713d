import type { Fields, FieldValue } from './conditions.js';

/**
 * The marketing opt-out, the lead field `unsubscribed`. People and other systems write it in many
 * spellings (a CSV export's `TRUE`, HubSpot's `Yes`, a spreadsheet's `1`), so each is read as the
 * yes or no it means, wherever the flag is read: what decide() stores, the mail it queues, and
 * what the worker sends.
 */

export const OPT_OUT_FIELD = 'unsubscribed';

const YES = new Set(['true', 'yes', 'y', '1', 'on']);
const NO = new Set(['false', 'no', 'n', '0', 'off']);

/** The yes or no a value spells; null for a cleared field (null or ''), undefined for anything else. */
export function optOutValue(v: FieldValue | undefined): boolean | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v;
  const text = String(v).trim().toLowerCase();
  if (text === '') return null;
  return YES.has(text) ? true : NO.has(text) ? false : undefined;
}

/**
 * Whether the contact opted out of marketing mail. A value that spells neither yes nor no (stored
 * before values were checked, or imported) counts as opted out: consent is never guessed.
 */
export function optedOut(fields: Fields): boolean {
  const v = optOutValue(fields[OPT_OUT_FIELD]);
  return v === undefined || v === true;
}

/** An address's opt-out remembered after its leads (store/opt-outs.ts): when, and who asked. */
export interface RememberedOptOut {
  at: number;
  /** 'unsubscribe link', 'mailchimp', 'user katrin', …, as the run log names it. */
  source: string;
}

/** The run log's reason a lead starts opted out: `the address opted out on 2026-11-29 (unsubscribe link)`. */
export function rememberedOptOutReason(r: RememberedOptOut): string {
  return `the address opted out on ${new Date(r.at).toISOString().slice(0, 10)} (${r.source})`;
}
