// The tools of this MCP server, on the MCP TypeScript SDK v2's own API. mcp-fleet serves them from
// every replica, to 2025 sessions and 2026-07-28 requests alike:
//   mcp-fleet serve --workload ./dist/tools.js
import { inputRequired, inputResponse, ResourceTemplate, type CallToolResult, type InputRequiredResult } from '@modelcontextprotocol/server';
import { defineWorkload, sharedSchema } from 'mcp-fleet';
import { z } from 'zod';

const text = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value) }] });

// Built once per process: register() runs for every session and every modern request.
const GREET = sharedSchema(z.object({ name: z.string().max(100) }));
const VOTE = sharedSchema(z.object({ option: z.string().regex(/^[a-z0-9-]{1,32}$/) }));
const TALLY = new ResourceTemplate('votes://{option}', { list: undefined });
const votesKey = (option: string) => `votes:${option}`;
const votesUri = (option: string) => `votes://${option}`;

export default defineWorkload({
  name: 'my-tools',
  instructions: 'Example tools: greet, vote (a fleet-wide tally, resource votes://{option}), reset-votes (asks the user first).',
  register(server, ctx) {
    // A plain tool.
    server.registerTool('greet', { description: 'Greets someone; says which replica answered.', inputSchema: GREET }, async ({ name }) =>
      text({ greeting: `Hello, ${name}!`, replica: ctx.replicaName }),
    );

    // Fleet-wide state: ctx.shared is Redis when the fleet runs on Redis, so every replica counts
    // the same votes. The update reaches subscribers of votes://{option} on every replica.
    server.registerTool('vote', { description: 'Adds a vote for `option` and notifies subscribers of votes://{option}.', inputSchema: VOTE }, async ({ option }) => {
      const votes = await ctx.shared.increment(votesKey(option));
      await ctx.events.resourceUpdated(votesUri(option));
      return text({ option, votes, replica: ctx.replicaName });
    });

    server.registerResource('votes', TALLY, { description: 'The votes for one option.', mimeType: 'application/json' }, async (uri, { option }) => {
      const votes = Number((await ctx.shared.get(votesKey(String(option)))) ?? '0');
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ option: String(option), votes }) }] };
    });

    // Client input, written once for both eras: a 2026-07-28 client answers input_required and
    // retries, on any replica (the requestState is sealed with the fleet's keys); for a 2025
    // session the SDK sends the elicitation to the client and calls this handler again.
    server.registerTool(
      'reset-votes',
      { description: 'Sets the votes for `option` to zero, once the user confirms.', inputSchema: VOTE },
      async ({ option }, request): Promise<CallToolResult | InputRequiredResult> => {
        const asked = request.mcpReq.requestState<{ option?: string }>()?.option === option;
        const answer = inputResponse(request.mcpReq.inputResponses, 'confirm');
        if (!asked || answer.kind !== 'elicit') {
          return inputRequired({
            inputRequests: {
              confirm: inputRequired.elicit({
                message: `Reset the votes for ${option}?`,
                requestedSchema: { type: 'object', properties: { reason: { type: 'string', title: 'Why?' } } },
              }),
            },
            requestState: await ctx.requestState.mint({ option }, request),
          });
        }
        const confirmed = answer.action === 'accept';
        if (confirmed) {
          await ctx.shared.set(votesKey(option), '0');
          await ctx.events.resourceUpdated(votesUri(option));
        }
        return text({ option, reset: confirmed, replica: ctx.replicaName });
      },
    );
  },
});
