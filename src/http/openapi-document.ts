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
