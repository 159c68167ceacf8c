import type { JSONRPCRequest, ListToolsResult, McpServer, Result, ServerContext } from '@modelcontextprotocol/server';
import type { Workload } from '../workload/types.js';
import type { ScopePolicy } from './scopes.js';

type StoredHandler = (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>;

/**
 * The workload, with tools/list showing each caller only the tools its token's scopes let it call.
 * The SDK's own tools/list handler (registration order, schema conversion) still builds the list:
 * it is looked up and wrapped, since McpServer offers no public filter.
 */
export function withToolVisibility(workload: Workload, policy: ScopePolicy): Workload {
  return {
    ...workload,
    register(server, ctx) {
      workload.register(server, ctx);
      const listTools = storedHandler(server, 'tools/list');
      if (listTools === undefined) return;
      server.server.setRequestHandler('tools/list', async (request, handlerCtx) => {
        const result = (await listTools(request as unknown as JSONRPCRequest, handlerCtx)) as ListToolsResult;
        const granted = handlerCtx.http?.authInfo?.scopes ?? [];
        const tools = result.tools.filter((tool) => policy.allowsTool(tool.name, granted));
        // The list differs by caller: no shared cache may hand one caller's list to another.
        return ctx.era === 'modern' ? { ...result, tools, cacheScope: 'private' } : { ...result, tools };
      });
    },
  };
}

function storedHandler(server: McpServer, method: string): StoredHandler | undefined {
  const lookup = (server.server as unknown as { _getRequestHandler?: (method: string) => StoredHandler | undefined })._getRequestHandler;
  if (typeof lookup !== 'function') throw new Error('this SDK version offers no request handler lookup: per-tool scopes cannot filter tools/list');
  return lookup.call(server.server, method);
}
