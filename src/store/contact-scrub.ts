import { isAddressKey, isCompanyKey, isPersonalKey, Scrubber } from './personal-data.js';

/**
 * The Scrubber of personal-data.ts with erase's rule for a company: it is the person only when it
 * is one of their addresses or one of their personal names whole (a name field of the contact:
 * first, last or full name), never because it equals a lead's `name`. That is often the deal's
 * title, and a deal named after its company ("Tidewater Architects") must keep its company, or
 * the account loses its deals and the reports change.
 */

const squash = (key: string): string => key.toLowerCase().replace(/[_\-\s]/g, '');

/** Personal name keys that name the person rather than the lead: every personal key but `name` and addresses. */
export function isPersonNameKey(key: string): boolean {
  return isPersonalKey(key) && !isAddressKey(key) && squash(key) !== 'name';
}

/** The person-name values of an object (a lead's fields, a payload), for ErasureScrubber's company rule. */
export function personNames(obj: Record<string, unknown>): string[] {
  return Object.entries(obj)
    .filter(([k, v]) => isPersonNameKey(k) && typeof v === 'string')
    .map(([, v]) => v as string);
}

export class ErasureScrubber extends Scrubber {
  private readonly person: Set<string>;

  /** `known`: every value replaced in text; `personal`: the person's names a company may be whole. */
  constructor(pseudonym: string, known: Iterable<string>, personal: Iterable<string>) {
    super(pseudonym, known);
    this.person = new Set([...personal].map((v) => v.trim().toLowerCase()));
  }

  override company(value: unknown): unknown {
    // The base rule pseudonymises a company that is any known value whole; only the person's
    // addresses and names may make it go.
    if (typeof value === 'string' && !this.quotesAddress(value) && !this.person.has(value.trim().toLowerCase()))
      return value;
    return super.company(value);
  }

  /**
   * Known values replaced at any depth, keys left as they are (a company kept unless it is the
   * person). For rows that also hold someone else's data: an earlier lead's, whose current
   * contact is another person. `dropNotes`: a `note` is free text about the person (written while
   * the lead was theirs) and goes.
   */
  values(value: unknown, dropNotes: boolean): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.values(v, dropNotes));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'note' && dropNotes && v !== null) out[k] = null;
      else if (isCompanyKey(k)) out[k] = this.company(v);
      else out[k] = this.values(v, dropNotes);
    }
    return out;
  }
}
