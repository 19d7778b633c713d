import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CsvProgress, CsvRecord } from '../../src/import/csv.js';
import { readTable, TableFileError, tableKind } from '../../src/import/table.js';
import { plainNumber, readXlsx, XlsxReadError, type XlsxOptions } from '../../src/import/xlsx.js';
import { tempDir, wall, writeWorkbook, type CellInput } from './xlsx-support.js';

/** The XLSX reader: cells as the text the value parsers read, row numbers, sheets, damaged files. */

async function readAll(path: string, opts: XlsxOptions = {}): Promise<CsvRecord[]> {
  const out: CsvRecord[] = [];
  for await (const r of readXlsx(path, 'book.xlsx', opts)) out.push(r);
  return out;
}

async function failure(run: () => Promise<unknown>): Promise<Error> {
  try {
    await run();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

const CELLS: { label: string; value: CellInput; format?: string; text: string; comma?: string }[] = [
  { label: 'integer', value: 12500, text: '12500' },
  { label: 'fraction', value: 8000.5, text: '8000.5', comma: '8000,5' },
  { label: 'grouped format', value: 1234567.891, format: '#,##0.00', text: '1234567.891', comma: '1234567,891' },
  { label: 'huge', value: 1e21, text: '1000000000000000000000' },
  { label: 'tiny', value: 0.0000001, text: '0.0000001', comma: '0,0000001' },
  { label: 'negative', value: -0.5, text: '-0.5', comma: '-0,5' },
  { label: 'date', value: wall('2026-01-05'), format: 'yyyy-mm-dd', text: '2026-01-05' },
  {
    label: 'date shown without time',
    value: wall('2026-01-05 14:22:10'),
    format: 'dd/mm/yyyy',
    text: '2026-01-05T14:22:10',
  },
  {
    label: 'date-time',
    value: wall('2026-01-05 14:22:10'),
    format: 'yyyy-mm-dd hh:mm:ss',
    text: '2026-01-05T14:22:10',
  },
  { label: 'true', value: true, text: 'true' },
  { label: 'false', value: false, text: 'false' },
  {
    label: 'rich text',
    value: { richText: [{ text: 'Acme ' }, { font: { bold: true }, text: 'Corp' }] },
    text: 'Acme Corp',
  },
  { label: 'hyperlink', value: { text: 'Acme site', hyperlink: 'https://acme.example' }, text: 'Acme site' },
  { label: 'formula number', value: { formula: 'A2*1.1', result: 13750.000000000002 }, text: '13750' },
  { label: 'formula text', value: { formula: '"a"&"b"', result: 'ab' }, text: 'ab' },
  {
    label: 'formula date',
    value: { formula: 'G2+1', result: wall('2026-01-06') },
    format: 'yyyy-mm-dd',
    text: '2026-01-06',
  },
  { label: 'error', value: { error: '#N/A' }, text: '#N/A' },
  // exceljs's streaming reader drops a formula's cached error (its <v> read as a number).
  { label: 'formula error', value: { formula: 'VLOOKUP(A2,B:C,2,FALSE)', result: { error: '#N/A' } }, text: '#N/A' },
  { label: 'formula error 2', value: { formula: 'B2*2', result: { error: '#VALUE!' } }, text: '#VALUE!' },
  { label: 'empty', value: null, text: '' },
  { label: 'text', value: 'plain text', text: 'plain text' },
];

async function cellsBook(): Promise<string> {
  const formats: Record<number, string> = {};
  CELLS.forEach((c, i) => {
    if (c.format) formats[i + 1] = c.format;
  });
  return writeWorkbook(join(tempDir(), 'cells.xlsx'), [
    { name: 'Cells', rows: [CELLS.map((c) => c.label), CELLS.map((c) => c.value)], formats },
  ]);
}

describe('readXlsx', () => {
  it('turns every kind of cell into the text the value parsers read', async () => {
    const rows = await readAll(await cellsBook());
    expect(rows.map((r) => r.line)).toEqual([1, 2]);
    expect(rows[0]!.values).toEqual(CELLS.map((c) => c.label));
    expect(Object.fromEntries(CELLS.map((c, i) => [c.label, rows[1]!.values[i]]))).toEqual(
      Object.fromEntries(CELLS.map((c) => [c.label, c.text])),
    );
  });

  it('writes numbers with the mapping’s decimal comma, never grouped', async () => {
    const rows = await readAll(await cellsBook(), { decimal: ',' });
    expect(Object.fromEntries(CELLS.map((c, i) => [c.label, rows[1]!.values[i]]))).toEqual(
      Object.fromEntries(CELLS.map((c) => [c.label, c.comma ?? c.text])),
    );
  });

  it('plainNumber keeps Excel’s 15 digits and never writes an exponent', () => {
    expect(plainNumber(0.1 + 0.2)).toBe('0.3');
    expect(plainNumber(1.5e-10)).toBe('0.00000000015');
    expect(plainNumber(-2.5e22)).toBe('-25000000000000000000000');
    expect(plainNumber(4915112345678)).toBe('4915112345678');
    expect(plainNumber(-0)).toBe('0');
    expect(plainNumber(Number.NaN)).toBe('');
  });

  it('numbers records by their spreadsheet row and skips empty rows', async () => {
    const path = await writeWorkbook(join(tempDir(), 'gaps.xlsx'), [
      {
        name: 'Deals',
        rows: new Map<number, CellInput[]>([
          [1, ['id', 'name', 'note']],
          [2, [1, 'one']],
          [4, [2, null, 'two']],
          [5, [null, '']],
          [9, [3, 'three']],
          [12, [null, null, '']],
        ]),
      },
    ]);
    const rows = await readAll(path);
    expect(rows).toEqual([
      { line: 1, values: ['id', 'name', 'note'] },
      { line: 2, values: ['1', 'one'] },
      { line: 4, values: ['2', '', 'two'] },
      { line: 9, values: ['3', 'three'] },
    ]);
  });

  it('reads the first visible worksheet, or the one named by sheet (without case)', async () => {
    const path = await writeWorkbook(join(tempDir(), 'sheets.xlsx'), [
      { name: 'Notes', state: 'hidden', rows: [['a note']] },
      { name: 'Deals', rows: [['id'], ['D-1']] },
      { name: 'Other', rows: [['id'], ['O-1']] },
    ]);
    expect((await readAll(path)).map((r) => r.values[0])).toEqual(['id', 'D-1']);
    expect((await readAll(path, { sheet: 'other' })).map((r) => r.values[0])).toEqual(['id', 'O-1']);
    const e = await failure(() => readAll(path, { sheet: 'Pipeline' }));
    expect(e).toBeInstanceOf(XlsxReadError);
    expect(e.message).toBe('book.xlsx: no worksheet named "Pipeline" (the workbook has "Notes", "Deals", "Other")');
  });

  it('reads every formula error however the XML is cut into chunks', async () => {
    const errors = ['#N/A', '#VALUE!', '#DIV/0!', '#REF!', '#NAME?'] as const;
    const rows = Array.from({ length: 6000 }, (_, i): CellInput[] => [
      i,
      i % 7 === 0
        ? { formula: `1/${i}`, result: { error: errors[i % errors.length]! } }
        : { formula: '1+1', result: 2 },
      i % 11 === 0 ? { error: '#N/A' } : `name ${i}`,
    ]);
    const path = await writeWorkbook(join(tempDir(), 'errors.xlsx'), [
      { name: 'Deals', rows: [['id', 'v', 'n'], ...rows] },
    ]);
    const read = await readAll(path);
    expect(read).toHaveLength(rows.length + 1);
    const wrong = read.slice(1).filter((r) => {
      const i = Number(r.values[0]);
      return (
        r.values[1] !== (i % 7 === 0 ? errors[i % errors.length] : '2') ||
        r.values[2] !== (i % 11 === 0 ? '#N/A' : `name ${i}`)
      );
    });
    expect(wrong).toEqual([]);
  });

  it('keeps characters of several bytes whole however the XML is cut into chunks', async () => {
    // Long runs of multi-byte characters: exceljs's own reader splits some of them at chunk edges.
    const names = Array.from({ length: 4000 }, (_, i) => `Müller-Lüdenscheidt 東京 ${i} ${'ü東'.repeat(8)}`);
    const path = await writeWorkbook(join(tempDir(), 'utf8.xlsx'), [
      { name: 'Deals', rows: [['id', 'name'], ...names.map((n, i) => [i, n])] },
    ]);
    const rows = await readAll(path);
    expect(rows).toHaveLength(names.length + 1);
    const wrong = rows.slice(1).filter((r) => r.values[1] !== names[Number(r.values[0])]);
    expect(wrong).toEqual([]);
  });

  it('reads the same rows every time (the workbook part is last in exceljs’s files)', async () => {
    const path = await writeWorkbook(join(tempDir(), 'twice.xlsx'), [
      { name: 'First', rows: [['id', 'name'], ...Array.from({ length: 30 }, (_, i) => [i, `n${i}`])] },
      { name: 'Second', rows: [['x']] },
    ]);
    const first = await readAll(path);
    for (let i = 0; i < 40; i++) expect(await readAll(path)).toEqual(first);
    expect(first).toHaveLength(31);
  });

  it('reports progress through the worksheet’s bytes', async () => {
    const path = await writeWorkbook(join(tempDir(), 'progress.xlsx'), [
      { name: 'Deals', rows: [['id'], ...Array.from({ length: 3000 }, (_, i) => [`row ${i}`])] },
    ]);
    const seen: CsvProgress[] = [];
    await readAll(path, { onProgress: (p) => seen.push(p) });
    expect(seen.length).toBeGreaterThan(0);
    const last = seen.at(-1)!;
    expect(last.totalBytes).toBeGreaterThan(0);
    expect(last.bytesRead).toBe(last.totalBytes);
    expect(seen.every((p, i) => i === 0 || p.bytesRead >= seen[i - 1]!.bytesRead)).toBe(true);
  });
});

describe('damaged workbooks', () => {
  it('a workbook cut short names the file', async () => {
    const dir = tempDir();
    const whole = readFileSync(await cellsBook());
    const cut = join(dir, 'cut.xlsx');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
    const e = await failure(() => readAll(cut));
    expect(e).toBeInstanceOf(XlsxReadError);
    expect(e.message).toMatch(/^book\.xlsx: damaged, or not an XLSX workbook \(.*truncated/);
  });

  it('a worksheet whose compressed data is damaged names the file', async () => {
    const path = await writeWorkbook(join(tempDir(), 'bad.xlsx'), [
      { name: 'Deals', rows: [['id', 'name'], ...Array.from({ length: 200 }, (_, i) => [i, `name ${i}`])] },
    ]);
    const bytes = readFileSync(path);
    const at = bytes.indexOf('xl/worksheets/sheet1.xml'); // the first: its local header
    const data = at + 'xl/worksheets/sheet1.xml'.length + bytes.readUInt16LE(at - 2);
    bytes.fill(0xab, data + 20, data + 120);
    writeFileSync(path, bytes);
    const e = await failure(() => readAll(path));
    expect(e).toBeInstanceOf(XlsxReadError);
    expect(e.message).toMatch(/^book\.xlsx: damaged, or not an XLSX workbook \(/);
  });

  it('a reader that stops early, or a file that fails, leaves no file open', async () => {
    // Only descriptors on these two workbooks count: the process opens others (IPC, logs) at will.
    const openFiles = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return [book, junk].includes(readlinkSync(`/proc/self/fd/${fd}`));
        } catch {
          return false; // closed between listing and reading
        }
      }).length;
    // Large enough that stopping after the first row leaves most of the sheet unread.
    const book = await writeWorkbook(join(tempDir(), 'big.xlsx'), [
      { name: 'Deals', rows: [['id', 'name'], ...Array.from({ length: 20_000 }, (_, i) => [i, `name ${i}`])] },
    ]);
    const junk = join(tempDir(), 'junk.xlsx');
    writeFileSync(junk, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(500, 7)]));
    expect(openFiles()).toBe(0);
    let openWhileReading = 0;
    for (let i = 0; i < 5; i++) {
      // The first record only, as an import refusing the header does.
      for await (const record of readXlsx(book, 'book.xlsx')) {
        openWhileReading = Math.max(openWhileReading, openFiles());
        if (record) break;
      }
      await failure(() => readAll(junk));
    }
    expect(openWhileReading).toBeGreaterThan(0); // the count sees the reader's descriptor
    await new Promise((r) => setTimeout(r, 50));
    expect(openFiles()).toBe(0);
  });

  it('a ZIP signature followed by garbage', async () => {
    const path = join(tempDir(), 'junk.xlsx');
    writeFileSync(path, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(500, 7)]));
    const e = await failure(() => readAll(path));
    expect(e).toBeInstanceOf(XlsxReadError);
    expect(e.message).toMatch(/^book\.xlsx: damaged, or not an XLSX workbook \(.*not a zip file/);
  });
});

