import { fieldsSchema } from './events.js';
import type { Automation } from './process-schema.js';

/** A problem found in one automation, its path relative to that automation. */
export interface AutomationFieldProblem {
  path: (string | number)[];
  message: string;
}

/**
 * A `set` automation writes a lead field on every lead that reaches it, so its field and value are
 * held to the same rules as a field typed through the API or the CLI (`fieldsSchema`, the one
 * place those rules live): a lead attribute such as `status` is not a field, and the fields the
 * reports read (`value`, `expected_close`, `email`) must have their type. Checked when the process
 * is validated, a bad value is refused once, at its line, instead of being written into every lead.
 */
export function checkAutomationFields(a: Automation): AutomationFieldProblem[] {
  if (!('set' in a)) return [];
  const { field, value, after } = a.set;
  // A null value only clears the field, so this parse fails on the field's name alone.
  const name = fieldsSchema.safeParse({ [field]: null });
  if (!name.success) return issuesAt(['set', 'field'], `"${field}" is`, name.error.issues);
  if (after !== undefined) {
    // `after` writes a date such as 2026-04-05: the field must take one (not `value`, not `email`).
    const dated = fieldsSchema.safeParse({ [field]: SAMPLE_DATE });
    if (!dated.success)
      return dated.error.issues.map((issue) => ({
        path: ['set', 'after'],
        message: `after writes a date, and ${field} ${issue.message}`,
      }));
    return [];
  }
  const typed = fieldsSchema.safeParse({ [field]: value ?? null });
  if (!typed.success) return issuesAt(['set', 'value'], field, typed.error.issues, value);
  return [];
}

const SAMPLE_DATE = '2026-01-31';

function issuesAt(
  path: (string | number)[],
  subject: string,
  issues: readonly { message: string }[],
  value?: string | number | boolean | null,
): AutomationFieldProblem[] {
  // The value is quoted so the reader sees what was written, e.g. `value must be a number, not "lots"`.
  const shown = value === undefined ? '' : `, not ${JSON.stringify(value)}`;
  return issues.map((issue) => ({ path, message: `${subject} ${issue.message}${shown}` }));
}
