import { CreateMessageResultSchema, ElicitResultSchema } from "@modelcontextprotocol/core";
import type { McpServer, CallToolResult } from "@modelcontextprotocol/server";
import { z } from 'zod';
import { CONTACT_FORM, DEFAULTS_FORM, ENUMS_FORM, describeElicitation, type RequestedSchema } from './elicitation.js';
import { errorResult, textResult, type Extra } from './results.js';

/**
 * True when the client told us at initialize that it lacks `capability`. When the capabilities are
 * unknown (a server rebuilt without them) the request is simply tried: the client answers an error
 * if it cannot serve it.
 */
function clientLacks(server: McpServer, capability: 'sampling' | 'elicitation'): boolean {
  const capabilities = server.server.getClientCapabilities();
  return capabilities !== undefined && capabilities[capability] === undefined;
}

async function elicit(
  server: McpServer,
  extra: Extra,
  message: string,
  requestedSchema: RequestedSchema,
  label: string,
): Promise<CallToolResult> {
  if (clientLacks(server, 'elicitation')) return errorResult('The client does not support elicitation');
  const result = await extra.mcpReq.send(
    { method: 'elicitation/create', params: { message, requestedSchema } },
    ElicitResultSchema,
  );
  return textResult(`${label}: ${describeElicitation(result)}`);
}

/** Tools that call back into the client: sampling and elicitation (SEP-1034 defaults, SEP-1330 enums). */
export function registerInteractionTools(server: McpServer): void {
  server.registerTool(
    'test_sampling',
    {
      title: 'Sampling',
      description: 'Asks the client to sample an LLM completion for the prompt (sampling/createMessage)',
      inputSchema: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
    },
    async ({ prompt }, ctx) => {
      if (clientLacks(server, 'sampling')) return errorResult('The client does not support sampling');
      const result = await ctx.mcpReq.send(
        {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
        },
        CreateMessageResultSchema,
      );
      const reply = result.content.type === 'text' ? result.content.text : `[${result.content.type} content]`;
      return textResult(`LLM response: ${reply}`);
    },
  );

  server.registerTool(
    'test_elicitation',
    {
      title: 'Elicitation',
      description: 'Asks the user for a username and email address (elicitation/create)',
      inputSchema: z.object({ message: z.string().describe('The message to show the user') }),
    },
    ({ message }, ctx) => elicit(server, ctx, message, CONTACT_FORM, 'User response'),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    {
      title: 'Elicitation with defaults',
      description: 'Asks the user to fill in a form whose string, integer, number, enum and boolean fields have defaults (SEP-1034)',
    },
    (extra) =>
      elicit(server, extra, 'Please review and update the form fields', DEFAULTS_FORM, 'Elicitation completed'),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    {
      title: 'Elicitation with enums',
      description: 'Asks the user to choose from single- and multi-select enums, titled and untitled (SEP-1330)',
    },
    (extra) => elicit(server, extra, 'Please select options from the enum fields', ENUMS_FORM, 'Elicitation completed'),
  );
}
