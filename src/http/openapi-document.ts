import { STATUS_CODES } from 'node:http';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/**
 * How a route uses its record's version as an ETag: `true`, its success answer carries it (and a
 * GET answers 304 to a matching If-None-Match, conditional.ts); `'if-match-required'`, it carries it
 * and a write without If-Match is refused 428 (the handler refuses it: the header stays optional to
 * the validator so that the answer is 428, not 400).
 */
export type EtagUse = true | 'if-match-required';

interface JsonObject {
  type?: string;
  properties?: Record<string, unknown>;
  required?: string[];
  headers?: Record<string, unknown>;
  description?: string;
}

const ETAG_HEADER = {
  ETag: {
    type: 'string',
    description: 'The record\'s version as an entity tag ("7"): send it back in If-Match to write safely',
  },
};

/**
 * Each route's schemas as fastify-type-provider-zod writes them, and what a route's `etag` says:
 * the ETag header on its success answers, If-Match required where the handler requires it, and on
 * a GET the If-None-Match parameter and its 304.
 */
export const transform: typeof jsonSchemaTransform = (input) => {
  const out = jsonSchemaTransform(input);
  const etag = (input.route as { config?: { etag?: EtagUse } }).config?.etag;
  if (!etag) return out;
  const schema = out.schema as { headers?: JsonObject; response?: Record<string, JsonObject> };
  const responses = { ...schema.response };
  for (const [status, response] of Object.entries(responses))
    if (/^2\d\d$/.test(status)) responses[status] = { ...response, headers: { ...response.headers, ...ETAG_HEADER } };
  schema.response = responses;
  if (etag === 'if-match-required' && schema.headers?.properties?.['if-match'])
    schema.headers = { ...schema.headers, required: [...new Set([...(schema.headers.required ?? []), 'if-match'])] };
  if ([input.route.method].flat().includes('GET')) {
    const headers = schema.headers ?? { type: 'object', properties: {} };
    schema.headers = {
      ...headers,
      properties: {
        ...headers.properties,
        'if-none-match': {
          type: 'string',
          description: 'The ETag of the copy you hold: 304 without a body while the record is still at it',
        },
      },
    };
    schema.response = {
      ...schema.response,
      304: { type: 'null', description: 'Not Modified: the record is still at the ETag If-None-Match names' },
    };
  }
  return out;
};

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
