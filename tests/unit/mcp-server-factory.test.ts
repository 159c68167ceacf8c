import { McpServer } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { NOOP_OBSERVER } from '../../src/observability/observer.js';
import { bindToMethodAndPrincipal, createKeyRingCodec, ephemeralKey } from '../../src/request-state/key-ring.js';
import { buildMcpServer, type ServerBuildDeps } from '../../src/server/mcp-server-factory.js';
import { conformanceWorkload } from '../../src/workload/conformance.js';
import { referenceWorkload } from '../../src/workload/reference.js';
import { sharedSchema } from '../../src/workload/shared-schema.js';
import type { Workload } from '../../src/workload/types.js';

function buildDeps(workload: Workload): ServerBuildDeps {
  const values = new Map<string, string>();
  return {
    workload,
    replicaName: 'unit-replica',
    shared: {
      get: async (key) => values.get(key),
      set: async (key, value) => void values.set(key, value),
      increment: async (key, by = 1) => {
        const next = Number(values.get(key) ?? '0') + by;
        values.set(key, String(next));
        return next;
      },
    },
    events: { resourceUpdated: async () => 0, toolsChanged: async () => {}, promptsChanged: async () => {}, resourcesChanged: async () => {} },
    requestState: createKeyRingCodec({ keys: [ephemeralKey()], ttlSeconds: 60, bind: bindToMethodAndPrincipal }),
    observer: NOOP_OBSERVER,
    clientRequestTimeoutMs: 1000,
  };
}

/** Every object handed to the SDK's register* calls as a schema or URI template, by registration name. */
function registeredDefinitions(build: () => void): Map<string, unknown[]> {
  const seen = new Map<string, unknown[]>();
  const record = (name: string, ...objects: unknown[]) => seen.set(name, objects.filter((object) => typeof object === 'object' && object !== null));
  const tool = vi.spyOn(McpServer.prototype, 'registerTool');
  const prompt = vi.spyOn(McpServer.prototype, 'registerPrompt');
  const resource = vi.spyOn(McpServer.prototype, 'registerResource');
  build();
  for (const [name, config] of tool.mock.calls as unknown as [string, { inputSchema?: unknown; outputSchema?: unknown }][]) {
    record(`tool ${name}`, config.inputSchema, config.outputSchema);
  }
  for (const [name, config] of prompt.mock.calls as unknown as [string, { argsSchema?: unknown }][]) record(`prompt ${name}`, config.argsSchema);
  for (const [name, template] of resource.mock.calls as unknown as [string, unknown][]) record(`resource ${name}`, template);
  vi.restoreAllMocks();
  return seen;
}

afterEach(() => vi.restoreAllMocks());

describe('buildMcpServer', () => {
  for (const workload of [referenceWorkload, conformanceWorkload]) {
    it(`${workload.name}: every server instance shares the workload's schemas and URI templates`, () => {
      const deps = buildDeps(workload);
      const first = registeredDefinitions(() => buildMcpServer('legacy', 'session-a', deps));
      const second = registeredDefinitions(() => buildMcpServer('legacy', 'session-b', deps));
      const modern = registeredDefinitions(() => buildMcpServer('modern', undefined, deps));
      expect([...first.keys()].length).toBeGreaterThan(3);
      const shared = [...first.values()].flat();
      expect(shared.length).toBeGreaterThan(0);
      for (const [name, objects] of first) {
        expect(second.get(name), name).toHaveLength(objects.length);
        objects.forEach((object, index) => {
          expect(second.get(name)?.[index], name).toBe(object);
          expect(modern.get(name)?.[index], name).toBe(object);
        });
      }
    });
  }
});

describe('sharedSchema', () => {
  it('converts a schema to JSON Schema once per set of options, frozen, and validates as before', () => {
    const schema = z.object({ name: z.string().max(3) });
    const convert = vi.spyOn(schema['~standard'].jsonSchema, 'input');
    const shared = sharedSchema(schema);
    const first = shared['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
    const second = shared['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
    expect(second).toBe(first);
    expect(convert).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first as { properties: object }).properties)).toBe(true);
    expect(shared['~standard'].jsonSchema.input({ target: 'draft-07' })).not.toBe(first);
    expect(shared.safeParse({ name: 'abc' }).success).toBe(true);
    expect(shared.safeParse({ name: 'abcd' }).success).toBe(false);
  });

  for (const workload of [referenceWorkload, conformanceWorkload]) {
    it(`${workload.name}: server instances share each tool's converted input schema`, () => {
      const deps = buildDeps(workload);
      const names: string[] = [];
      const tool = vi.spyOn(McpServer.prototype, 'registerTool');
      const first = buildMcpServer('modern', undefined, deps);
      for (const [name] of tool.mock.calls) names.push(name as string);
      vi.restoreAllMocks();
      const second = buildMcpServer('legacy', 'session-a', deps);
      const withSchema = names.filter((name) => first.toolInputSchemaJson(name)?.properties !== undefined);
      expect(withSchema.length).toBeGreaterThan(1);
      // The SDK copies the root of each conversion (`{ type: 'object', ...converted }`): what it converted is shared.
      for (const name of withSchema) expect(second.toolInputSchemaJson(name)?.properties, name).toBe(first.toolInputSchemaJson(name)?.properties);
    });
  }
});
