#!/usr/bin/env node
// The server `npm start` and the image run: the workload MCP_WORKLOAD names, with every setting from the environment.
import { runFleetServer } from './run/run-fleet-server.js';

runFleetServer().catch((error: unknown) => {
  process.stderr.write(`mcp-fleet: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
