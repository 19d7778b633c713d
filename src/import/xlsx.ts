import ExcelJS from 'exceljs';
import type { Readable } from 'node:stream';
import type { CsvProgress, CsvRecord } from './csv.js';
import { FormulaErrors } from './xlsx-formula-errors.js';
import { ZipFile, type ZipPart } from './zip.js';

/**
 * Streams the rows of one worksheet of an XLSX workbook, so memory stays flat on a large file:
 * only the shared strings (each distinct text once) and the styles are kept. Rows come as the
 * same records as `readCsv`, their `line` the spreadsheet's row number, each cell as the text the
 * value parsers read: numbers in plain decimal, dates in ISO, booleans as true/false, rich text
 * and hyperlinks as their text, formulas as their cached result.
 *
 * exceljs parses the XML (its streaming WorkbookReader's parts: relationships, workbook, styles,
 * shared strings, worksheet). Its own reading of the ZIP file is not used: it drops the last parts
 * of a file now and then (unzipper's stream ends early), crashes on workbooks whose `workbook.xml`
 * comes after the sheets (exceljs#3064), and decodes each chunk of XML on its own, which turns a
 * UTF-8 character split across two chunks into "\ufffd". `zip.ts` (yauzl) hands it each part as
 * text, in the order it needs them, read from disk through the ZIP file's directory.
 */

export interface XlsxOptions {
  /** The worksheet to read (its tab's name, without case); default the first visible one. */
  sheet?: string;
  /** The decimal separator numbers are written with: the mapping's, so that its parser reads them back. */
  decimal?: '.' | ',';
  onProgress?: (p: CsvProgress) => void;
}

/** The workbook cannot be read: damaged, not a workbook, no such sheet. The message names the file. */
export class XlsxReadError extends Error {}

interface SheetEntry {
  name?: string;
  state?: string;
  rId?: string;
}

/** The parts of exceljs's WorkbookReader used here; it does not type them. */
interface ReaderParts {
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseWorksheet(iterator: AsyncIterable<string>, sheetNo: string): Generator<{ eventType: string; value: unknown }>;
  model?: { sheets?: SheetEntry[] };
  workbookRels?: { Id?: string; Target?: string }[];
  properties?: { model?: { date1904?: boolean } };
}

export async function* readXlsx(path: string, label: string, opts: XlsxOptions = {}): AsyncGenerator<CsvRecord> {
  const decimal = opts.decimal ?? '.';
  let sheet: Sheet;
  try {
    sheet = await openSheet(path, label, opts.sheet);
  } catch (e) {
    throw e instanceof XlsxReadError
      ? e
      : new XlsxReadError(`${label}: damaged, or not an XLSX workbook (${messageOf(e)})`);
  }
  const { part, zip, date1904, formulaErrors } = sheet;
  let reported = -1;
  try {
    for await (const row of sheet.rows) {
      const read = part.bytesRead();
      if (opts.onProgress && read !== reported) {
        reported = read;
        opts.onProgress({ bytesRead: read, totalBytes: part.compressedSize });
      }
      const values: string[] = [];
      row.eachCell({ includeEmpty: false }, (cell, col) => {
        // A formula whose cached result is an error reads as the error, as a plain error cell does.
        values[col - 1] =
          formulaErrors.take(cell.address) ?? cellText(cell.value, cell.numFmt, date1904, decimal, label, row.number);
      });
      for (let i = 0; i < values.length; i++) values[i] ??= '';
      // A row of empty cells (formatting only, or cleared) is not a record, as an empty CSV line.
      if (values.every((v) => v === '')) continue;
      yield { line: row.number, values };
    }
  } catch (e) {
    throw e instanceof XlsxReadError
      ? e
      : new XlsxReadError(`${label}: damaged, or not an XLSX workbook (${messageOf(e)})`);
  } finally {
    part.stream.destroy();
    zip.close();
  }
}

interface Sheet {
  rows: AsyncIterable<ExcelJS.Row>;
  part: ZipPart;
  zip: ZipFile;
  date1904: boolean;
  formulaErrors: FormulaErrors;
}

async function openSheet(path: string, label: string, wanted: string | undefined): Promise<Sheet> {
  const zip = await ZipFile.open(path);
  try {
    return await openSheetOf(zip, path, label, wanted);
  } catch (e) {
    zip.close();
    throw e;
  }
}

