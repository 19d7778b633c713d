import { Transform, pipeline, type Readable } from 'node:stream';
import yauzl, { type Entry, type ZipFile as YauzlZipFile } from 'yauzl';

/**
 * The parts of a ZIP file (an XLSX workbook), found through its central directory by yauzl and
 * each streamed from disk and inflated as it is read, in whatever order the caller wants them. A
 * workbook's parts can come in any order inside the file (LibreOffice writes `workbook.xml` after
 * the sheets), so reading the file front to back, as exceljs's own reader does, either needs the
 * sheets set aside or reads a sheet before knowing the workbook's styles and strings.
 */

export class ZipError extends Error {}

export interface ZipPart {
  /** The part's content as UTF-8 text: a character split across chunks stays whole. */
  stream: Readable;
  /** Compressed bytes read so far: over compressedSize, the progress through the part. */
  bytesRead(): number;
  compressedSize: number;
}

export class ZipFile {
  private constructor(
    private readonly zip: YauzlZipFile,
    private readonly entries: Map<string, Entry>,
  ) {}

  static async open(path: string): Promise<ZipFile> {
    const zip = await new Promise<YauzlZipFile>((resolve, reject) =>
      // autoClose off: parts are opened on demand after the directory has been read.
      yauzl.open(path, { lazyEntries: true, autoClose: false, decodeStrings: true }, (err, z) =>
        err ? reject(new ZipError(err.message)) : resolve(z),
      ),
    );
    const entries = new Map<string, Entry>();
    try {
      await readDirectory(zip, entries);
    } catch (e) {
      zip.close();
      throw e;
    }
    return new ZipFile(zip, entries);
  }

  has(name: string): boolean {
    return this.entries.has(name);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  async openText(name: string): Promise<ZipPart> {
    const entry = this.entries.get(name);
    if (!entry) throw new ZipError(`it has no ${name}`);
    if (entry.isEncrypted()) throw new ZipError(`${name} is encrypted`);
    const raw = await new Promise<Readable>((resolve, reject) =>
      this.zip.openReadStream(entry, (err, s) => (err ? reject(new ZipError(`${name}: ${err.message}`)) : resolve(s))),
    );
    // yauzl reports progress in inflated bytes; scale them to the compressed size for the caller.
    let inflated = 0;
    const counting = new Transform({
      transform(chunk: Buffer, _enc, done) {
        inflated += chunk.byteLength;
        done(null, chunk);
      },
    });
    // pipeline, not pipe: destroying the text stream (a reader that stops early) also ends yauzl's
    // read of the file, and an error on either side reaches the reader, named after the part.
    const counted = pipeline(raw, counting, (e) => {
      if (e && !counting.destroyed) counting.destroy(new ZipError(`${name}: ${e.message}`));
    });
    counted.setEncoding('utf8');
    const ratio = entry.uncompressedSize > 0 ? entry.compressedSize / entry.uncompressedSize : 0;
    return {
      stream: counted,
      bytesRead: () => Math.round(inflated * ratio),
      compressedSize: entry.compressedSize,
    };
  }

  close(): void {
    this.zip.close();
  }
}

function readDirectory(zip: YauzlZipFile, entries: Map<string, Entry>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.on('end', () => resolve());
    zip.on('error', (err: Error) => reject(new ZipError(err.message)));
    zip.readEntry();
  });
}
