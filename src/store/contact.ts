import type { Tx } from './db.js';
import { normaliseEmail } from './personal-data.js';
import type { LeadRow } from './export.js';

/**
 * A contact is a person identified by their email address: every lead whose `email` is that
 * address, compared without case or surrounding spaces. Data exports and erasure start here.
 */

/** A request the store refuses: not an address, or an address it knows nothing about. */
export class ContactError extends Error {
  constructor(
    readonly code: 'invalid_email' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'ContactError';
  }
}

export function contactNotFound(email: string): ContactError {
  return new ContactError('not_found', `no lead has the email address ${email}, and it was never erased`);
}

export type ContactLeadRow = LeadRow;

/**
 * The contact's lead rows, oldest id first. `lock` (PostgreSQL) takes the rows' locks so an erase
 * and an engine batch on the same lead run one after the other. The expression index
 * `leads_contact_email` on lower(trim(email)) answers the lookup.
 */
export async function contactLeads(tx: Tx, email: string, lock: boolean): Promise<ContactLeadRow[]> {
  const q = tx
    .selectFrom('leads')
    .selectAll()
    .where((eb) => eb(eb.fn<string>('lower', [eb.fn<string>('trim', ['email'])]), '=', normaliseEmail(email)))
    .orderBy('id');
  return (lock ? q.forUpdate() : q).execute();
}

/** An address worth looking up: something before and after one @. */
export function checkEmail(email: string): string {
  const norm = normaliseEmail(email);
  if (!/^[^@\s]+@[^@\s]+$/.test(norm))
    throw new ContactError('invalid_email', `${JSON.stringify(email)} is not an email address`);
  return norm;
}
