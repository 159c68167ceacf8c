import type { McpServer } from '@modelcontextprotocol/server';
import type { Workload, WorkloadContext } from './types.js';
import { registerContentTools } from './conformance/content-tools.js';
import { registerDiagnosticTools } from './conformance/diagnostic-tools.js';
import { registerInputRequiredFixtures } from './conformance/input-required-fixtures.js';
import { registerInteractionTools } from './conformance/interaction-tools.js';
import { registerConformancePrompts } from './conformance/prompts.js';
import { registerProtocolTools } from './conformance/protocol-tools.js';
import { registerConformanceResources } from './conformance/resources.js';
import { CONFORMANCE_TASK_TOOLS, registerTaskScenarioTools } from './conformance/task-fixtures.js';

/**
 * The fixtures of the official MCP conformance suite (@modelcontextprotocol/conformance, server
 * scenarios of revisions 2025-11-25 and 2026-07-28): its tools, resources and prompts under the
 * names it calls. One registration serves both eras: whatever needs the client's input returns
 * input_required (the SDK turns it into server-to-client requests on a 2025 session). Nothing is
 * kept in the process: the version of test://watched-resource lives in the fleet's shared state,
 * what a multi round-trip request remembers in its sealed requestState, and change events go
 * through the fleet's events to every replica.
 *
 * The server it is registered on must declare `logging`, `resources.subscribe` and the
 * `listChanged` capabilities (src/server/mcp-server-factory.ts does); `tools`, `resources`,
 * `prompts` and `completions` follow from the registrations below.
 */
export const conformanceWorkload: Workload = {
  name: 'conformance',
  instructions:
    'Fixtures for the MCP conformance suite: test_* tools, test:// resources and test_* prompts. ' +
    'Call test_update_watched_resource to change test://watched-resource and notify its subscribers.',
  register(server: McpServer, ctx: WorkloadContext): void {
    registerContentTools(server);
    registerInteractionTools(server, ctx);
    registerProtocolTools(server, ctx);
    registerInputRequiredFixtures(server, ctx);
    registerDiagnosticTools(server, ctx);
    registerConformanceResources(server, ctx);
    registerConformancePrompts(server);
    registerTaskScenarioTools(server);
  },
  taskTools: CONFORMANCE_TASK_TOOLS,
};
