import type { FastifySerializerCompiler } from 'fastify/types/schema.js';
import fastJson from 'fast-json-stringify';
import { serializerCompiler as zodSerializerCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/**
 * Answers are written by fast-json-stringify (the serializer Fastify itself uses for JSON
 * Schema), compiled from each route's zod response schema: only the properties the schema names
 * are written, as zod's encoding did. The type provider already checks at compile time that a
 * handler returns its schema's type, so validating every answer again at run time bought little
 * and cost about 8% of the server's CPU per created lead (bench/README.md). A schema JSON Schema
 * cannot express falls back to zod's own serializer.
 */
export const responseSerializerCompiler: FastifySerializerCompiler<unknown> = (route) =>
  (route.schema instanceof z.ZodType ? cachedSerializer(route.schema) : null) ?? zodSerializerCompiler(route as never);

/**
 * One compilation per schema: every route declares the same Problem schema for its error answers,
 * and compiling it for each route and status took each server start some 350 ms instead of 40.
 */
const compiled = new WeakMap<z.ZodType, ((data: unknown) => string) | null>();

function cachedSerializer(schema: z.ZodType): ((data: unknown) => string) | null {
  let fn = compiled.get(schema);
  if (fn === undefined) {
    fn = fastSerializer(schema);
    compiled.set(schema, fn);
  }
  return fn;
}

/** fast-json-stringify compiled from a zod schema's output side, or null if JSON Schema cannot say it. */
export function fastSerializer(schema: z.ZodType): ((data: unknown) => string) | null {
  try {
    const jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'throw' });
    return fastJson(jsonSchema as Parameters<typeof fastJson>[0]) as (data: unknown) => string;
  } catch {
    return null;
  }
}
