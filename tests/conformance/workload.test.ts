import type { Client } from '@modelcontextprotocol/client';
import type { CallToolResult, ClientCapabilities, ElicitRequest } from '@modelcontextprotocol/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { Era } from '../../src/workload/types.js';
import { closeAll, legacyClient, modernClient, modernHandler, replicaDeps, SUITE_CAPABILITIES } from './harness.js';

/** Every tool the server scenarios of 2025-11-25 and 2026-07-28 call by name. */
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
  'test_update_watched_resource',
  'test_input_required_result_elicitation',
  'test_input_required_result_sampling',
  'test_input_required_result_list_roots',
  'test_input_required_result_request_state',
  'test_input_required_result_multiple_inputs',
  'test_input_required_result_multi_round',
  'test_input_required_result_tampered_state',
  'test_input_required_result_capabilities',
  'test_missing_capability',
  'test_streaming_elicitation',
  'test_logging_tool',
  'test_trigger_tool_change',
  'test_trigger_prompt_change',
  'test_x_mcp_header',
  // tasks-* scenarios (io.modelcontextprotocol/tasks)
  'greet',
  'slow_compute',
  'failing_job',
  'protocol_error_job',
  'confirm_delete',
  'multi_input',
  'test_tool_with_task',
];

afterEach(closeAll);

type Deps = ReturnType<typeof replicaDeps>;

/** A client of `era` on a replica built from `deps`. */
async function connect(era: Era, deps: Deps = replicaDeps(), capabilities: ClientCapabilities = SUITE_CAPABILITIES): Promise<Client> {
  return era === 'legacy' ? legacyClient(deps, capabilities) : modernClient(modernHandler(deps), capabilities);
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return client.callTool({ name, arguments: args });
}

function firstText(result: CallToolResult): string {
  const item = result.content[0];
  if (item?.type !== 'text') throw new Error(`expected text content, got ${JSON.stringify(result)}`);
  return item.text;
}

