import { parse } from 'csv-parse';
import { isUtf8 } from 'node:buffer';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { pipeline, Transform, type TransformCallback } from 'node:stream';

/**
 * Streams a CSV file record by record (csv-parse: quotes, embedded newlines, CRLF, LF or CR, a BOM), so
 * memory stays flat however long the file is. Records keep their line number for messages.
 */

export interface CsvRecord {
  /** 1-based line where the record starts. */
  line: number;
  values: string[];
}

export interface CsvProgress {
  bytesRead: number;
  totalBytes: number;
}

/** How the file's bytes are text: UTF-8 (checked), or Windows-1252 (Excel's "CSV (Comma delimited)" on Windows). */
export type CsvEncoding = 'utf-8' | 'windows-1252';

export interface CsvOptions {
  delimiter?: string;
  encoding?: CsvEncoding;
  onProgress?: (p: CsvProgress) => void;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    /** The 0-based field the problem is in, when the parser knows it. */
    readonly field: number | null = null,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

/** The file is not UTF-8: `line` holds its first byte that is not. */
export class CsvEncodingError extends CsvSyntaxError {
  constructor(file: string, line: number) {
    super(file, line, 'not UTF-8');
  }
}

export async function* readCsv(path: string, label: string, opts: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const totalBytes = statSync(path).size;
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const parser = parse({
    bom: true,
    delimiter: opts.delimiter ?? ',',
    // Any line end closes a record outside quotes: left to itself csv-parse keeps the first line's
    // end as the only one, so LF rows appended to a CRLF file (or two exports joined) run together.
    // CRLF first, so it is one line end and not a CR and an LF.
    record_delimiter: ['\r\n', '\n', '\r'],
    relax_column_count: true,
    // `Acme 24" screens`: a quote inside an unquoted value is text, as Excel and Python read it.
    relax_quotes: true,
    skip_empty_lines: true,
    info: true,
  });
  // pipeline, not pipe: a decoding error destroys the parser with it, so the loop below sees it.
  pipeline(input, decoder(opts.encoding ?? 'utf-8', path, label), parser, () => undefined);
  // Progress is reported from this loop, not from a stream listener: a callback that throws then
  // fails the import like any other error instead of escaping as an uncaught exception.
  let reported = -1;
  // csv-parse counts the CR and the LF of a CRLF inside a quoted value as a line each.
  let extraLines = 0;
  // The line the last record ended on: an unclosed quote opened on the line after it.
  let lastEnd = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (opts.onProgress && input.bytesRead !== reported) {
        reported = input.bytesRead;
        opts.onProgress({ bytesRead: reported, totalBytes });
      }
      extraLines += count(item.record, /\r\n/g);
      lastEnd = item.info.lines - extraLines;
      // A row of empty cells (`,,,,` after an Excel re-save, a report's `""` spacer) is an empty line.
      if (item.record.every(isBlank)) continue;
      yield { line: lastEnd - count(item.record, LINE_END), values: item.record };
    }
  } catch (e) {
    if (e instanceof CsvSyntaxError) throw e;
    const err = e as { message?: string; lines?: number; code?: string; column?: unknown };
    if (err.code === 'CSV_QUOTE_NOT_CLOSED')
      // csv-parse names the end of the file; the quote opened in the record after the last one read.
      throw new CsvSyntaxError(
        label,
        lastEnd + 1,
        'a quoted value opened here is never closed (a " missing, or a stray one)',
        typeof err.column === 'number' ? err.column : null,
      );
    throw new CsvSyntaxError(label, err.lines ?? 0, err.message ?? String(e));
  } finally {
    input.destroy();
  }
}

function isBlank(v: string): boolean {
  return v.trim() === '';
}

/**
 * UTF-8 passes through unchanged once checked (invalid bytes fail with the line they are on,
 * rather than become "�" in the leads for good); Windows-1252 is decoded into UTF-8. A file that
 * opens with a UTF-16 byte order mark (Excel's "Unicode Text") is left to csv-parse, which reads it.
 */
function decoder(encoding: CsvEncoding, path: string, label: string): Transform {
  const text = new TextDecoder(encoding, { fatal: encoding === 'utf-8' });
  let utf16: boolean | null = null;
  const check = (chunk: Buffer | null): Error | null => {
    if (utf16) return null;
    try {
      if (chunk) text.decode(chunk, { stream: true });
      else text.decode();
      return null;
    } catch {
      return new CsvEncodingError(label, firstNonUtf8Line(path));
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
      utf16 ??= (chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff);
      if (utf16) return done(null, chunk);
      if (encoding === 'windows-1252') return done(null, Buffer.from(text.decode(chunk, { stream: true }), 'utf8'));
      const bad = check(chunk);
      return bad ? done(bad) : done(null, chunk);
    },
    flush(done: TransformCallback): void {
      const bad = encoding === 'utf-8' ? check(null) : null;
      return bad ? done(bad) : done();
    },
  });
}

/** The 1-based line holding the file's first byte that is not UTF-8 (read again: this is the rare path). */
function firstNonUtf8Line(path: string): number {
  const bytes = readFileSync(path);
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    start = end + 1;
  }
  return line;
}

/** A line end, as a record ends on any of them: CRLF, LF or a lone CR. */
const LINE_END = /\r\n|\n|\r/g;

/**
 * Line breaks inside a record's quoted values: csv-parse counts lines at a record's end, so a
 * value with line breaks started earlier.
 */
function count(values: readonly string[], pattern: RegExp): number {
  let n = 0;
  for (const v of values) n += v.match(pattern)?.length ?? 0;
  return n;
}
