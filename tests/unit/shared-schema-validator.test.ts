import { describe, expect, it } from 'vitest';
import { buildMcpServer } from '../../src/server/mcp-server-factory.js';
import { SharedSchemaValidator } from '../../src/server/shared-schema-validator.js';
import { referenceWorkload } from '../../src/workload/reference.js';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { bindToMethodAndPrincipal, createKeyRingCodec, ephemeralKey } from '../../src/request-state/key-ring.js';

const form = (field: string) => ({ type: 'object', properties: { [field]: { type: 'string', minLength: 2 } }, required: [field] }) as const;

describe('SharedSchemaValidator', () => {
  it('validates as Ajv does, compiling each distinct schema once however often and by whom it is asked', () => {
    const shared = new SharedSchemaValidator();
    const check = shared.getValidator<{ name: string }>(form('name'));
    expect(check({ name: 'ok' })).toMatchObject({ valid: true, data: { name: 'ok' } });
    expect(check({ name: 'x' })).toMatchObject({ valid: false, errorMessage: expect.stringMatching(/name/) });
    for (let i = 0; i < 50; i++) shared.getValidator(form('name'));
    expect(shared.compilations).toBe(1);
  });

  it('keeps at most maxSchemas compiled, the least recently used leaving first, and still validates what it dropped', () => {
    const shared = new SharedSchemaValidator(3);
    for (const field of ['a', 'b', 'c']) shared.getValidator(form(field));
    shared.getValidator(form('a'));
    shared.getValidator(form('d'));
    expect(shared.size).toBe(3);
    expect(shared.compilations).toBe(4);
    shared.getValidator(form('a'));
    expect(shared.compilations).toBe(4);
    expect(shared.getValidator(form('b'))({ b: 'yes' })).toMatchObject({ valid: true });
    expect(shared.compilations).toBe(5);
  });

  it('is not changed by a caller that edits its schema object afterwards', () => {
    const shared = new SharedSchemaValidator();
    const schema = { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] } as Record<string, unknown>;
    const check = shared.getValidator(schema as never);
    (schema.required as string[]).push('other');
    expect(check({ n: 1 })).toMatchObject({ valid: true });
  });

  it('is the one validator of every server instance the factory builds', () => {
    const deps = {
      workload: referenceWorkload,
      replicaName: 'unit',
      shared: { get: async () => undefined, set: async () => {}, increment: async () => 1 },
      events: { resourceUpdated: async () => 0, toolsChanged: async () => {}, promptsChanged: async () => {}, resourcesChanged: async () => {} },
      requestState: createKeyRingCodec({ keys: [ephemeralKey()], ttlSeconds: 60, bind: bindToMethodAndPrincipal }),
      observer: NOOP_OBSERVER,
      clientRequestTimeoutMs: 1000,
    };
    const validatorOf = (server: ReturnType<typeof buildMcpServer>) => (server.server as unknown as { _jsonSchemaValidator: unknown })._jsonSchemaValidator;
    const a = validatorOf(buildMcpServer('legacy', 'session-a', deps));
    const b = validatorOf(buildMcpServer('legacy', 'session-b', deps));
    expect(a).toBeInstanceOf(SharedSchemaValidator);
    expect(b).toBe(a);
  });
});
