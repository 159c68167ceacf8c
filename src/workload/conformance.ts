import type { McpServer } from "@modelcontextprotocol/server";
import type { Workload, WorkloadContext } from './types.js';
import { registerContentTools } from './conformance/content-tools.js';
import { registerInteractionTools } from './conformance/interaction-tools.js';
import { registerConformancePrompts } from './conformance/prompts.js';
import { registerProtocolTools } from './conformance/protocol-tools.js';
import { registerConformanceResources } from './conformance/resources.js';

/**
 * The fixtures of the official MCP conformance suite (@modelcontextprotocol/conformance, server
 * scenarios): its tools, resources and prompts under the names it calls. Everything is registered
 * per session and nothing is kept in the process; the only state (the version of
 * test://watched-resource) lives in the fleet's shared state.
 *
 * The server it is registered on must declare the `logging` capability (logging/setLevel) and
 * `resources.subscribe` (answered by the fleet runtime); `tools`, `resources`, `prompts` and
 * `completions` are declared by the registrations below.
 */
export const conformanceWorkload: Workload = {
  name: 'conformance',
  instructions:
    'Fixtures for the MCP conformance suite: test_* tools, test:// resources and test_* prompts. ' +
    'Call test_update_watched_resource to change test://watched-resource and notify its subscribers.',
  register(server: McpServer, ctx: WorkloadContext): void {
    registerContentTools(server);
    registerInteractionTools(server);
    registerProtocolTools(server, ctx);
    registerConformanceResources(server, ctx);
    registerConformancePrompts(server);
  },
};
