import ExcelJS from 'exceljs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';

/** Real .xlsx files for the import tests, written by exceljs's writer into a temporary folder. */

export type CellInput = ExcelJS.CellValue;

export interface SheetInput {
  name: string;
  /** Rows by their spreadsheet row number (1-based); missing numbers are rows left empty. */
  rows: Map<number, CellInput[]> | CellInput[][];
  state?: 'visible' | 'hidden';
  /** Number formats by column (1-based). */
  formats?: Record<number, string>;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'stageflow-xlsx-'));
}

export async function writeWorkbook(path: string, sheets: SheetInput[]): Promise<string> {
  const wb = new ExcelJS.Workbook();
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name, { state: s.state ?? 'visible' });
    const rows = s.rows instanceof Map ? [...s.rows] : s.rows.map((r, i) => [i + 1, r] as const);
    for (const [number, values] of rows) {
      const row = ws.getRow(number);
      values.forEach((v, i) => {
        if (v === null || v === undefined) return;
        const cell = row.getCell(i + 1);
        cell.value = v;
        const fmt = s.formats?.[i + 1];
        if (fmt && number > 1) cell.numFmt = fmt;
      });
      row.commit();
    }
  }
  // Through a buffer: exceljs' writeFile resolves before its descriptor is closed, which a test
  // counting open files would see.
  writeFileSync(path, Buffer.from(await wb.xlsx.writeBuffer()));
  return path;
}

/** A wall-clock date-time as exceljs writes it (Excel dates carry no zone: UTC fields = wall time). */
export function wall(text: string): Date {
  const [d, t] = text.split(/[ T]/);
  return new Date(`${d}T${t ?? '00:00:00'}Z`);
}

/**
 * A CSV export as a workbook with typed cells: the columns named in `numbers` become numbers,
 * those in `dates` Excel dates (with a time format when the text has a time), the rest text.
 */
export async function workbookFromCsv(
  csvPath: string,
  xlsxPath: string,
  kinds: { numbers: string[]; dates: string[]; parseDate?: (text: string) => Date },
  opts: { sheetName?: string; extraRows?: Map<number, CellInput[]> } = {},
): Promise<string> {
  const records = parse(readFileSync(csvPath, 'utf8'), { bom: true, relax_column_count: true }) as string[][];
  const header = records[0]!;
  const toDate = kinds.parseDate ?? wall;
  const rows = new Map<number, CellInput[]>();
  const formats: Record<number, string> = {};
  records.forEach((record, i) => {
    const values = record.map((text, col): CellInput => {
      const column = header[col] ?? '';
      if (i === 0 || text === '') return i === 0 ? text : null;
      if (kinds.numbers.includes(column)) return Number(text);
      if (kinds.dates.includes(column)) {
        const d = toDate(text);
        // The cell's format shows a time only when the export had one: the reader must not need it.
        formats[col + 1] = d.getTime() % 86_400_000 === 0 ? 'yyyy-mm-dd' : 'yyyy-mm-dd hh:mm:ss';
        return d;
      }
      return text;
    });
    rows.set(i + 1, values);
  });
  for (const [n, values] of opts.extraRows ?? []) rows.set(n, values);
  return writeWorkbook(xlsxPath, [{ name: opts.sheetName ?? 'Export', rows, formats }]);
}
