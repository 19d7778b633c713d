import { createHash, createHmac } from 'node:crypto';

/**
 * What counts as a contact's personal data, and how it is replaced when the contact is erased.
 * One place, so export, erase and the docs (docs/privacy.md) agree on the same rules.
 */

/** A contact is identified by their address, whatever its case or surrounding spaces. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Whether a lead's current address (any field value) is still the one an effect was queued for. */
export function sameAddress(current: unknown, queued: string): boolean {
  return typeof current === 'string' && normaliseEmail(current) === normaliseEmail(queued);
}

/**
 * The unkeyed SHA-256 of the address: what suppressions and audit entries held before migration
 * 0020. Anyone who guesses an address can recompute it, so it is never stored any more; it is only
 * the message the keyed hash is taken over, which let that migration convert the old hashes.
 */
export function legacyEmailHash(email: string): string {
  return createHash('sha256').update(normaliseEmail(email)).digest('hex');
}

/** HMAC-SHA-256 of a legacy hash, keyed with the installation's secret (store/contact-keys.ts). */
export function keyedHash(secret: Buffer, legacyHash: string): string {
  return createHmac('sha256', secret).update(legacyHash).digest('hex');
}

/**
 * What the suppression list, audit entries and pseudonyms are derived from: without the
 * installation's secret, a guessed address cannot be checked against them.
 */
export function contactHash(secret: Buffer, email: string): string {
  return keyedHash(secret, legacyEmailHash(email));
}

/** Mailchimp addresses a list member by the MD5 of the lowercased address (INTEGRATIONS.md). */
export function subscriberHash(email: string): string {
  return createHash('md5').update(normaliseEmail(email)).digest('hex');
}

/**
 * What an erased contact's name becomes, from their contactHash: every lead of one person gets
 * the same pseudonym (reports can still count them as one contact) and erasing twice writes the
 * same value.
 */
export function pseudonymOf(contactHash: string): string {
  return `erased-${contactHash.slice(0, 10)}`;
}

/** A value an earlier erase wrote (pseudonymOf): someone already erased, not an address. */
export function isPseudonym(value: string): boolean {
  return /^erased-[0-9a-f]{10}$/.test(value.trim());
}

/** `first_name`, `firstName` and `First-Name` are one key. */
const squash = (key: string): string => key.toLowerCase().replace(/[_\-\s]/g, '');

const NAME_KEYS = new Set(['name', 'firstname', 'lastname', 'fullname']);

/** Keys that hold a way to reach the person: on the live lead they become null, so automation finds no address. */
export function isAddressKey(key: string): boolean {
  const k = squash(key);
  // A hash of an address (a list erasure's `email_hash`) reaches nobody, and a second erase must
  // not overwrite the hash a pending erasure of someone else still needs.
  if (k.endsWith('hash')) return false;
  return k.includes('email') || k.includes('phone');
}

export function isPersonalKey(key: string): boolean {
  return isAddressKey(key) || NAME_KEYS.has(squash(key));
}

const COMPANY_KEYS = new Set(['company', 'companyname', 'organisation', 'organization']);

/** Keys holding the company: business data, kept unless it is the person (Scrubber.company). */
export function isCompanyKey(key: string): boolean {
  return COMPANY_KEYS.has(squash(key));
}

// Shorter names would be replaced inside ordinary words of log messages.
const MIN_KNOWN_LENGTH = 3;
// A phone number has at least this many digits, and so does the part that must agree when it is
// written with another prefix: fewer would take other numbers (an amount, a reference).
const MIN_PHONE_DIGITS = 7;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Longest first, so a name inside an address does not break the address's own match. */
const alternation = (values: Iterable<string>): string =>
  [...new Set(values)]
    .sort((a, b) => b.length - a.length)
    .map(escapeRegExp)
    .join('|');

/** Whole words only: a letter or digit on either side means another word. */
const wholeWords = (pattern: string): RegExp =>
  new RegExp(`(?<![\\p{L}\\p{N}])(?:${pattern})(?![\\p{L}\\p{N}])`, 'giu');

/** A name of several words matches whatever the spaces between them. */
const spacedWords = (value: string): string => value.split(/\s+/).map(escapeRegExp).join('\\s+');

/**
 * A known value that is a phone number (digits with spaces, dashes, dots, slashes, parentheses
 * and maybe a leading +): the digit strings its significant part may be written as. An
 * international number (+44 20…, 0044 20…) may be written nationally (020…): its country code is
 * one to three digits, so each of those three splits is a candidate; a national number (020…)
 * drops its trunk 0. Only the person's own rows are searched, and at least seven trailing digits
 * must agree, so a wrong split cannot take another number.
 */