describe.each<Era>(['legacy', 'modern'])('conformance workload, %s era', (era) => {
  it('lists every tool the suite calls, each with a description and an object input schema', async () => {
    const { tools } = await (await connect(era)).listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(SUITE_TOOLS));
    for (const tool of tools) {
      expect(tool.description, tool.name).toBeTruthy();
      expect(tool.inputSchema.type, tool.name).toBe('object');
    }
  });

  it('advertises json_schema_2020_12_tool exactly as written, with the SEP-2106 keywords, and validates against it', async () => {
    const client = await connect(era);
    const tool = (await client.listTools()).tools.find((t) => t.name === 'json_schema_2020_12_tool');
    expect(tool?.inputSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      $defs: { address: { $anchor: 'addressDef', type: 'object' } },
      properties: { address: { $ref: '#/$defs/address' } },
      allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
      if: { required: ['contactMethod'] },
      then: { required: ['phone'] },
      else: { required: ['email'] },
      additionalProperties: false,
    });
    const ok = await call(client, 'json_schema_2020_12_tool', { name: 'Ada', email: 'ada@example.com', address: { city: 'London' } });
    expect(ok.isError).toBeFalsy();
    expect(firstText(ok)).toContain('London');
    expect((await call(client, 'json_schema_2020_12_tool', { name: 'Ada', email: 'a@b.c', extra: 1 })).isError).toBe(true);
    expect((await call(client, 'json_schema_2020_12_tool', { contactMethod: 'phone', email: 'a@b.c' })).isError).toBe(true);
  });

  it('declares the x-mcp-header of test_x_mcp_header in its schema', async () => {
    const tool = (await (await connect(era)).listTools()).tools.find((t) => t.name === 'test_x_mcp_header');
    expect(tool?.inputSchema.properties).toMatchObject({ region: { type: 'string', 'x-mcp-header': 'Region' } });
  });

  it('returns each content type', async () => {
    const client = await connect(era);
    expect(firstText(await call(client, 'test_simple_text'))).toBe('This is a simple text response for testing.');
    const image = (await call(client, 'test_image_content')).content[0];
    expect(image).toMatchObject({ type: 'image', mimeType: 'image/png' });
    expect(
      Buffer.from((image as { data: string }).data, 'base64')
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
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

  it('reports progress 0, 50 and 100 while running', async () => {
    const progress: number[] = [];
    await (await connect(era)).callTool({ name: 'test_tool_with_progress', arguments: {} }, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([0, 50, 100]);
  });

  it('samples through the client: its own request on a session, an input_required round on a stateless request', async () => {
    const client = await connect(era);
    let prompt: unknown;
    client.setRequestHandler('sampling/createMessage', (request) => {
      prompt = request.params.messages[0]?.content;
      return { role: 'assistant', model: 'm', content: { type: 'text', text: 'hello back' } };
    });
    expect(firstText(await call(client, 'test_sampling', { prompt: 'hello' }))).toBe('LLM response: hello back');
    expect(prompt).toEqual({ type: 'text', text: 'hello' });
  });

  it('elicits the contact form, the SEP-1034 defaults and the SEP-1330 enums', async () => {
    const client = await connect(era);
    const requests: ElicitRequest['params'][] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      requests.push(request.params);
      return { action: 'decline' };
    });
    expect(firstText(await call(client, 'test_elicitation', { message: 'Who are you?' }))).toBe('User response: action=decline, content={}');
    expect(firstText(await call(client, 'test_elicitation_sep1034_defaults'))).toBe('Elicitation completed: action=decline, content={}');
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

  it('serves the static, templated and watched resources', async () => {
    const client = await connect(era);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri).sort()).toEqual(['test://static-binary', 'test://static-text', 'test://watched-resource']);
    expect((await client.readResource({ uri: 'test://static-text' })).contents[0]).toEqual({
      uri: 'test://static-text',
      mimeType: 'text/plain',
      text: 'This is the content of the static text resource.',
    });
    expect((await client.readResource({ uri: 'test://static-binary' })).contents[0]).toMatchObject({ mimeType: 'image/png', blob: expect.any(String) });
    const templated = (await client.readResource({ uri: 'test://template/123/data' })).contents[0];
    expect(templated).toMatchObject({ uri: 'test://template/123/data', mimeType: 'application/json' });
    expect(JSON.parse((templated as { text: string }).text)).toEqual({ id: '123', templateTest: true, data: 'Data for ID: 123' });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['test://template/{id}/data']);
  });

  it('keeps the watched resource in shared state and announces its update to the fleet', async () => {
    const first = replicaDeps();
    const second = replicaDeps({ shared: first.shared, name: 'replica-b' });
    const update = await call(await connect(era, first), 'test_update_watched_resource');
    expect(firstText(update)).toBe('test://watched-resource is now at version 1; 1 subscribed session(s) notified.');
    expect(first.events.published).toEqual(['resource_updated test://watched-resource']);
    const read = await (await connect(era, second)).readResource({ uri: 'test://watched-resource' });
    expect(read.contents[0]).toMatchObject({ text: 'Watched resource content, version 1' });
  });

  it('announces tool and prompt list changes to the fleet', async () => {
    const deps = replicaDeps();
    const client = await connect(era, deps);
    await call(client, 'test_trigger_tool_change');
    await call(client, 'test_trigger_prompt_change');
    expect(deps.events.published).toEqual(['tools_list_changed', 'prompts_list_changed']);
  });

  it('serves the prompts, substituting arguments', async () => {
    const client = await connect(era);
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      'test_input_required_result_prompt',
      'test_prompt_with_arguments',
      'test_prompt_with_embedded_resource',
      'test_prompt_with_image',
      'test_simple_prompt',
    ]);
    for (const prompt of prompts) expect(prompt.description, prompt.name).toBeTruthy();
    const withArgs = await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'hello', arg2: 'world' } });
    expect(withArgs.messages[0]?.content).toEqual({ type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" });
    const embedded = await client.getPrompt({ name: 'test_prompt_with_embedded_resource', arguments: { resourceUri: 'test://example-resource' } });
    expect(embedded.messages[0]?.content).toMatchObject({ type: 'resource', resource: { uri: 'test://example-resource' } });
    const image = await client.getPrompt({ name: 'test_prompt_with_image' });
    expect(image.messages.map((m) => m.content.type)).toEqual(['image', 'text']);
  });

  it('completes prompt arguments and template variables by prefix', async () => {
    const client = await connect(era);
    const prompt = await client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } });
    expect(prompt.completion.values).toEqual(['paris', 'park', 'party']);
    const template = await client.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '1' } });
    expect(template.completion.values).toEqual(['1', '123']);
  });
});

describe('conformance workload, legacy era only', () => {
  it('sends three log messages while running, at the session log level', async () => {
    const client = await legacyClient(replicaDeps());
    const logs: unknown[] = [];
    client.setNotificationHandler('notifications/message', (n) => {
      logs.push(n.params.data);
    });
    await client.setLoggingLevel('debug');
    await call(client, 'test_tool_with_logging');
    expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed']);
  });

  it('answers an error result when the client cannot sample or elicit', async () => {
    const client = await legacyClient(replicaDeps(), {});
    expect((await call(client, 'test_sampling', { prompt: 'hello' })).isError).toBe(true);
    expect((await call(client, 'test_elicitation', { message: 'hello' })).isError).toBe(true);
  });

  it('completes the reconnection tool on its own stream when the transport cannot close it', async () => {
    expect(firstText(await call(await legacyClient(replicaDeps()), 'test_reconnection'))).toContain('original stream');
  });
});
