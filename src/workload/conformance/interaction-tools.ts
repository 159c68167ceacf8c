import { inputRequired } from '@modelcontextprotocol/server';
import type { McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { WorkloadContext } from '../types.js';
import { CONTACT_FORM, DEFAULTS_FORM, ENUMS_FORM, describeElicitation, type RequestedSchema } from './elicitation.js';
import { answer, askOnce, sampledText } from './input-rounds.js';
import { textResult } from './results.js';
import { sharedSchema } from '../shared-schema.js';

// Built once per process and shared by every server instance (see reference.ts).
const SAMPLING_SCHEMA = sharedSchema(z.object({ prompt: z.string().describe('The prompt to send to the LLM') }));
const ELICITATION_SCHEMA = sharedSchema(z.object({ message: z.string().describe('The message to show the user') }));

function elicitOnce(ctx: WorkloadContext, request: ServerContext, tool: string, message: string, requestedSchema: RequestedSchema, label: string) {
  return askOnce(ctx, request, tool, inputRequired.elicit({ message, requestedSchema }), (retry) => {
    const view = answer(retry, tool);
    return view.kind === 'elicit' ? textResult(`${label}: ${describeElicitation(view)}`) : undefined;
  });
}

/** The 2025-era tools that need the client: sampling and elicitation (SEP-1034 defaults, SEP-1330 enums). */
export function registerInteractionTools(server: McpServer, ctx: WorkloadContext): void {
  server.registerTool(
    'test_sampling',
    {
      title: 'Sampling',
      description: 'Asks the client to sample an LLM completion for the prompt (sampling/createMessage)',
      inputSchema: SAMPLING_SCHEMA,
    },
    ({ prompt }, request) =>
      askOnce(
        ctx,
        request,
        'test_sampling',
        inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }),
        (retry) => {
          const reply = sampledText(retry, 'test_sampling');
          return reply === undefined ? undefined : textResult(`LLM response: ${reply}`);
        },
      ),
  );

  server.registerTool(
    'test_elicitation',
    {
      title: 'Elicitation',
      description: 'Asks the user for a username and email address (elicitation/create)',
      inputSchema: ELICITATION_SCHEMA,
    },
    ({ message }, request) => elicitOnce(ctx, request, 'test_elicitation', message, CONTACT_FORM, 'User response'),
  );

  server.registerTool(
    'test_elicitation_sep1034_defaults',
    {
      title: 'Elicitation with defaults',
      description: 'Asks the user to fill in a form whose string, integer, number, enum and boolean fields have defaults (SEP-1034)',
    },
    (request) =>
      elicitOnce(ctx, request, 'test_elicitation_sep1034_defaults', 'Please review and update the form fields', DEFAULTS_FORM, 'Elicitation completed'),
  );

  server.registerTool(
    'test_elicitation_sep1330_enums',
    {
      title: 'Elicitation with enums',
      description: 'Asks the user to choose from single- and multi-select enums, titled and untitled (SEP-1330)',
    },
    (request) => elicitOnce(ctx, request, 'test_elicitation_sep1330_enums', 'Please select options from the enum fields', ENUMS_FORM, 'Elicitation completed'),
  );
}
