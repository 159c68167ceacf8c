import { createMcpHandler, McpServer, type McpHttpHandler } from '@modelcontextprotocol/server';
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
  const record = (name: string, ...objects: unknown[]) =>
    seen.set(
      name,
      objects.filter((object) => typeof object === 'object' && object !== null),
    );
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

describe('modern requests: one server instance each, nothing carried between them', () => {
  const SAMPLE_ANSWER = (text: string) => ({ role: 'assistant', content: { type: 'text', text }, model: 'unit-model' });
  const authOf = (sub: string) => ({ token: `token-${sub}`, clientId: 'unit-client', scopes: [], extra: { iss: 'https://issuer.test', sub } });

  function modernHandler() {
    const deps = buildDeps(referenceWorkload);
    return createMcpHandler(() => buildMcpServer('modern', undefined, deps), { legacy: 'reject' });
  }

  async function post(handler: McpHttpHandler, sub: string | undefined, params: Record<string, unknown>, capabilities?: Record<string, unknown>) {
    const meta: Record<string, unknown> = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: `client-${sub ?? 'anonymous'}`, version: '1' },
    };
    if (capabilities !== undefined) meta['io.modelcontextprotocol/clientCapabilities'] = capabilities;
    const request = new Request('http://localhost/mcp', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': String(params.name),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { ...params, _meta: meta } }),
    });
    const response = await handler.fetch(request, sub === undefined ? undefined : { authInfo: authOf(sub) });
    return (await response.json()) as { result?: Record<string, unknown> & { content?: { text: string }[] }; error?: { code: number; message: string } };
  }

  it('keeps each concurrent caller to its own requestState and its own answer', async () => {
    const handler = modernHandler();
    const sample = (sub: string, extra: Record<string, unknown> = {}) =>
      post(handler, sub, { name: 'sample', arguments: { prompt: `from ${sub}` }, ...extra }, { sampling: {} });
    const [a, b] = await Promise.all([sample('alice'), sample('bob')]);
    expect(a.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { sample: { params: { messages: [{ content: { text: 'from alice' } }] } } },
    });
    expect(b.result).toMatchObject({ resultType: 'input_required', inputRequests: { sample: { params: { messages: [{ content: { text: 'from bob' } }] } } } });
    const [aRetry, bRetry, aWithBobsState] = await Promise.all([
      sample('alice', { inputResponses: { sample: SAMPLE_ANSWER('for alice') }, requestState: a.result?.requestState }),
      sample('bob', { inputResponses: { sample: SAMPLE_ANSWER('for bob') }, requestState: b.result?.requestState }),
      sample('alice', { inputResponses: { sample: SAMPLE_ANSWER('stolen') }, requestState: b.result?.requestState }),
    ]);
    expect(JSON.parse(aRetry.result?.content?.[0]?.text ?? '{}')).toMatchObject({ answer: 'for alice' });
    expect(JSON.parse(bRetry.result?.content?.[0]?.text ?? '{}')).toMatchObject({ answer: 'for bob' });
    expect(aWithBobsState.error).toMatchObject({ code: -32602, message: 'Invalid or expired requestState' });
    await handler.close();
  });

  it("never lends one request's client capabilities to the next", async () => {
    const handler = modernHandler();
    const sample = (capabilities?: Record<string, unknown>) => post(handler, undefined, { name: 'sample', arguments: { prompt: 'p' } }, capabilities);
    const [withSampling, without] = await Promise.all([sample({ sampling: {} }), sample({})]);
    expect(withSampling.result).toMatchObject({ resultType: 'input_required' });
    expect(without.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
    // The same again, one after the other.
    expect((await sample({ sampling: {} })).result).toMatchObject({ resultType: 'input_required' });
    expect((await sample({})).error).toMatchObject({ code: -32021 });
    await handler.close();
  });
});