describe('tableKind: the name and the first bytes must agree', () => {
  it('reads .xlsx as a workbook and anything else as CSV', async () => {
    const dir = tempDir();
    const book = await cellsBook();
    writeFileSync(join(dir, 'deals.csv'), 'id,name\n1,one\n');
    expect(tableKind(book, 'cells.xlsx')).toBe('xlsx');
    expect(tableKind(join(dir, 'deals.csv'), 'deals.csv')).toBe('csv');
    const viaTable: string[][] = [];
    for await (const r of readTable(book, 'cells.xlsx', 'xlsx')) viaTable.push(r.values);
    expect(viaTable[1]![0]).toBe('12500');
  });

  it('refuses a workbook named .csv, a CSV named .xlsx, an encrypted workbook and an .xls', async () => {
    const dir = tempDir();
    const book = readFileSync(await cellsBook());
    const write = (name: string, content: Buffer | string): string => {
      writeFileSync(join(dir, name), content);
      return join(dir, name);
    };
    const ole2 = Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504)]);
    const cases: [string, Buffer | string, RegExp][] = [
      ['deals.csv', book, /^deals\.csv: this is an XLSX workbook \(a ZIP archive\), not CSV: name it \.xlsx/],
      ['deals.xlsx', 'id,name\n1,one\n', /^deals\.xlsx: not an XLSX workbook .*if it is a CSV file, name it \.csv/],
      ['locked.xlsx', ole2, /^locked\.xlsx: the workbook is password-protected \(encrypted\)/],
      ['old.xls', ole2, /^old\.xls: an old binary Excel workbook \(\.xls\)/],
    ];
    for (const [name, content, message] of cases) {
      const e = (() => {
        try {
          tableKind(write(name, content), name);
        } catch (err) {
          return err as Error;
        }
        return null;
      })();
      expect(e, name).toBeInstanceOf(TableFileError);
      expect(e?.message, name).toMatch(message);
    }
  });
});
