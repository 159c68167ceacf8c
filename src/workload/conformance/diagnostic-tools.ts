import { inputRequired } from '@modelcontextprotocol/server';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { WorkloadContext } from '../types.js';
import { describeElicitation } from './elicitation.js';
import { answer, askOnce, sampledText } from './input-rounds.js';
import { textResult } from './results.js';
import { sharedSchema } from '../shared-schema.js';

// Built once per process and shared by every server instance (see reference.ts).
const REGION_SCHEMA = sharedSchema(z.object({ region: z.string().describe('Any region name').meta({ 'x-mcp-header': 'Region' }) }));

/**
 * The probes of the 2026-07-28 stateless and header scenarios: a tool that needs a capability the
 * client may not have declared, one that asks for input while its response stream is watched, one
 * that logs (seen only at a requested log level), hooks that announce a change of the tool and
 * prompt lists to every listener of the fleet, and a tool with an argument mirrored in a header.
 */
export function registerDiagnosticTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'test_missing_capability',
    { title: 'Needs sampling', description: 'Needs the client to sample; refused (-32021) when the request did not declare sampling' },
    (request) =>
      askOnce(
        ctx,
        request,
        'test_missing_capability',
        inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say anything' } }], maxTokens: 20 }),
        (retry) => {
          const reply = sampledText(retry, 'test_missing_capability');
          return reply === undefined ? undefined : textResult(`Sampled: ${reply}`);
        },
      ),
  );

  server.registerTool(
    'test_streaming_elicitation',
    { title: 'Asks on its response stream', description: 'Asks for input with an input_required result, never with a request on the stream' },
    (request) =>
      askOnce(
        ctx,
        request,
        'test_streaming_elicitation',
        inputRequired.elicit({ message: 'Anything to add?', requestedSchema: { type: 'object', properties: { note: { type: 'string' } } } }),
        (retry) => {
          const view = answer(retry, 'test_streaming_elicitation');
          return view.kind === 'elicit' ? textResult(`Elicitation: ${describeElicitation(view)}`) : undefined;
        },
      ),
  );

  server.registerTool(
    'test_logging_tool',
    { title: 'Logs once', description: 'Sends one info log message, delivered only at a log level the request (or session) asked for' },
    async (request) => {
      await request.mcpReq.log('info', 'test_logging_tool ran', 'conformance');
      return textResult('Logged one info message.');
    },
  );

  const announcers = [
    ['test_trigger_tool_change', 'tools', () => ctx.events.toolsChanged()],
    ['test_trigger_prompt_change', 'prompts', () => ctx.events.promptsChanged()],
  ] as const;
  for (const [name, list, announce] of announcers) {
    server.registerTool(
      name,
      { title: `Announce a ${list} list change`, description: `Sends notifications/${list}/list_changed to every listener on every replica` },
      async () => {
        await announce();
        return textResult(`Announced a ${list} list change.`);
      },
    );
  }

  server.registerTool(
    'test_x_mcp_header',
    {
      title: 'Argument mirrored in a header',
      description: 'Its region argument is mirrored in the Mcp-Param-Region header, which the server checks against the body',
      inputSchema: REGION_SCHEMA,
    },
    ({ region }) => textResult(`region=${region}`),
  );
}
