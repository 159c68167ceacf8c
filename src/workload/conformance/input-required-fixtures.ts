import { inputRequired } from '@modelcontextprotocol/server';
import type { CallToolResult, InputRequest, InputRequests, InputRequiredResult, McpServer } from '@modelcontextprotocol/server';
import type { WorkloadContext } from '../types.js';
import { acceptedText, answer, ask, declaredCapabilities, recall, rootUris, sampledText } from './input-rounds.js';
import { textResult } from './results.js';

const textField = (name: string) => ({ type: 'object' as const, properties: { [name]: { type: 'string' as const } }, required: [name] });

const QUESTIONS = {
  name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: textField('name') }),
  capital: inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
    maxTokens: 100,
  }),
  greeting: inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
    maxTokens: 50,
  }),
  roots: inputRequired.listRoots(),
  confirm: inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  }),
  step1: inputRequired.elicit({ message: 'Step 1: What is your name?', requestedSchema: textField('name') }),
  step2: inputRequired.elicit({ message: 'Step 2: What is your favorite color?', requestedSchema: textField('color') }),
  context: inputRequired.elicit({ message: 'What context should the prompt use?', requestedSchema: textField('context') }),
} satisfies Record<string, InputRequest>;

type Outcome = CallToolResult | InputRequiredResult;

/** The ephemeral flow: no requestState, so the answer is taken from whichever call carries it. */
function registerEphemeralTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'test_input_required_result_elicitation',
    { title: 'Input required: elicitation', description: 'Asks for the user\'s name (key "user_name") and greets them' },
    async (request): Promise<Outcome> => {
      const name = acceptedText(request, 'user_name', 'name');
      return name === undefined ? ask(ctx, request, { user_name: QUESTIONS.name }) : textResult(`Hello, ${name}!`);
    },
  );

  server.registerTool(
    'test_input_required_result_sampling',
    { title: 'Input required: sampling', description: 'Asks the client\'s LLM for the capital of France (key "capital_question")' },
    async (request): Promise<Outcome> => {
      const reply = sampledText(request, 'capital_question');
      return reply === undefined ? ask(ctx, request, { capital_question: QUESTIONS.capital }) : textResult(`The LLM said: ${reply}`);
    },
  );

  server.registerTool(
    'test_input_required_result_list_roots',
    { title: 'Input required: roots', description: 'Asks for the client\'s roots (key "client_roots") and lists them' },
    async (request): Promise<Outcome> => {
      const roots = rootUris(request, 'client_roots');
      return roots === undefined ? ask(ctx, request, { client_roots: QUESTIONS.roots }) : textResult(`Client roots: ${roots.join(', ') || '(none)'}`);
    },
  );

  server.registerTool(
    'test_input_required_result_capabilities',
    {
      title: 'Input required: declared capabilities only',
      description: 'Asks only for the kinds of input the client declared (elicitation, sampling, roots)',
    },
    async (request): Promise<Outcome> => {
      const answered = ['user_name', 'greeting', 'client_roots'].filter((key) => answer(request, key).kind !== 'missing');
      if (answered.length > 0) return textResult(`Received: ${answered.join(', ')}`);
      const declared = declaredCapabilities(server, ctx, request);
      const questions: InputRequests = {
        ...(declared.elicitation ? { user_name: QUESTIONS.name } : {}),
        ...(declared.sampling ? { greeting: QUESTIONS.greeting } : {}),
        ...(declared.roots ? { client_roots: QUESTIONS.roots } : {}),
      };
      if (Object.keys(questions).length === 0) return textResult('The client declared no capability to ask it anything with.');
      return ask(ctx, request, questions);
    },
  );
}

interface Gathered {
  name?: string;
  greeting?: string;
  roots?: string[];
}

/** Flows whose rounds depend on the earlier ones: the state is sealed, and a retry without it starts over. */
function registerStatefulTools(server: McpServer, ctx: WorkloadContext): void {
  for (const tool of ['test_input_required_result_request_state', 'test_input_required_result_tampered_state']) {
    server.registerTool(
      tool,
      {
        title: 'Input required: sealed requestState',
        description: 'Asks for confirmation in a round whose requestState is HMAC-sealed; a tampered state is refused',
      },
      async (request): Promise<Outcome> => {
        const view = answer(request, 'confirm');
        if (recall(request, tool) === undefined || view.kind !== 'elicit') {
          return ask(ctx, request, { confirm: QUESTIONS.confirm }, { owner: tool, memory: {} });
        }
        return textResult(`state-ok: the sealed requestState verified; confirmation ${view.action} ${JSON.stringify(view.content ?? {})}`);
      },
    );
  }

  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { title: 'Input required: several inputs', description: 'Asks for a name, a sampled greeting and the roots in one round' },
    async (request): Promise<Outcome> => {
      const tool = 'test_input_required_result_multiple_inputs';
      const earlier = recall<Gathered>(request, tool);
      const gathered: Gathered = { ...earlier };
      if (earlier !== undefined) {
        gathered.name ??= acceptedText(request, 'user_name', 'name');
        gathered.greeting ??= sampledText(request, 'greeting');
        gathered.roots ??= rootUris(request, 'client_roots');
      }
      const missing: InputRequests = {
        ...(gathered.name === undefined ? { user_name: QUESTIONS.name } : {}),
        ...(gathered.greeting === undefined ? { greeting: QUESTIONS.greeting } : {}),
        ...(gathered.roots === undefined ? { client_roots: QUESTIONS.roots } : {}),
      };
      if (Object.keys(missing).length > 0) return ask(ctx, request, missing, { owner: tool, memory: gathered });
      return textResult(`${gathered.greeting} ${gathered.name}; roots: ${gathered.roots?.join(', ') || '(none)'}`);
    },
  );

  server.registerTool(
    'test_input_required_result_multi_round',
    { title: 'Input required: two rounds', description: 'Asks for a name, then (remembering it in the requestState) for a colour' },
    async (request): Promise<Outcome> => {
      const tool = 'test_input_required_result_multi_round';
      const earlier = recall<{ name?: string }>(request, tool);
      const name = earlier?.name ?? (earlier === undefined ? undefined : acceptedText(request, 'step1', 'name'));
      if (name === undefined) return ask(ctx, request, { step1: QUESTIONS.step1 }, { owner: tool, memory: {} });
      const color = earlier?.name === undefined ? undefined : acceptedText(request, 'step2', 'color');
      if (color === undefined) return ask(ctx, request, { step2: QUESTIONS.step2 }, { owner: tool, memory: { name } });
      return textResult(`${name}'s favorite color is ${color}.`);
    },
  );
}

/** input_required is not only for tools: a prompt that needs a piece of context from the user. */
function registerInputRequiredPrompt(server: McpServer, ctx: WorkloadContext): void {
  server.registerPrompt(
    'test_input_required_result_prompt',
    { title: 'Input required: prompt', description: 'Asks the user for the context (key "user_context") the prompt is built on' },
    async (request) => {
      const context = acceptedText(request, 'user_context', 'context');
      if (context === undefined) return ask(ctx, request, { user_context: QUESTIONS.context });
      return { messages: [{ role: 'user', content: { type: 'text', text: `Answer with this context in mind: ${context}` } }] };
    },
  );
}

/** The fixtures of the 2026-07-28 input_required (multi round-trip) scenarios; on 2025 sessions the SDK's shim serves them. */
export function registerInputRequiredFixtures(server: McpServer, ctx: WorkloadContext): void {
  registerEphemeralTools(server, ctx);
  registerStatefulTools(server, ctx);
  registerInputRequiredPrompt(server, ctx);
}