async function openSheetOf(zip: ZipFile, path: string, label: string, wanted: string | undefined): Promise<Sheet> {
  if (!zip.has('xl/workbook.xml')) throw new XlsxReadError(`${label}: a ZIP archive, but not an XLSX workbook`);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    // Styles hold the number formats that tell a date from a number.
    styles: 'cache',
    // A hyperlink cell keeps its text as its value.
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  const parts = reader as unknown as ReaderParts;
  if (typeof parts._parseWorksheet !== 'function') throw new Error('this version of exceljs is not supported');
  const text = async (name: string): Promise<Readable> => (await zip.openText(name)).stream;
  if (zip.has('xl/_rels/workbook.xml.rels')) await parts._parseRels(await text('xl/_rels/workbook.xml.rels'));
  await parts._parseWorkbook(await text('xl/workbook.xml'));
  if (zip.has('xl/styles.xml')) await parts._parseStyles(await text('xl/styles.xml'));
  if (zip.has('xl/sharedStrings.xml'))
    for await (const s of parts._parseSharedStrings(await text('xl/sharedStrings.xml'))) void s; // cached, not emitted

  const tabs = parts.model?.sheets ?? [];
  const tab =
    wanted === undefined
      ? (tabs.find((t) => t.state !== 'hidden' && t.state !== 'veryHidden') ?? tabs[0])
      : tabs.find((t) => t.name?.toLowerCase() === wanted.toLowerCase());
  if (!tab) {
    const names = tabs.map((t) => `"${t.name ?? ''}"`).join(', ') || 'none';
    throw new XlsxReadError(
      wanted === undefined
        ? `${label}: the workbook has no worksheet`
        : `${label}: no worksheet named "${wanted}" (the workbook has ${names})`,
    );
  }
  const target = parts.workbookRels?.find((r) => r.Id === tab.rId)?.Target;
  const name = target === undefined ? undefined : target.startsWith('/') ? target.slice(1) : `xl/${target}`;
  if (name === undefined || !zip.has(name))
    throw new XlsxReadError(`${label}: "${tab.name ?? ''}" is not a worksheet (a chart sheet?) or is missing`);
  const part = await zip.openText(name);
  const sheetNo = /sheet(\d+)\.xml$/.exec(name)?.[1] ?? '1';
  const formulaErrors = new FormulaErrors();
  const emitted = parts._parseWorksheet(formulaErrors.scanning(part.stream), sheetNo).next();
  if (emitted.done) throw new Error('exceljs did not open the worksheet');
  return {
    rows: emitted.value.value as AsyncIterable<ExcelJS.Row>,
    part,
    zip,
    date1904: parts.properties?.model?.date1904 === true,
    formulaErrors,
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A cell's value as the text an export would hold. */
export function cellText(
  value: unknown,
  numFmt: string | undefined,
  date1904: boolean,
  decimal: '.' | ',',
  label: string,
  row: number,
): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number')
    return isDateFormat(numFmt) && Number.isFinite(value)
      ? isoWallTime(excelSerialToDate(value, date1904))
      : plainNumber(value, decimal);
  if (value instanceof Date) return isoWallTime(value);
  if (typeof value !== 'object') return '';
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['richText']))
    return (v['richText'] as { text?: unknown }[])
      .map((run) => (typeof run.text === 'string' ? run.text : ''))
      .join('');
  // A formula: its result as Excel last calculated it (none if never calculated; a cached error
  // exceljs loses, see FormulaErrors).
  if ('formula' in v || 'sharedFormula' in v || 'result' in v)
    return cellText(v['result'], numFmt, date1904, decimal, label, row);
  if ('hyperlink' in v && 'text' in v) return cellText(v['text'], numFmt, date1904, decimal, label, row);
  if (typeof v['error'] === 'string') return v['error']; // #N/A, #VALUE!: as a CSV export writes them
  if ('sharedString' in v)
    throw new XlsxReadError(`${label}:${row}: a cell refers to a shared text the workbook does not have`);
  return '';
}

/**
 * A number as plain decimal text: no exponent, no grouping, the given decimal separator. A fraction
 * keeps Excel's 15 significant digits (a formula's 13750.000000000002 is the 13750 Excel shows).
 */
export function plainNumber(n: number, decimal: '.' | ',' = '.'): string {
  if (!Number.isFinite(n)) return '';
  const v = Number.isInteger(n) ? n : Number(n.toPrecision(15));
  const text = Object.is(v, -0) ? '0' : withoutExponent(String(v));
  return decimal === ',' ? text.replace('.', ',') : text;
}

function withoutExponent(s: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const digits = m[2]! + (m[3] ?? '');
  const point = 1 + Number(m[4]);
  if (point <= 0) return `${m[1]}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${m[1]}${digits}${'0'.repeat(point - digits.length)}`;
  return `${m[1]}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * Excel dates carry no zone: exceljs gives their wall time as UTC. Written as `YYYY-MM-DD`, or
 * `YYYY-MM-DDTHH:mm:ss` when there is a time of day, they are read in the mapping's zone like a
 * CSV export's dates. Rounded to the second: a serial's fraction of a day is rarely exact.
 */
export function isoWallTime(d: Date): string {
  const ms = Math.round(d.getTime() / 1000) * 1000;
  if (!Number.isFinite(ms)) return '';
  const iso = new Date(ms).toISOString();
  return ms % 86_400_000 === 0 ? iso.slice(0, 10) : iso.slice(0, 19);
}

function excelSerialToDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
}

/** A number format that shows a date or time (as exceljs decides for plain cells): y, m, d, h, s outside quotes and brackets. */
function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  return /[ymdhsb]/i.test(
    format
      .replace(/\[[^\]]*]/g, '')
      .replace(/"[^"]*"/g, '')
      .replace(/General/gi, ''),
  );
}
