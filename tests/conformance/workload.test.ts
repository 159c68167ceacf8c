import { CallToolResultSchema } from "@modelcontextprotocol/core";
import { InMemoryTransport, McpServer } from "@modelcontextprotocol/server";
import type { CallToolResult, ClientCapabilities, ElicitRequest } from "@modelcontextprotocol/server";
import { Client } from "@modelcontextprotocol/client";
import { afterEach, describe, expect, it } from 'vitest';
import { conformanceWorkload } from '../../src/workload/conformance.js';
import { InMemorySharedState } from '../../src/state/memory-shared-state.js';
import type { WorkloadContext } from '../../src/workload/types.js';


const SUITE_TOOLS = [
  'test_simple_text',
  'test_image_content',
  'test_audio_content',
  'test_embedded_resource',
  'test_multiple_content_types',
  'test_tool_with_logging',
  'test_error_handling',
  'test_tool_with_progress',
  'test_sampling',
  'test_elicitation',
  'test_elicitation_sep1034_defaults',
  'test_elicitation_sep1330_enums',
  'json_schema_2020_12_tool',
  'test_reconnection',
];

const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/** A server with the workload registered the way the fleet runtime does it, and a client on it. */
async function connect(
  options: { shared?: InMemorySharedState; capabilities?: ClientCapabilities } = {},
): Promise<{ client: Client; shared: InMemorySharedState; notified: string[] }> {
  const shared = options.shared ?? new InMemorySharedState();
  const notified: string[] = [];
  const ctx: WorkloadContext = {
    replicaName: 'test-replica',
    sessionId: 'session-1',
    shared,
    resources: {
      async notifyUpdated(uri) {
        notified.push(uri);
        return 1;
      },
    },
  };
  const server = new McpServer(
    { name: 'conformance-test', version: '0.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true } }, instructions: conformanceWorkload.instructions },
  );
  conformanceWorkload.register(server, ctx);
  const client = new Client(
    { name: 'test-client', version: '0.0.0' },
    { capabilities: options.capabilities ?? { sampling: {}, elicitation: {} } },
  );
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  await client.connect(clientSide);
  open.push(client, server);
  return { client, shared, notified };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return CallToolResultSchema.parse(await client.callTool({ name, arguments: args }));
}

function firstText(result: CallToolResult): string {
  const item = result.content[0];
  if (item?.type !== 'text') throw new Error(`expected text content, got ${item?.type}`);
  return item.text;
}

describe('conformance workload', () => {
  it('declares what the suite needs once registered', async () => {
    const { client } = await connect();
    expect(client.getServerCapabilities()).toMatchObject({
      logging: {},
      completions: {},
      tools: {},
      prompts: {},
      resources: { subscribe: true },
    });
    expect(client.getInstructions()).toContain('conformance');
  });

  it('lists every tool the suite calls, each with a description and an input schema', async () => {
    const { tools } = await (await connect()).client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(SUITE_TOOLS));
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.inputSchema.type, tool.name).toBe('object');
    }
  });

  it('advertises json_schema_2020_12_tool as a JSON Schema 2020-12 document and validates against it', async () => {
    const { client } = await connect();
    const tool = (await client.listTools()).tools.find((t) => t.name === 'json_schema_2020_12_tool');
    expect(tool?.inputSchema).toEqual({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: {
        address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } },
      },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    });
    const ok = await call(client, 'json_schema_2020_12_tool', { name: 'Ada', address: { city: 'London' } });
    expect(ok.isError).toBeFalsy();
    expect(firstText(ok)).toContain('London');
    expect((await call(client, 'json_schema_2020_12_tool', { extra: 1 })).isError).toBe(true);
    expect((await call(client, 'json_schema_2020_12_tool', { address: { city: 7 } })).isError).toBe(true);
  });

  it('returns each content type', async () => {
    const { client } = await connect();
    expect(firstText(await call(client, 'test_simple_text'))).toBe('This is a simple text response for testing.');
    const image = (await call(client, 'test_image_content')).content[0];
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
    expect(Buffer.from((image as { data: string }).data, 'base64').subarray(1, 4).toString()).toBe('PNG');
    const audio = (await call(client, 'test_audio_content')).content[0];
    expect(audio).toMatchObject({ type: 'audio', mimeType: 'audio/wav' });
    const wav = Buffer.from((audio as { data: string }).data, 'base64');
    expect([wav.subarray(0, 4).toString(), wav.subarray(8, 12).toString()]).toEqual(['RIFF', 'WAVE']);
    expect((await call(client, 'test_embedded_resource')).content[0]).toEqual({
      type: 'resource',
      resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
    });
    const mixed = await call(client, 'test_multiple_content_types');
    expect(mixed.content.map((c) => c.type)).toEqual(['text', 'image', 'resource']);
    const error = await call(client, 'test_error_handling');
    expect(error.isError).toBe(true);
    expect(firstText(error)).toBe('This tool intentionally returns an error for testing');
  });

  it('sends three log messages and three progress notifications while running', async () => {
    const { client } = await connect();
    const logs: unknown[] = [];
    client.setNotificationHandler('notifications/message', (n) => {
      logs.push(n.params.data);
    });
    await client.setLoggingLevel('debug');
    await call(client, 'test_tool_with_logging');
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);

    const progress: number[] = [];
    await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress).toEqual([0, 50, 100]);
  });

  it('asks the client to sample, and reports an error when the client cannot', async () => {
    const { client } = await connect();
    let prompt: unknown;
    client.setRequestHandler('sampling/createMessage', (request) => {
      prompt = request.params.messages[0]?.content;
      return { role: 'assistant', model: 'm', content: { type: 'text', text: 'hello back' } };
    });
    const result = await call(client, 'test_sampling', { prompt: 'hello' });
    expect(prompt).toEqual({ type: 'text', text: 'hello' });
    expect(firstText(result)).toBe('LLM response: hello back');

    const { client: plain } = await connect({ capabilities: {} });
    const refused = await call(plain, 'test_sampling', { prompt: 'hello' });
    expect(refused.isError).toBe(true);
  });

  it('elicits the contact form, the SEP-1034 defaults and the SEP-1330 enums', async () => {
    const { client } = await connect();
    const requests: ElicitRequest['params'][] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      requests.push(request.params);
      return { action: 'decline' };
    });
    expect(firstText(await call(client, 'test_elicitation', { message: 'Who are you?' }))).toBe(
      'User response: action=decline, content={}',
    );
    await call(client, 'test_elicitation_sep1034_defaults');
    await call(client, 'test_elicitation_sep1330_enums');
    const [contact, defaults, enums] = requests.map((p) => ('requestedSchema' in p ? p.requestedSchema : undefined));
    expect(requests[0]?.message).toBe('Who are you?');
    expect(contact?.required).toEqual(['username', 'email']);
    expect(defaults?.properties).toMatchObject({
      name: { type: 'string', default: 'John Doe' },
      age: { type: 'integer', default: 30 },
      score: { type: 'number', default: 95.5 },
      status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
      verified: { type: 'boolean', default: true },
    });
    const props = enums?.properties as Record<string, Record<string, unknown>>;
    expect(props['untitledSingle']).toMatchObject({ type: 'string', enum: ['option1', 'option2', 'option3'] });
    expect(props['titledSingle']).not.toHaveProperty('enum');
    expect(props['titledSingle']?.['oneOf']).toHaveLength(3);
    expect(props['legacyEnum']).toMatchObject({ enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] });
    expect(props['untitledMulti']).toMatchObject({ type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } });
    expect(props['titledMulti']).toMatchObject({ type: 'array', items: { anyOf: expect.any(Array) } });
  });

  it('completes the reconnection tool on its own stream when the transport cannot close it', async () => {
    const { client } = await connect();
    expect(firstText(await call(client, 'test_reconnection'))).toContain('original stream');
  });

  it('serves the static, templated and watched resources', async () => {
    const { client } = await connect();
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(['test://static-binary', 'test://static-text', 'test://watched-resource']);
    expect((await client.readResource({ uri: 'test://static-text' })).contents[0]).toEqual({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    expect((await client.readResource({ uri: 'test://static-binary' })).contents[0]).toMatchObject({
      mimeType: 'image/png',
      blob: expect.any(String),
    });
    const templated = (await client.readResource({ uri: 'test://template/123/data' })).contents[0];
    expect(templated).toMatchObject({ uri: 'test://template/123/data', mimeType: 'application/json' });
    expect(JSON.parse((templated as { text: string }).text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['test://template/{id}/data']);
  });

  it('keeps the watched resource in shared state, so another server of the fleet sees the update', async () => {
    const first = await connect();
    const second = await connect({ shared: first.shared });
    const update = await call(first.client, 'test_update_watched_resource');
    expect(firstText(update)).toBe('test://watched-resource is now at version 1; 1 subscribed session(s) notified.');
    expect(first.notified).toEqual(['test://watched-resource']);
    const read = await second.client.readResource({ uri: 'test://watched-resource' });
    expect(read.contents[0]).toMatchObject({ text: 'Watched resource content, version 1' });
  });

  it('serves the prompts, substituting arguments', async () => {
    const { client } = await connect();
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_simple_prompt',
    ]);
    for (const prompt of prompts) expect(prompt.description, prompt.name).toBeTruthy();
    const withArgs = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'hello', arg2: 'world' } });
    expect(withArgs.messages[0]?.content).toEqual({ type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" });
    const embedded = await client.getPrompt({
      name: 'test_prompt_with_embedded_resource',
      arguments: { resourceUri: 'test://example-resource' },
    });
    expect(embedded.messages[0]?.content).toMatchObject({ type: 'resource', resource: { uri: 'test://example-resource' } });
    const image = await client.getPrompt({ name: 'test_prompt_with_image' });
    expect(image.messages.map((m) => m.content.type)).toEqual(['image', 'text']);
  });

  it('completes prompt arguments and template variables by prefix', async () => {
    const { client } = await connect();
    const prompt = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'par' },
    });
    expect(prompt.completion.values).toEqual(['paris', 'park', 'party']);
    const suiteQuery = await client.complete({
      ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' },
      argument: { name: 'arg1', value: 'test' },
    });
    expect(Array.isArray(suiteQuery.completion.values)).toBe(true);
    const template = await client.complete({
      ref: { type: 'ref/resource', uri: 'test://template/{id}/data' },
      argument: { name: 'id', value: '1' },
    });
    expect(template.completion.values).toEqual(['1', '123']);
  });
});
