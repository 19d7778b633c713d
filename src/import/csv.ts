import { parse } from 'csv-parse';
import { createReadStream, statSync } from 'node:fs';

/**
 * Streams a CSV file record by record (csv-parse: quotes, embedded newlines, CRLF, a BOM), so
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

export interface CsvOptions {
  delimiter?: string;
  onProgress?: (p: CsvProgress) => void;
}

export class CsvSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${file}:${line}: ${detail}`);
  }
}

export async function* readCsv(path: string, label: string, opts: CsvOptions = {}): AsyncGenerator<CsvRecord> {
  const totalBytes = statSync(path).size;
  const input = createReadStream(path, { highWaterMark: 1 << 20 });
  const parser = input.pipe(
    parse({
      bom: true,
      delimiter: opts.delimiter ?? ',',
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }),
  );
  // Progress is reported from this loop, not from a stream listener: a callback that throws then
  // fails the import like any other error instead of escaping as an uncaught exception.
  let reported = -1;
  // csv-parse counts a CR inside a quoted value as a line of its own, so a CRLF there counts twice.
  let extraLines = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (opts.onProgress && input.bytesRead !== reported) {
        reported = input.bytesRead;
        opts.onProgress({ bytesRead: reported, totalBytes });
      }
      extraLines += count(item.record, '\r');
      yield { line: item.info.lines - extraLines - count(item.record, '\n'), values: item.record };
    }
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    throw new CsvSyntaxError(label, err.lines ?? 0, err.message ?? String(e));
  } finally {
    input.destroy();
  }
}

/**
 * Line breaks inside a record's quoted values: csv-parse counts lines at a record's end, so a
 * value with line breaks started earlier.
 */
function count(values: readonly string[], char: '\n' | '\r'): number {
  let n = 0;
  for (const v of values) for (let i = v.indexOf(char); i !== -1; i = v.indexOf(char, i + 1)) n++;
  return n;
}
