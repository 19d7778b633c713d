import { STATUS_CODES } from 'node:http';
import { jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * The document's components, as fastify-type-provider-zod makes them, less those no operation
 * refers to: it writes an input twin (`LeadInput`, …) of every named schema, and the named
 * schemas here describe answers only.
 */
export const transformObject: typeof jsonSchemaTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input) as ReturnType<typeof jsonSchemaTransformObject> & {
    paths?: unknown;
    components?: { schemas?: Record<string, unknown> };
  };
  describeSuccesses(doc.paths);
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const used = new Set<string>();
  const pending = refsIn(doc.paths);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (used.has(name)) continue;
    used.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
  return doc;
};

/** What @fastify/swagger writes for an answer whose schema has no description. */
const DEFAULT_DESCRIPTION = 'Default Response';

interface OperationDoc {
  summary?: string;
  responses?: Record<string, { description?: string }>;
}

/**
 * A success answer says what it is in one line, derived here for every route from its summary:
 * a 200 is what the operation gives, any other success is its status and then the summary.
 */
export function successDescription(status: string, summary: string | undefined): string {
  const reason = STATUS_CODES[Number(status)] ?? 'Success';
  if (!summary) return reason;
  return status === '200' ? summary : `${reason}: ${summary}`;
}

function describeSuccesses(paths: unknown): void {
  if (paths === null || typeof paths !== 'object') return;
  for (const ops of Object.values(paths as Record<string, Record<string, OperationDoc>>))
    for (const op of Object.values(ops))
      for (const [status, response] of Object.entries(op.responses ?? {}))
        // A 204's schema only says it has no content (NO_CONTENT): the summary says what was done.
        if (/^2\d\d$/.test(status) && (response.description === DEFAULT_DESCRIPTION || status === '204'))
          response.description = successDescription(status, op.summary);
}

const REF = '#/components/schemas/';

/** The component names a part of the document refers to. */
function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node !== null && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith(REF)) out.push(v.slice(REF.length));
      else refsIn(v, out);
    }
  return out;
}
