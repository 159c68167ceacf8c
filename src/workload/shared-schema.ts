import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';

type JsonSchemaMethod = StandardSchemaWithJSON['~standard']['jsonSchema']['input'];

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

function convertOnce(convert: JsonSchemaMethod): JsonSchemaMethod {
  const converted = new Map<string, Record<string, unknown>>();
  return (options) => {
    const key = JSON.stringify(options);
    let json = converted.get(key);
    if (json === undefined) {
      json = deepFreeze(convert(options));
      converted.set(key, json);
    }
    return json;
  };
}

/**
 * A tool or prompt schema defined once per process, whose JSON Schema is converted once too. The
 * SDK converts a registered schema to JSON Schema on every tools/list and, per server instance, for
 * the Mcp-Param header check of the first modern tools/call each instance serves: with one instance
 * per legacy session, that is a conversion per session. The conversion depends only on the schema and the options the SDK
 * passes, so it is kept (frozen: every server instance and request gets the same object, which
 * nothing may change). Validation is the schema's own.
 */
export function sharedSchema<T extends StandardSchemaWithJSON>(schema: T): T {
  const standard = schema['~standard'];
  // zod 4 keeps `~standard` as an overridable own property (its setter exists for this).
  (schema as { '~standard': StandardSchemaWithJSON['~standard'] })['~standard'] = {
    ...standard,
    jsonSchema: { input: convertOnce(standard.jsonSchema.input), output: convertOnce(standard.jsonSchema.output) },
  };
  return schema;
}
