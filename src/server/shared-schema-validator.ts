import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';

/**
 * One JSON Schema validator for every server instance of the process (elicitation results are
 * checked against the schema the tool asked with). The SDK gives each instance a validator of its
 * own, and with it an Ajv engine of its own on first use: some 30 KB per legacy session, kept with
 * every schema it compiled for the life of the session. Here compiled schemas are shared, keyed by
 * their JSON text, the least recently used dropped past `maxSchemas`; since Ajv keeps whatever it
 * compiled, the engine itself is replaced after every `maxSchemas` compilations.
 */
export class SharedSchemaValidator implements jsonSchemaValidator {
  private readonly compiled = new Map<string, JsonSchemaValidator<unknown>>();
  private engine = new AjvJsonSchemaValidator();
  private compilationsOnEngine = 0;
  /** Schemas compiled so far (for tests and diagnostics). */
  compilations = 0;

  constructor(private readonly maxSchemas = 256) {}

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    const key = JSON.stringify(schema);
    const cached = this.compiled.get(key);
    if (cached) {
      this.compiled.delete(key);
      this.compiled.set(key, cached);
      return cached as JsonSchemaValidator<T>;
    }
    if (this.compilationsOnEngine >= this.maxSchemas) {
      this.engine = new AjvJsonSchemaValidator();
      this.compilationsOnEngine = 0;
    }
    // A private copy: the caller's schema object may change after this, the compiled one must not.
    const validator = this.engine.getValidator<unknown>(JSON.parse(key) as JsonSchemaType);
    this.compilationsOnEngine += 1;
    this.compilations += 1;
    this.compiled.set(key, validator);
    if (this.compiled.size > this.maxSchemas) this.compiled.delete(this.compiled.keys().next().value!);
    return validator as JsonSchemaValidator<T>;
  }

  get size(): number {
    return this.compiled.size;
  }
}
