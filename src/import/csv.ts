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
  if (opts.onProgress) {
    const report = opts.onProgress;
    input.on('data', () => report({ bytesRead: input.bytesRead, totalBytes }));
  }
  const parser = input.pipe(
    parse({
      bom: true,
      delimiter: opts.delimiter ?? ',',
      relax_column_count: true,
      skip_empty_lines: true,
      info: true,
    }),
  );
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      yield { line: item.info.lines - embeddedNewlines(item.record), values: item.record };
    }
  } catch (e) {
    const err = e as { message?: string; lines?: number };
    throw new CsvSyntaxError(label, err.lines ?? 0, err.message ?? String(e));
  } finally {
    input.destroy();
  }
}

/** csv-parse counts lines at a record's end; a quoted value with line breaks started earlier. */
function embeddedNewlines(values: readonly string[]): number {
  let n = 0;
  for (const v of values) for (let i = v.indexOf('\n'); i !== -1; i = v.indexOf('\n', i + 1)) n++;
  return n;
}
