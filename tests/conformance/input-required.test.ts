import { afterEach, describe, expect, it } from 'vitest';
import { bindToMethod, createKeyRingCodec } from '../../src/request-state/key-ring.js';
import { closeAll, legacyClient, modernHandler, rawModern, replicaDeps } from './harness.js';

afterEach(closeAll);

const accept = (content: Record<string, string | number | boolean>) => ({ action: 'accept' as const, content });
const sampled = (text: string) => ({ role: 'assistant', model: 'test-model', content: { type: 'text', text } });
const ROOTS = { roots: [{ uri: 'file:///test/root', name: 'Test Root' }] };

function tool(name: string, extra: Record<string, unknown> = {}) {
  return { name, arguments: {}, ...extra };
}

function text(body: Record<string, any>): string {
  return body.result?.content?.[0]?.text;
}

describe('input_required fixtures on a 2026-07-28 request', () => {
  it('asks for the name without a requestState, and takes the answer from whichever call carries it', async () => {
    const handler = modernHandler(replicaDeps());
    const first = await rawModern(handler, 'tools/call', tool('test_input_required_result_elicitation'));
    expect(first.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { user_name: { method: 'elicitation/create' } } });
    expect(first.body.result.requestState).toBeUndefined();
    const answered = await rawModern(
      handler,
      'tools/call',
      tool('test_input_required_result_elicitation', { inputResponses: { user_name: accept({ name: 'Alice' }), unknown_extra_key: accept({ x: 1 }) } }),
    );
    expect(answered.body.result).toMatchObject({ resultType: 'complete' });
    expect(text(answered.body)).toBe('Hello, Alice!');
  });

  it('asks again when the answer is missing, of the wrong kind or malformed', async () => {
    const handler = modernHandler(replicaDeps());
    for (const inputResponses of [{ wrong_key: accept({ data: 'x' }) }, { user_name: sampled('Alice') }, { user_name: 12345 }]) {
      const retry = await rawModern(handler, 'tools/call', tool('test_input_required_result_elicitation', { inputResponses }));
      expect(retry.body.result?.resultType, JSON.stringify(inputResponses)).toBe('input_required');
    }
  });

  it('samples and lists roots in one round each', async () => {
    const handler = modernHandler(replicaDeps());
    const sampling = await rawModern(handler, 'tools/call', tool('test_input_required_result_sampling'));
    expect(sampling.body.result.inputRequests.capital_question).toMatchObject({
      method: 'sampling/createMessage',
      params: { maxTokens: 100, messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }] },
    });
    const sampledAnswer = await rawModern(
      handler,
      'tools/call',
      tool('test_input_required_result_sampling', { inputResponses: { capital_question: sampled('Paris.') } }),
    );
    expect(text(sampledAnswer.body)).toBe('The LLM said: Paris.');
    const roots = await rawModern(handler, 'tools/call', tool('test_input_required_result_list_roots'));
    expect(roots.body.result.inputRequests.client_roots).toMatchObject({ method: 'roots/list' });
    const listed = await rawModern(handler, 'tools/call', tool('test_input_required_result_list_roots', { inputResponses: { client_roots: ROOTS } }));
    expect(text(listed.body)).toBe('Client roots: file:///test/root');
  });

  it('completes a sealed round only with its requestState, on any replica holding the key, and refuses a tampered one', async () => {
    const replicaA = modernHandler(replicaDeps({ name: 'replica-a' }));
    const replicaB = modernHandler(replicaDeps({ name: 'replica-b' }));
    const name = 'test_input_required_result_request_state';
    const first = await rawModern(replicaA, 'tools/call', tool(name));
    const { requestState } = first.body.result;
    expect(typeof requestState).toBe('string');
    const inputResponses = { confirm: accept({ ok: true }) };

    const resumed = await rawModern(replicaB, 'tools/call', tool(name, { inputResponses, requestState }));
    expect(text(resumed.body)).toContain('state-ok');
    const withoutState = await rawModern(replicaB, 'tools/call', tool(name, { inputResponses }));
    expect(withoutState.body.result.resultType).toBe('input_required');

    const tampered = await rawModern(replicaB, 'tools/call', tool(name, { inputResponses, requestState: `${requestState}-TAMPERED` }));
    expect(tampered.body.error?.code).toBe(-32602);
    const otherKeys = replicaDeps();
    otherKeys.requestState = createKeyRingCodec({ keys: ['a-different-fleet-key-0123456789abcdef'], ttlSeconds: 60, bind: bindToMethod });
    const foreign = await rawModern(modernHandler(otherKeys), 'tools/call', tool(name, { inputResponses, requestState }));
    expect(foreign.body.error?.code).toBe(-32602);
  });

  it("does not take another fixture's sealed state as its own", async () => {
    const handler = modernHandler(replicaDeps());
    const first = await rawModern(handler, 'tools/call', tool('test_input_required_result_request_state'));
    const borrowed = await rawModern(
      handler,
      'tools/call',
      tool('test_input_required_result_tampered_state', { inputResponses: { confirm: accept({ ok: true }) }, requestState: first.body.result.requestState }),
    );
    expect(borrowed.body.result.resultType).toBe('input_required');
  });

  it('runs three rounds, remembering the first answer in an updated requestState', async () => {
    const handler = modernHandler(replicaDeps());
    const name = 'test_input_required_result_multi_round';
    const round1 = (await rawModern(handler, 'tools/call', tool(name))).body.result;
    expect(Object.keys(round1.inputRequests)).toEqual(['step1']);
    const round2 = (
      await rawModern(handler, 'tools/call', tool(name, { inputResponses: { step1: accept({ name: 'Alice' }) }, requestState: round1.requestState }))
    ).body.result;
    expect(Object.keys(round2.inputRequests)).toEqual(['step2']);
    expect(round2.requestState).not.toBe(round1.requestState);
    const round3 = await rawModern(
      handler,
      'tools/call',
      tool(name, { inputResponses: { step2: accept({ color: 'blue' }) }, requestState: round2.requestState }),
    );
    expect(text(round3.body)).toBe("Alice's favorite color is blue.");
  });

  it('asks for several inputs at once, and again only for the ones still missing', async () => {
    const handler = modernHandler(replicaDeps());
    const name = 'test_input_required_result_multiple_inputs';
    const round1 = (await rawModern(handler, 'tools/call', tool(name))).body.result;
    expect(Object.fromEntries(Object.entries(round1.inputRequests).map(([key, value]: [string, any]) => [key, value.method]))).toEqual({
      user_name: 'elicitation/create',
      greeting: 'sampling/createMessage',
      client_roots: 'roots/list',
    });
    const round2 = (
      await rawModern(
        handler,
        'tools/call',
        tool(name, { inputResponses: { user_name: accept({ name: 'Alice' }), client_roots: ROOTS }, requestState: round1.requestState }),
      )
    ).body.result;
    expect(Object.keys(round2.inputRequests)).toEqual(['greeting']);
    const done = await rawModern(handler, 'tools/call', tool(name, { inputResponses: { greeting: sampled('Hello') }, requestState: round2.requestState }));
    expect(text(done.body)).toBe('Hello Alice; roots: file:///test/root');
  });

  it('asks only for what the request declared it can answer', async () => {
    const handler = modernHandler(replicaDeps());
    const name = 'test_input_required_result_capabilities';
    const samplingOnly = await rawModern(handler, 'tools/call', tool(name), { sampling: {} });
    expect(Object.keys(samplingOnly.body.result.inputRequests)).toEqual(['greeting']);
    const nothing = await rawModern(handler, 'tools/call', tool(name), {});
    expect(nothing.body.result.resultType).toBe('complete');
  });

  it('asks for input from prompts/get too', async () => {
    const handler = modernHandler(replicaDeps());
    const first = await rawModern(handler, 'prompts/get', { name: 'test_input_required_result_prompt' });
    expect(first.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { user_context: { method: 'elicitation/create' } } });
    const done = await rawModern(handler, 'prompts/get', {
      name: 'test_input_required_result_prompt',
      inputResponses: { user_context: accept({ context: 'tests' }) },
    });
    expect(done.body.result.messages[0].content.text).toContain('tests');
  });

  it('refuses a tool that needs sampling with -32021 and HTTP 400 when the request did not declare it', async () => {
    const refused = await rawModern(modernHandler(replicaDeps()), 'tools/call', tool('test_missing_capability'), {});
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: -32021, data: { requiredCapabilities: { sampling: {} } } });
  });

  it('logs only when the request asked for a log level', async () => {
    const handler = modernHandler(replicaDeps());
    const quiet = await rawModern(handler, 'tools/call', tool('test_logging_tool'));
    expect(quiet.messages.filter((m) => m.method === 'notifications/message')).toEqual([]);
    const loud = await rawModern(handler, 'tools/call', tool('test_logging_tool', { _meta: { 'io.modelcontextprotocol/logLevel': 'info' } }));
    expect(loud.messages.filter((m) => m.method === 'notifications/message').map((m) => m.params.data)).toEqual(['test_logging_tool ran']);
  });
});

describe('input_required fixtures on a 2025 session', () => {
  it("are served by the SDK's shim: the client's own handlers answer each round", async () => {
    const client = await legacyClient(replicaDeps());
    const asked: string[] = [];
    client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params.message);
      return request.params.message.startsWith('Step 1') ? accept({ name: 'Alice' }) : accept({ color: 'blue' });
    });
    const result = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} });
    expect(asked).toEqual(['Step 1: What is your name?', 'Step 2: What is your favorite color?']);
    expect(result.content[0]).toEqual({ type: 'text', text: "Alice's favorite color is blue." });
  });
});
