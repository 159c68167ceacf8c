#!/usr/bin/env node
// `mcp-fleet-client ...`: the same as `mcp-fleet client ...`.
import { runBuilt } from './build-on-demand.mjs';

await runBuilt('mcp-fleet-client', 'client/cli.js');
