import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { mappingColumnsSchema, mappingSchema } from './mapping.js';

/**
 * Reads a mapping file (YAML) against its schema and says what is wrong in the user's terms: the
 * key as a path, what is wrong with it, and the line it is on. Zod's own words ("Invalid input:
 * expected string, received undefined") and the line of the enclosing section are not enough to
 * find a typo such as `valeu:` in a file of forty lines.
 */

export type MappingFileResult<T> = { ok: true; value: T } | { ok: false; problems: string[] };

type Segment = string | number;

/** The keys each section of a mapping accepts, for the message about an unknown one. */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(mappingSchema.shape),
  columns: Object.keys(mappingColumnsSchema.shape),
  dates: ['formats', 'zone'],
  numbers: ['decimal', 'thousands'],
  status_values: ['open', 'won', 'lost'],
};

/** What a missing required key is, in a word the user can act on. */
const REQUIRED_HINTS: Record<string, string> = {
  source: 'the name of the system the file came from, e.g. legacy-crm; with the record id it keys re-imports',
  'columns.id': 'the column holding the record id',
};

export function readMappingFile<T>(schema: z.ZodType<T>, text: string, label: string): MappingFileResult<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0)
    return {
      ok: false,
      problems: doc.errors.map(
        (e) => `${label}: ${e.message.split('\n')[0] ?? e.message} (line ${lines.linePos(e.pos[0]).line})`,
      ),
    };
  const input: unknown = doc.toJS();
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.flatMap((issue) => {
    const path = issue.path.filter((s): s is Segment => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => describe(label, [...path, key], unknownKey(path, key), doc, lines));
    const missing = issue.code === 'invalid_type' && valueAt(input, path) === undefined;
    return [describe(label, path, missing ? required(path) : issue.message, doc, lines)];
  });
  return { ok: false, problems };
}

function describe(label: string, path: readonly Segment[], message: string, doc: Document, lines: LineCounter): string {
  const line = lineOf(doc, lines, path);
  const where = path.length > 0 ? `${pathText(path)}: ` : '';
  return `${label}: ${where}${message}${line === null ? '' : ` (line ${line})`}`;
}

function unknownKey(parent: readonly Segment[], key: string): string {
  const known = KNOWN_KEYS[pathText(parent)];
  if (!known) return `unknown key "${key}"`;
  const near = known.find((k) => editDistance(k, key.toLowerCase()) <= 2);
  return `unknown key "${key}"${near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`;
}

function required(path: readonly Segment[]): string {
  const hint = REQUIRED_HINTS[pathText(path)];
  return `is required${hint ? ` (${hint})` : ''}`;
}

function pathText(path: readonly Segment[]): string {
  return path.map(String).join('.');
}

function valueAt(input: unknown, path: readonly Segment[]): unknown {
  let v = input;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<Segment, unknown>)[seg];
  }
  return v;
}

/** The line of a key of a mapping file (`['stages', 'Erstkontakt']`), for a mistake found after reading it. */
export function keyLine(text: string, path: readonly string[]): number | null {
  const lines = new LineCounter();
  return lineOf(parseDocument(text, { lineCounter: lines }), lines, path);
}

/** The line of the key at `path`, or of the deepest key along it that the file has. */
function lineOf(doc: Document, lines: LineCounter, path: readonly Segment[]): number | null {
  let node: unknown = doc.contents;
  let offset: number | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === seg);
      if (!pair) break;
      offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
      offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0] ?? offset;
      if (!node) break;
    } else break;
  }
  // A key the file lacks (a required one) has no line of its own: its section's, if it has one.
  return offset === null ? null : lines.linePos(offset).line;
}

/** Levenshtein distance, for the "did you mean" of a misspelt key. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length] ?? 0;
}
