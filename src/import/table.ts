import { closeSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import { readCsv, type CsvEncoding, type CsvProgress, type CsvRecord } from './csv.js';
import { readXlsx } from './xlsx.js';

/**
 * The one place that decides how an export file is read: a `.xlsx` (or `.xlsm`) workbook row by
 * row, anything else as CSV. The first bytes must agree with the name: a workbook is a ZIP file
 * (`PK\x03\x04`), so a workbook named `.csv` or a CSV named `.xlsx` is refused with a message
 * that says which it is, rather than read as garbage.
 */

export type TableKind = 'csv' | 'xlsx';

/** The file is not what its name says, or is a kind we cannot read. The message names the file. */
export class TableFileError extends Error {}

const WORKBOOK_EXTENSIONS = new Set(['.xlsx', '.xlsm']);
const ZIP = [0x50, 0x4b, 0x03, 0x04];
/** OLE2 compound file: an old binary .xls workbook, or an encrypted (password-protected) .xlsx. */
const OLE2 = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export function tableKind(path: string, label: string): TableKind {
  const ext = extname(path).toLowerCase();
  const head = firstBytes(path, 8);
  const zip = startsWith(head, ZIP);
  const ole2 = startsWith(head, OLE2);
  if (WORKBOOK_EXTENSIONS.has(ext)) {
    if (zip) return 'xlsx';
    if (ole2)
      throw new TableFileError(
        `${label}: the workbook is password-protected (encrypted) or an old binary Excel file: ` +
          'remove the password, or save it as "Excel Workbook (.xlsx)" or CSV',
      );
    throw new TableFileError(
      `${label}: not an XLSX workbook (an XLSX file is a ZIP archive; this one is not): ` +
        'if it is a CSV file, name it .csv',
    );
  }
  if (ext === '.xls' || ole2)
    throw new TableFileError(
      `${label}: an old binary Excel workbook (.xls) or an encrypted one cannot be imported: ` +
        'save it as "Excel Workbook (.xlsx)" or CSV',
    );
  if (zip)
    throw new TableFileError(
      `${label}: this is an XLSX workbook (a ZIP archive), not CSV: name it .xlsx to import its first worksheet`,
    );
  return 'csv';
}

export interface TableOptions {
  /** CSV: the field separator, and how its bytes are text (default UTF-8). */
  delimiter?: string;
  encoding?: CsvEncoding;
  /** XLSX: the worksheet (default the first); the decimal separator numbers are written with. */
  sheet?: string;
  decimal?: '.' | ',';
  onProgress?: (p: CsvProgress) => void;
}

/** The file's records, CSV or XLSX alike: `line` is the CSV line or the worksheet's row number. */
export function readTable(
  path: string,
  label: string,
  kind: TableKind,
  opts: TableOptions = {},
): AsyncGenerator<CsvRecord> {
  const progress = opts.onProgress ? { onProgress: opts.onProgress } : {};
  if (kind === 'xlsx')
    return readXlsx(path, label, {
      ...progress,
      ...(opts.sheet !== undefined ? { sheet: opts.sheet } : {}),
      ...(opts.decimal ? { decimal: opts.decimal } : {}),
    });
  return readCsv(path, label, {
    ...progress,
    ...(opts.delimiter ? { delimiter: opts.delimiter } : {}),
    ...(opts.encoding ? { encoding: opts.encoding } : {}),
  });
}

function firstBytes(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const read = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}

function startsWith(head: Buffer, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((b, i) => head[i] === b);
}
