/**
 * A contact's full name as another CRM exports it ("Person - Name"), split into the lead fields
 * `first_name` and `last_name` that mail merge (Mailchimp's FNAME and LNAME) and erasure read.
 * "Last, First" is read as written; otherwise the first word is the first name and the rest the
 * last name, as Pipedrive splits a person's name itself.
 */
export interface PersonName {
  first_name?: string;
  last_name?: string;
}

export function splitPersonName(full: string): PersonName {
  const clean = (s: string): string => s.trim().replace(/\s+/g, ' ');
  const whole = clean(full);
  if (whole === '') return {};
  const comma = whole.indexOf(',');
  if (comma > 0 && whole.indexOf(',', comma + 1) < 0) {
    const last = clean(whole.slice(0, comma));
    const first = clean(whole.slice(comma + 1));
    if (first !== '' && last !== '') return { first_name: first, last_name: last };
  }
  const space = whole.indexOf(' ');
  if (space < 0) return { first_name: whole };
  return { first_name: whole.slice(0, space), last_name: whole.slice(space + 1) };
}
