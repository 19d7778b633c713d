import { stringify } from 'csv-stringify';
import { Transform } from 'node:stream';
import { EXPORT_COLUMNS, type ExportKind, type ExportRow } from './export.js';

/**
 * The byte formats of an export, shared by `stageflow export` and `GET /api/v1/exports/...`:
 * JSON lines (exact, for tools) and CSV (for spreadsheets).
 */

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote
 * (OWASP's advice on CSV injection): lead names come from web forms. JSON lines stay exact.
 */
export function defuseFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function csvWriter(kind: ExportKind): Transform {
  return stringify({
    header: true,
    columns: [...EXPORT_COLUMNS[kind]],
    cast: {
      boolean: (v) => (v ? 'true' : 'false'),
      object: (v) => JSON.stringify(v),
      string: defuseFormula,
    },
  });
}

export function jsonLinesWriter(): Transform {
  return new Transform({
    writableObjectMode: true,
    transform(row: ExportRow, _enc, done) {
      done(null, `${JSON.stringify(row)}\n`);
    },
  });
}
