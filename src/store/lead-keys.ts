import { foldCase, nameKey } from '../domain/text-key.js';
import { normaliseEmail } from './personal-data.js';

/**
 * The keys a lead is found by, kept on its row by every writer of its contact (the engine's and
 * the import's lead rows, erasure) and filled in for older rows by migration 0029: computed here,
 * in JavaScript, so both databases compare the same text with plain `=` and LIKE, through plain
 * column indexes that any tool opening the database can maintain (docs/ARCHITECTURE.md, "Case").
 */
export interface LeadKeys {
  /** The address as contacts are identified (normaliseEmail): the email filter, contacts, same_contact routing. */
  email_key: string | null;
  /** The company folded (text-key.ts nameKey): the company filter and the accounts. */
  company_key: string | null;
  /** The texts `q` searches, each folded, one a line: name, email, company, "first last". */
  search_key: string;
}

export interface LeadContact {
  name: string | null;
  email: string | null;
  company: string | null;
  /** The lead's fields, parsed (first_name and last_name are read). */
  fields: Readonly<Record<string, unknown>>;
}

export function leadKeys(c: LeadContact): LeadKeys {
  return {
    email_key: c.email === null ? null : normaliseEmail(c.email),
    company_key: nameKey(c.company),
    search_key: [c.name, c.email, c.company, personName(c.fields)].map((t) => foldCase(t ?? '')).join('\n'),
  };
}

/** The text a search for `q` looks for in search_key: folded alike, LIKE's own characters escaped. */
export function searchPattern(q: string): string {
  return `%${foldCase(q.trim()).replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The person's name as people type it, "first last": importers and forms keep it in the fields
 * first_name and last_name, while `name` is often the company or a deal's title.
 */
function personName(fields: Readonly<Record<string, unknown>>): string {
  const part = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
  return `${part(fields['first_name'])} ${part(fields['last_name'])}`.trim();
}
