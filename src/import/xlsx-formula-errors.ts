/**
 * The cached error of formula cells (`<c r="G2" t="e"><f>VLOOKUP(…)</f><v>#N/A</v></c>`), which
 * exceljs's streaming reader drops: it reads a formula's `<v>` as a number whatever the cell's type,
 * so `#N/A` becomes NaN and the cell would read as empty. The worksheet's XML passes through here
 * on its way to exceljs; each chunk is scanned before exceljs sees it, so a row's errors are known
 * by the time exceljs emits the row. Only error cells are kept, each until it is taken.
 */
export class FormulaErrors {
  private readonly byRef = new Map<string, string>();
  /** The end of the last chunk that may hold the start of a cell not complete yet. */
  private tail = '';

  /** The worksheet's text as it was, with every complete cell scanned on the way. */
  async *scanning(chunks: AsyncIterable<string | Buffer>): AsyncGenerator<string> {
    for await (const chunk of chunks) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      this.scan(text);
      yield text;
    }
  }

  /** The cached error text of the formula cell at `ref` (`G2`), once. */
  take(ref: string): string | undefined {
    const error = this.byRef.get(ref);
    if (error !== undefined) this.byRef.delete(ref);
    return error;
  }

  scan(chunk: string): void {
    const text = this.tail + chunk;
    // Most chunks have no error cell at all: only the end that may start one is kept.
    if (!/\bt\s*=\s*["']e["']/.test(text)) {
      this.tail = openEnd(text);
      return;
    }
    let from = 0;
    for (const m of text.matchAll(ERROR_CELL_START)) {
      if (m.index < from) continue;
      const attrs = m[1] ?? '';
      if (!ERROR_TYPE.test(attrs)) continue;
      const close = text.indexOf('</c>', m.index);
      if (close < 0) {
        this.tail = text.slice(m.index);
        return;
      }
      const body = text.slice(m.index + m[0].length, close);
      const ref = REF.exec(attrs)?.[1];
      const value = VALUE.exec(body)?.[1];
      if (ref !== undefined && value !== undefined && /<f[\s/>]/.test(body)) this.byRef.set(ref, value.trim());
      from = close + 4;
    }
    this.tail = openEnd(text);
  }
}

/** A cell's start tag, not self-closing (an empty cell has no value). */
const ERROR_CELL_START = /<c\s([^>]*[^/>])?>/g;
const ERROR_TYPE = /(?:^|\s)t\s*=\s*["']e["']/;
const REF = /(?:^|\s)r\s*=\s*["']([A-Z]+\d+)["']/;
const VALUE = /<v>([^<]*)<\/v>/;

/** The end of `text` from its last cell's start on when that cell is not complete in it (or a "<" cut short). */
function openEnd(text: string): string {
  const start = lastCellStart(text);
  const rest = start < 0 ? '' : text.slice(start);
  if (rest !== '' && !rest.includes('</c>') && !/^<c\s[^>]*\/>/.test(rest)) return rest;
  return text.endsWith('<') ? '<' : '';
}

/** Where the last `<c` start tag begins (not `<col`, `<cfRule`), or -1. */
function lastCellStart(text: string): number {
  for (let at = text.lastIndexOf('<c'); at >= 0; at = at === 0 ? -1 : text.lastIndexOf('<c', at - 1)) {
    const next = text.charAt(at + 2);
    if (next === '' || /\s/.test(next)) return at;
  }
  return -1;
}