function phoneBodies(value: string): string[] {
  const v = value.trim();
  if (!/^[+(]?[\d\s\-.()/]+$/.test(v)) return [];
  let digits = v.replace(/\D/g, '');
  if (digits.length < MIN_PHONE_DIGITS) return [];
  const international = v.startsWith('+') || digits.startsWith('00');
  if (digits.startsWith('00')) digits = digits.slice(2);
  if (international)
    return [digits, ...[1, 2, 3].map((k) => digits.slice(k)).filter((d) => d.length >= MIN_PHONE_DIGITS)];
  return digits.startsWith('0') ? [digits.slice(1)] : [digits];
}

/** Separators people put inside a phone number. */
const SEP = '[ \\t\\-./()]{0,3}';
/** What may precede the significant digits: +CC or 00CC (with a UK-style "(0)"), or a trunk 0. */
const PHONE_LEAD = `(?:(?:\\+|00)${SEP}(?:\\d${SEP}){0,3}(?:\\(0\\)${SEP})?|\\(?0\\)?${SEP})?`;

/** The numbers written in any of those ways; never inside a longer digit string. */
function phonePattern(bodies: Iterable<string>): RegExp | null {
  const alts = [...new Set(bodies)].sort((a, b) => b.length - a.length).map((d) => d.split('').join(SEP));
  return alts.length === 0 ? null : new RegExp(`(?<![\\d+])${PHONE_LEAD}(?:${alts.join('|')})(?!\\d)`, 'g');
}

/**
 * Replaces a contact's personal data inside stored JSON and text. Values under personal keys are
 * replaced whole; the contact's known values (addresses, names, phone numbers) are also replaced
 * wherever they occur in free text, such as run-log messages ("subscribe jane@x.com to news").
 * Addresses are matched in any case; phone numbers on their digits, however they are written; a
 * name of several words as whole words in any case; other values as written, so a stage called
 * "Demo" stays apart from a person called "demo". Free-text reasons (`reason`) also match every
 * name and name part in any case, as whole words.
 */
export class Scrubber {
  private readonly emails: RegExp | null;
  private readonly phones: RegExp | null;
  private readonly fullNames: RegExp | null;
  private readonly others: RegExp | null;
  private readonly nameWords: RegExp | null;
  /** Every known value, trimmed and lowercased: what a company that is one of them whole is matched against. */
  private readonly whole = new Set<string>();

  constructor(
    readonly pseudonym: string,
    known: Iterable<string>,
  ) {
    const emails = new Set<string>();
    const others = new Set<string>();
    const bodies: string[] = [];
    const fullNames: string[] = [];
    const words = new Set<string>();
    for (const raw of known) {
      const v = raw.trim();
      if (v.length < MIN_KNOWN_LENGTH) continue;
      this.whole.add(v.toLowerCase());
      if (v.includes('@')) {
        emails.add(v.toLowerCase());
        continue;
      }
      others.add(v);
      const phone = phoneBodies(v);
      if (phone.length > 0) {
        bodies.push(...phone);
        continue;
      }
      const parts = v.split(/\s+/);
      if (parts.length > 1) fullNames.push(spacedWords(v));
      for (const part of parts) if (part.length >= MIN_KNOWN_LENGTH) words.add(part);
    }
    // Whole addresses only, as quotesAddress reads them: ann@zed.test inside joann@zed.test (a
    // colleague's address on another person's lead) is someone else's and stays.
    this.emails =
      emails.size > 0 ? new RegExp(`(?<![\\w.%+-])(?:${alternation(emails)})(?![\\w-]|\\.\\w)`, 'gi') : null;
    this.phones = phonePattern(bodies);
    // Patterns already escaped: longest first by their source.
    this.fullNames = fullNames.length > 0 ? wholeWords(fullNames.sort((a, b) => b.length - a.length).join('|')) : null;
    this.others = others.size > 0 ? new RegExp(alternation(others), 'g') : null;
    this.nameWords = words.size > 0 ? wholeWords(alternation(words)) : null;
  }

  text(s: string): string {
    let out = s;
    if (this.emails) out = out.replace(this.emails, this.pseudonym);
    if (this.phones) out = out.replace(this.phones, this.pseudonym);
    if (this.fullNames) out = out.replace(this.fullNames, this.pseudonym);
    if (this.others) out = out.replace(this.others, this.pseudonym);
    return out;
  }

  /**
   * A free-text reason about the person's lead (why it was lost or won): as text, and their names
   * and name parts in any case, as whole words ("KIM said no").
   */
  reason(s: string): string {
    const out = this.text(s);
    return this.nameWords ? out.replace(this.nameWords, this.pseudonym) : out;
  }

  /** Whether the text holds one of the person's addresses. */
  quotesAddress(s: string): boolean {
    return this.emails !== null && s.search(this.emails) !== -1;
  }

  /**
   * A company is business data and kept, even where a known value occurs in it (an imported deal's
   * title, its lead name "Delta", inside "Delta Ltd"), unless it is the person: it holds one of
   * their addresses, or it is one of their known values whole (a sole trader, a form's "company:
   * Jane Roe"). Then it goes as that value would.
   */
  company(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    if (this.quotesAddress(value)) return this.text(value);
    return this.whole.has(value.trim().toLowerCase()) ? this.pseudonym : value;
  }

  /** A personal value kept in history: the shape stays (set or not set), the content goes. */
  historyValue(value: unknown): unknown {
    return value === null || value === undefined ? value : this.pseudonym;
  }

  /**
   * Stored JSON of any shape. `personalKeys` says whether keys like email or first_name are
   * personal at every depth (an outbox payload); otherwise only inside a `fields` object (an
   * event's payload, where `name` is also a signal's name). A `note` is free text about the
   * contact and is dropped.
   */
  json(value: unknown, personalKeys: boolean): unknown {
    if (typeof value === 'string') return this.text(value);
    if (Array.isArray(value)) return value.map((v) => this.json(v, personalKeys));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'note') out[k] = null;
      else if (k === 'reason' && typeof v === 'string') out[k] = this.reason(v);
      else if (personalKeys && isCompanyKey(k)) out[k] = this.company(v);
      else if (personalKeys && isPersonalKey(k)) out[k] = this.historyValue(v);
      else if (k === 'fields') out[k] = this.json(v, true);
      else out[k] = this.json(v, personalKeys);
    }
    return out;
  }

  /**
   * The lead's own fields, which automation reads: names become the pseudonym, addresses null
   * (so no email, list or enrichment effect can be queued for the lead again), the rest is kept.
   */
  liveFields(fields: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      if (isAddressKey(k)) out[k] = null;
      else if (isPersonalKey(k)) out[k] = this.historyValue(v);
      else if (isCompanyKey(k)) out[k] = this.company(v);
      else out[k] = this.json(v, false);
    }
    return out;
  }
}
