import type { Fields } from '../domain/conditions.js';

/** What every export format is turned into before it meets the process: one deal, in our terms. */

export type ImportStatus = 'open' | 'won' | 'lost';

/** A date cell: the instant it means and the text the file wrote, which messages quote. */
export interface DateCell {
  at: number;
  text: string;
  /** A calendar day without a time of day: its midnight in the organisation's zone. */
  dateOnly: boolean;
}

export interface ImportRecord {
  file: string;
  /** 1-based line of the record in its file (the first line of a multi-line quoted record). */
  line: number;
  /** Empty when the id cell is (an error already reported). */
  sourceId: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  company: string | null;
  /** As written in the export: a user id, name or email, resolved against the process. */
  owner: string | null;
  /** Major units (the export's own number, in `currency`); the store keeps minor units. */
  value: number | null;
  /**
   * The ISO code the value is in, as the row says it (a currency column, or a code or sign in the
   * amount) or the mapping's `currency`; null: the organisation's.
   */
  currency: string | null;
  /** Which mapped field said the currency (`currency` or `value`), null for the mapping's default. */
  currencyFrom: 'currency' | 'value' | null;
  product: string | null;
  territory: string | null;
  source: string | null;
  pipeline: string | null;
  /** As written in the export, resolved against the process (or the mapping's stage table). */
  stage: string | null;
  status: ImportStatus | null;
  createdAt: DateCell | null;
  closedAt: DateCell | null;
  expectedClose: DateCell | null;
  closeReason: string | null;
  /** When the deal entered its current stage (Pipedrive's "Last stage change"). */
  lastStageChange: DateCell | null;
  /** Stage name as written -> when the deal entered it (HubSpot "Date entered …", Maven engage_date). */
  stageDates: { stage: string; date: DateCell }[];
  /** Any other mapped columns, kept on the lead as custom fields. */
  fields: Fields;
  /**
   * Mapped fields whose cell could not be read (already reported), plus `stage_dates` for a bad
   * per-stage date: the checks that need them are skipped rather than failing a second time on a
   * stand-in, while every other column of the row is still checked.
   */
  unreadable: ReadonlySet<string>;
}

export interface ImportProblem {
  file: string;
  line: number;
  /** The column (or field) at fault, when there is one. */
  column: string | null;
  message: string;
  severity: 'error' | 'warning';
}

export function formatImportProblem(p: ImportProblem): string {
  const where = p.column ? `${p.file}:${p.line}: ${p.column}` : `${p.file}:${p.line}`;
  return `${where}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}
